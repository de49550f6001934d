"""Second factors: passkeys, authenticator apps (TOTP) and recovery codes, in the session lifecycle.

The map:

- ``models.py``: ``Authenticator`` (one per account, its secret encrypted),
  ``Passkey`` (several per account, public keys only) and ``RecoveryCode`` (the
  SHA-256 of each unused code).
- ``secret_box.py``: the encryption of authenticator secrets, with keys derived from
  ``SECRET_KEY`` and its fallbacks.
- ``totp.py``: codes, the QR code as inline SVG, and the once-only use of each code.
- ``passkeys.py``: WebAuthn registration and assertions, with single-use challenges and
  the relying party from the config.
- ``recovery_codes.py``: ten single-use codes, made with the first factor and used.
- ``pending.py``: the half-signed-in state between the password and the second factor.
- ``views.py``, ``forms.py``: the second-factor step of sign-in, sign-in with a passkey
  alone, re-authentication by code or passkey, and the account page that adds and
  removes factors and renews the codes (static/passkeys.js runs the browser's side).

Where the second factor sits in the session lifecycle: the password no longer signs
in an account that has one; it starts the half-signed-in state (``begin_sign_in``),
which grants nothing. The sign-in, with its new session id, starts only after the
code or passkey (``sign_ins.sign_in(..., second_factor=...)``), and its row records
which factor was used. A passkey alone (with user verification) is both factors. A
remember cookie restores only such a sign-in (app/sign_ins.py ``_restore``).
Removing a factor ends every other sign-in.

The functions below are the hooks the rest of the app calls.
"""

from flask import redirect, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from .. import security_log
from ..extensions import db
from . import passkeys, pending, recovery_codes, totp
from .models import Authenticator, Passkey, RecoveryCode

FACTOR_LABELS = {
    "passkey": _l("Passkey"),
    "totp": _l("Authenticator app"),
    "recovery_code": _l("Recovery code"),
}

EVENT_LABELS = {
    "second_factor_pending": _l("Password accepted; waiting for the second factor"),
    "second_factor_failed": _l("Wrong code at the second factor"),
    "second_factor_added": _l("Authenticator app added"),
    "second_factor_removed": _l("Authenticator app removed; every other session signed out"),
    "passkey_added": _l("Passkey added"),
    "passkey_removed": _l("Passkey removed; every other session signed out"),
    "recovery_codes_regenerated": _l("New recovery codes made"),
    "recovery_code_used": _l("Recovery code used"),
    "second_factors_reset": _l("Second factors reset by an operator; every session signed out"),
}


def enabled_for(user_id):
    """True if the account has a second factor: an authenticator app or a passkey."""
    has_app = select(Authenticator.user_id).where(Authenticator.user_id == user_id)
    has_passkey = select(Passkey.user_id).where(Passkey.user_id == user_id)
    return db.session.scalar(has_app.union_all(has_passkey).limit(1)) is not None


def begin_sign_in(user, remember, password_version, next_path):
    """The password was right: start the half-signed-in state and ask for the code."""
    pending.begin(user, remember, password_version, next_path)
    security_log.record("second_factor_pending", user_id=user.id)
    return redirect(url_for("second_factors.step"), 303)


def use_code(user_id, typed, commit=True):
    """Check ``typed`` against the account's factors and use it up.

    Returns the factor it matched (``"totp"`` or ``"recovery_code"``) or ``None``.
    With ``commit=False`` the use waits for the caller: its commit, then
    ``code_used(user_id, factor)``, or its rollback, which leaves the code unused.
    """
    if recovery_codes.looks_like_one(typed):
        factor = "recovery_code" if recovery_codes.use(user_id, typed) else None
    else:
        authenticator = db.session.get(Authenticator, user_id)
        factor = "totp" if authenticator is not None and totp.use_code(authenticator, typed) else None
    if commit:
        db.session.commit()
        code_used(user_id, factor)
    return factor


def code_used(user_id, factor):
    """Record a committed use of a recovery code (how many are left) in the security log."""
    if factor == "recovery_code":
        security_log.record("recovery_code_used", user_id=user_id, left=recovery_codes.remaining(user_id))


def first_recovery_codes(user_id):
    """Recovery codes for an account that just got its first factor; ``None`` if it has some."""
    return None if recovery_codes.remaining(user_id) else recovery_codes.replace_all(user_id)


def forget_codes_without_factors(user_id):
    """After a factor is removed: with none left, the recovery codes go too (the caller commits)."""
    if not enabled_for(user_id):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def remove_all(user_id):
    """Delete the account's authenticator, passkeys and recovery codes (the caller commits)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(delete(Authenticator).where(Authenticator.user_id == user_id))
    db.session.execute(delete(Passkey).where(Passkey.user_id == user_id))


def forget_account(user_id):
    """Account deletion: the factors go with it (the caller commits)."""
    remove_all(user_id)


def export(user):
    """The data export's part: which factors exist and when they were added, never a secret or key."""
    authenticator = db.session.get(Authenticator, user.id)
    return {
        "authenticator_app_added_at": authenticator.created_at.isoformat(timespec="seconds") if authenticator else None,
        "recovery_codes_left": recovery_codes.remaining(user.id),
        "passkeys": [
            {
                "name": passkey.name,
                "added_at": passkey.created_at.isoformat(timespec="seconds"),
                "last_used_at": passkey.last_used_at.isoformat(timespec="seconds") if passkey.last_used_at else None,
            }
            for passkey in passkeys.of_user(user.id)
        ],
    }
