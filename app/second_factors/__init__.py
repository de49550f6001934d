"""Second factors: authenticator apps (TOTP) and recovery codes, in the session lifecycle.

The map:

- ``models.py``: ``Authenticator`` (one per account, its secret encrypted) and
  ``RecoveryCode`` (the SHA-256 of each unused code).
- ``secret_box.py``: the encryption of authenticator secrets, with keys derived from
  ``SECRET_KEY`` and its fallbacks.
- ``totp.py``: codes, the QR code as inline SVG, and the once-only use of each code.
- ``recovery_codes.py``: ten single-use codes, made and used.
- ``pending.py``: the half-signed-in state between the password and the second factor.
- ``views.py``, ``forms.py``: the second-factor step of sign-in, re-authentication by
  code, and the account page that adds and removes the app and renews the codes.

Where the second factor sits in the session lifecycle: the password no longer signs
in an account that has one; it starts the half-signed-in state (``begin_sign_in``),
which grants nothing. The sign-in, with its new session id, starts only after the
code (``sign_ins.sign_in(..., second_factor=...)``), and its row records which factor
was used. A remember cookie restores only such a sign-in (app/sign_ins.py
``_restore``). Removing the factor ends every other sign-in.

The functions below are the hooks the rest of the app calls.
"""

from flask import redirect, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from .. import security_log
from ..extensions import db
from . import pending, recovery_codes, totp
from .models import Authenticator, RecoveryCode

FACTOR_LABELS = {
    "totp": _l("Authenticator app"),
    "recovery_code": _l("Recovery code"),
}

EVENT_LABELS = {
    "second_factor_pending": _l("Password accepted; waiting for the second factor"),
    "second_factor_failed": _l("Wrong code at the second factor"),
    "second_factor_added": _l("Authenticator app added"),
    "second_factor_removed": _l("Authenticator app removed; every other session signed out"),
    "recovery_codes_regenerated": _l("New recovery codes made"),
    "recovery_code_used": _l("Recovery code used"),
    "second_factors_reset": _l("Second factors reset by an operator; every session signed out"),
}


def enabled_for(user_id):
    """True if the account has a second factor."""
    return db.session.scalar(select(Authenticator.user_id).where(Authenticator.user_id == user_id)) is not None


def begin_sign_in(user, remember, password_version, next_path):
    """The password was right: start the half-signed-in state and ask for the code."""
    pending.begin(user, remember, password_version, next_path)
    security_log.record("second_factor_pending", user_id=user.id)
    return redirect(url_for("second_factors.step"), 303)


def use_code(user_id, typed):
    """Check ``typed`` against the account's factors and use it up.

    Returns the factor it matched (``"totp"`` or ``"recovery_code"``) or ``None``.
    """
    authenticator = db.session.get(Authenticator, user_id)
    if authenticator is None:
        return None
    if recovery_codes.looks_like_one(typed):
        factor = "recovery_code" if recovery_codes.use(user_id, typed) else None
    else:
        factor = "totp" if totp.use_code(authenticator, typed) else None
    db.session.commit()
    if factor == "recovery_code":
        security_log.record("recovery_code_used", user_id=user_id, left=recovery_codes.remaining(user_id))
    return factor


def remove_all(user_id):
    """Delete the account's authenticator and recovery codes (the caller commits)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(delete(Authenticator).where(Authenticator.user_id == user_id))


def forget_account(user_id):
    """Account deletion: the factors go with it (the caller commits)."""
    remove_all(user_id)


def export(user):
    """The data export's part: which factors exist and when they were added, never a secret."""
    authenticator = db.session.get(Authenticator, user.id)
    return {
        "authenticator_app_added_at": authenticator.created_at.isoformat(timespec="seconds") if authenticator else None,
        "recovery_codes_left": recovery_codes.remaining(user.id),
    }
