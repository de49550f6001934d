"""The new-device alert, and "This wasn't me".

A sign-in from a browser that is not a known device of the account (no device cookie
made for it and its current password: app/account_throttle.py) sends the account's
confirmed address a message: when, which browser, from which address, with a
"This wasn't me" link. The link only shows what it will do (GET); confirming it (POST,
CSRF) ends that sign-in and offers a password reset. It works once, and dies with the
sign-in it names (by its random public id: an integer id could name a later sign-in),
at the latest when that sign-in would have expired.
"""

from sqlalchemy import select

from .. import account_throttle, clock, i18n, mail, security_log, sign_ins
from ..extensions import db
from ..mail.links import external_url
from ..mail.messages import Facts, deliver
from ..models import SignIn
from . import addresses, tokens
from .models import EmailAddress


def alert_unless_known(user, record):
    """After a sign-in: queue the alert if this browser is not a known device of ``user``.

    What the alert tells (when, browser, address) is taken now: the sign-in may be
    gone by the time the sender runs.
    """
    if not account_throttle.is_known_device(user):
        facts = Facts(user.username, record.created_at, record.client, record.ip_address)
        mail.send_later(send_alert, user.id, record.public_id, facts, i18n.current_language())


def send_alert(user_id, sign_in_public_id, facts, language):
    """Sender job: the alert, if the account has an address.

    With a "This wasn't me" link while the sign-in is live; after it has ended, with
    the way to a new password instead. Threat: an intruder who signs in, takes what
    they came for (the export) and signs out before the alert goes: the owner must
    still hear of it.
    """
    entry = EmailAddress.of(user_id)
    if entry is None:
        return
    record = _sign_in(user_id, sign_in_public_id)
    if record is not None:
        token = tokens.issue(
            user_id,
            tokens.NOT_ME,
            entry.address,
            record.expires_at - clock.utcnow(),
            sign_in_public_id=record.public_id,
        )
        link = external_url("recovery.not_me", token=token)
    else:
        link = external_url("recovery.forgot_password")
    deliver(entry.address, "new_device", language, link=link, ended=record is None, **facts._asdict())
    security_log.record("new_device_alert_sent", user_id=user_id, sign_in_ended=record is None)


def pending_report(token):
    """The sign-in a live "This wasn't me" link names, or ``None``."""
    row = tokens.peek(token, tokens.NOT_ME)
    return row and _sign_in(row.user_id, row.sign_in_public_id)


def report(token):
    """End the sign-in the link names and every one since: the address (for the reset offer), or ``None``.

    Threat: the intruder signs in again from the same browser before the owner reads the
    alert. That browser is a known device by then, so the later sign-ins sent no alert of
    their own; they started after the reported one, and end with it. Only a new password
    keeps the intruder out for good, which the page offers.
    """
    row = tokens.consume(token, tokens.NOT_ME)
    record = row and _sign_in(row.user_id, row.sign_in_public_id)
    if record is None:
        db.session.commit()
        return None
    since = db.session.scalars(
        select(SignIn).where(SignIn.user_id == row.user_id, SignIn.created_at >= record.created_at)
    ).all()
    sign_ins.end(since, commit=False)
    addresses.cancel_pending_change(row.user_id)
    db.session.commit()
    security_log.record("sign_in_reported", user_id=row.user_id, sign_in=record.id, sign_ins_ended=len(since))
    return row.address


def _sign_in(user_id, public_id):
    record = db.session.scalar(select(SignIn).where(SignIn.public_id == public_id, SignIn.user_id == user_id))
    if record is None or sign_ins.has_timed_out(record, clock.utcnow()) or sign_ins.predates_password_change(record):
        return None
    return record
