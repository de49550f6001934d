"""Re-authentication ("sudo mode") before sensitive actions.

Threat: someone at a signed-in browser left unattended, or holding a stolen session
cookie, changes the password, ends the owner's other sessions or deletes the
account, locking the owner out. These actions need the password to have been
typed within ``REAUTH_WINDOW`` (10 minutes). A sign-in restored from a remember
cookie has never typed it, so it always has to. Where the account has second
factors, a code or a passkey confirms it as well (app/second_factors/views.py);
``mark_password_confirmed`` then records that confirmation under the same key.

Changes to how the account is signed in to or got back (its second factors, its email
address) ask for more (OWASP ASVS 5.0, 7.5.1: full re-authentication before changing
what authenticates or recovers an account): a re-authentication of its own within
``REAUTH_WINDOW``, not the sign-in's freshness, and, where the account has a factor,
made with one of them (``authentication_change_confirmed``). Threat: a phishing proxy that relays the password
and the code, then keeps the fresh session cookie it captured, or anyone with a copy of
a fresh cookie. Without this, that cookie could add a passkey of its own in the first
ten minutes, remove the owner's factors, or move the account to its own address, and
keep the account. With it, they need a fresh code or passkey, which a relayed sign-in
does not leave them.
"""

from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from . import clock, passwords, security_log

CONFIRMED_AT_KEY = "password_confirmed_at"
# [when (epoch seconds), how: "password" or a factor] of the last re-authentication
# asked for by a sensitive action; a sign-in does not set it.
REAUTHENTICATED_KEY = "reauthenticated"
PASSWORD = "password"  # noqa: S105 - the name of a means of re-authentication, not a password


def mark_password_confirmed():
    session[CONFIRMED_AT_KEY] = int(clock.utcnow().timestamp())


def mark_reauthenticated(means):
    """A re-authentication just succeeded, with ``means`` (``PASSWORD`` or a factor's name)."""
    mark_password_confirmed()
    session[REAUTHENTICATED_KEY] = [int(clock.utcnow().timestamp()), means]


def authentication_change_confirmed(has_factor):
    """True if this session re-authenticated within ``REAUTH_WINDOW`` for a change to how it signs in.

    ``has_factor``: the account has a second factor, so the re-authentication must have
    used one (a code or a passkey), not the password.
    """
    value = session.get(REAUTHENTICATED_KEY)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        return False
    at, means = value
    age = clock.utcnow().timestamp() - at
    fresh = 0 <= age <= current_app.config["REAUTH_WINDOW"].total_seconds()
    return fresh and not (has_factor and means == PASSWORD)


def password_recently_confirmed():
    confirmed_at = session.get(CONFIRMED_AT_KEY)
    if not isinstance(confirmed_at, int):
        return False
    age = clock.utcnow().timestamp() - confirmed_at
    return 0 <= age <= current_app.config["REAUTH_WINDOW"].total_seconds()


def own_password_confirmed(field):
    """True if ``field`` holds the signed-in user's password; else say so on the form.

    Every wrong guess is a security event, and the views that call this are
    rate-limited per account (``rate_limits.password_checks``).
    """
    if passwords.verify_password(current_user.record.password_hash, field.data):
        return True
    security_log.record("reauth_failed", user_id=current_user.id)
    field.errors.append(_("That is not your password."))
    return False


def reauth_required(return_to):
    """Send the user to confirm their password first, then back to ``return_to``.

    A POST cannot be replayed after the detour, so it returns to the page the
    form was on (the endpoint ``return_to``); a GET returns to itself.
    """

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if password_recently_confirmed():
                return view(*args, **kwargs)
            flash(_("Please confirm your password to continue."), "info")
            return redirect(reauth_url(return_to))

        return guarded

    return decorator


def authentication_change_reauth_required(return_to, has_factor, form_asks_password=False):
    """As ``reauth_required``, for changes to the factors or the address (``authentication_change_confirmed``).

    ``has_factor(user_id)`` tells whether the account has a factor; if it does, the
    re-authentication page asks for a code or a passkey only. ``form_asks_password``:
    the change's own form takes the password (the email address), which is all an
    account without a factor can be asked for; this guard then lets it through.
    """

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            with_factor = has_factor(current_user.id)
            if (form_asks_password and not with_factor) or authentication_change_confirmed(with_factor):
                return view(*args, **kwargs)
            return redirect(authentication_change_reauth_url(return_to, with_factor))

        return guarded

    return decorator


def authentication_change_reauth_url(return_to, with_factor):
    """Where to confirm a change to how the account signs in (only by a factor, ``with_factor``), saying why."""
    if with_factor:
        flash(_("This change needs one of your second factors: please confirm with it."), "info")
    else:
        flash(_("Please confirm your password to continue."), "info")
    return reauth_url(return_to, factor=with_factor)


def reauth_url(return_to, factor=False):
    """The re-authentication page, then back here (a GET) or to the page of ``return_to`` (a POST).

    ``factor``: the page offers the account's factors only, not the password.
    """
    target = request.full_path.rstrip("?") if request.method == "GET" else url_for(return_to)
    return url_for("auth.reauth", next=target, factor=1 if factor else None)
