"""Re-authentication ("sudo mode") before sensitive actions.

Threat: someone at a signed-in browser left unattended, or holding a stolen session
cookie, changes the password, ends the owner's other sessions or deletes the
account, locking the owner out. These actions need the password to have been
typed within ``REAUTH_WINDOW`` (10 minutes). A sign-in restored from a remember
cookie has never typed it, so it always has to. Where the account has second
factors, a code or a passkey confirms it as well (app/second_factors/views.py);
``mark_password_confirmed`` then records that confirmation under the same key.
"""

from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from . import clock, passwords, security_log

CONFIRMED_AT_KEY = "password_confirmed_at"


def mark_password_confirmed():
    session[CONFIRMED_AT_KEY] = int(clock.utcnow().timestamp())


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
            target = request.full_path.rstrip("?") if request.method == "GET" else url_for(return_to)
            flash(_("Please confirm your password to continue."), "info")
            return redirect(url_for("auth.reauth", next=target))

        return guarded

    return decorator
