"""Account email: confirmed addresses, password reset, and the new-device alert.

The map (delivery itself is app/mail/'s):

- ``models.py``: ``EmailAddress`` (one confirmed address per account, unique without
  regard to case) and ``EmailToken`` (the SHA-256 of every emailed link's secret).
- ``tokens.py``: issuing, checking and using up those links: random, single use,
  expiring.
- ``addresses.py``: adding or changing the address through a link sent to it; the old
  address is told and can undo the change.
- ``password_reset.py``: "Forgot your password?", which answers alike for every name,
  and the reset, which ends every sign-in and signs nobody in.
- ``new_device.py``: the alert for a sign-in from a browser the account has not seen,
  and its "This wasn't me" link.
- ``factor_notices.py``: a message for every change to the second factors, and for a
  right password followed by a wrong code.
- ``remember_cookie_theft.py``: a message when a copy of a remember cookie was caught
  and its sign-in ended.
- ``throttle.py``: limits on messages per account.
- ``views.py``, ``forms.py``: the pages behind the links, and the email page.

The functions below are the hooks the rest of the app calls: sign-up, sign-in,
account deletion, data export, retention and the activity page.
"""

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from .. import clock
from ..extensions import db
from . import addresses, factor_notices, new_device, remember_cookie_theft
from .models import EmailAddress, EmailToken

EVENT_LABELS = {
    "email_change_requested": _l("Asked to set an email address"),
    "email_confirmed": _l("Email address confirmed"),
    "email_changed": _l("Email address changed"),
    "email_change_undone": _l("Email address change undone; every session signed out"),
    "password_reset": _l("Password reset by email; every session signed out"),
    "new_device_alert_sent": _l("Sent an alert about a sign-in from a new browser"),
    "sign_in_reported": _l("Ended a sign-in reported as not yours"),
    "second_factor_notice_sent": _l("Sent a message about your second factors"),
    "remember_cookie_notice_sent": _l("Sent a message about a copied sign-in cookie"),
}


def after_sign_up(user, address):
    """Sign-up with an address: a confirmation link goes out."""
    if address:
        addresses.request_change(user, address)
        flash(_("We sent a link to %(address)s: follow it to confirm your address.", address=address), "info")


def after_sign_in(user, record):
    """A password sign-in: alert the owner if this browser is new to the account."""
    new_device.alert_unless_known(user, record)


def after_second_factor_change(user, event, name=""):
    """A factor was added or removed, or new recovery codes made: the owner is told."""
    factor_notices.notify(user, event, name)


def after_second_factor_guessed(user):
    """A right password, then a wrong code: the owner is told (once per half-signed-in state)."""
    factor_notices.notify(user, factor_notices.CODES_GUESSED)


def after_remember_cookie_reused(user, device, already_ended=False):
    """A copy of a remember cookie was caught: the owner is told (``device``: the sign-in's browser).

    The sign-in was ended for it, or had ended already (``already_ended``).
    """
    remember_cookie_theft.notify(user, device, already_ended)


def after_others_signed_out(user_id):
    """The owner threw other sign-ins out ("sign out everywhere else", ending a device).

    Threat: an intruder who knew the password asked to move the account to their own
    address; their pending confirmation link must die with their sessions, or it hands
    the account back (found from outside). The owner asks again if it was theirs.
    """
    addresses.cancel_pending_change(user_id)


def forget_account(user_id):
    """Account deletion: the address and every pending link go with it (the caller commits)."""
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user_id))
    db.session.execute(delete(EmailAddress).where(EmailAddress.user_id == user_id))


def export(user):
    """The data export's part: the address and the links not used yet (never their secrets)."""
    entry = EmailAddress.of(user.id)
    pending = db.session.scalars(
        db.select(EmailToken).where(EmailToken.user_id == user.id).order_by(EmailToken.created_at)
    )
    return {
        "address": entry.address if entry else None,
        "confirmed_at": _time(entry.confirmed_at) if entry else None,
        "pending_links": [
            {
                "purpose": row.purpose,
                "sent_to": row.address,
                "created_at": _time(row.created_at),
                "expires_at": _time(row.expires_at),
            }
            for row in pending
        ],
    }


def purge_expired():
    """Retention: delete links past their expiry; returns how many."""
    return db.session.execute(delete(EmailToken).where(EmailToken.expires_at <= clock.utcnow())).rowcount


def _time(moment):
    return moment.isoformat(timespec="seconds")
