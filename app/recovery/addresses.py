"""Email addresses: set or changed only by following a link sent to the new address.

- ``request_change`` (sign-up, or the email page after re-authentication) queues a
  confirmation link to the new address, valid once for ``EMAIL_CONFIRMATION_LIFETIME``
  (24 hours); only the newest one works. An address that already belongs to another
  account gets a notice instead, so neither page nor message tells the person who
  typed it whether it has an account here.
- ``confirm`` makes it the account's address. The previous address, if any, is told,
  with a link that undoes the change for ``ADDRESS_CHANGE_UNDO_LIFETIME`` (7 days).
- ``undo`` puts the previous address back and ends every sign-in of the account:
  whoever changed it may be signed in, and may know the password (the page then
  offers a reset, which goes to the restored address).
"""

import re

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from wtforms.validators import ValidationError

from .. import clock, i18n, mail, rate_limits, security_log, sign_ins
from ..extensions import db
from ..mail.links import external_url
from ..mail.messages import deliver
from ..models import User
from . import tokens
from .models import EmailAddress

# A deliberately plain address: dot-atom local part, DNS host name. No quotes, spaces,
# commas or angle brackets, so an address can never smuggle a second recipient or a
# header into a message.
ADDRESS_PATTERN = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
ADDRESS_MAX = 254


class AddressTaken(Exception):
    """The address was confirmed by another account after this link was sent."""


def valid_address(form, field):
    """WTForms validator: an address mail can be sent to, in the plain form above."""
    value = field.data or ""
    if len(value) > ADDRESS_MAX or len(value.partition("@")[0]) > 64 or not ADDRESS_PATTERN.fullmatch(value):
        raise ValidationError(_("Enter an email address like name@example.org."))


def address_of(user_id):
    """The confirmed address of the account, or ``None``."""
    entry = EmailAddress.of(user_id)
    return entry.address if entry else None


def request_change(user, address):
    """Queue a confirmation link to ``address`` for ``user``, or raise 429 past ``ADDRESS_CHANGE_RATE_LIMIT``.

    The limit is counted here, in the request, and told: the account is the requester's
    own, and the count comes before anything about ``address`` is known, so the 429
    says nothing about it. (Counted on the sender thread, the page went on claiming
    that a link was sent while none was: found from outside.) Otherwise the page says
    the same whatever happens to the address.
    """
    rate_limits.take(current_app.config["ADDRESS_CHANGE_RATE_LIMIT"], "address-change", user.public_id)
    security_log.record("email_change_requested", user_id=user.id)
    mail.send_later(send_confirmation, user.id, address, i18n.current_language(), user.password_version)


def send_confirmation(user_id, address, language, password_version):
    """Sender job: the confirmation link, or a notice if the address is another account's.

    The link is bound to the password it was asked for with (``password_version``).
    Threat: an intruder who knew the password asks to move the account to their own
    address; the owner's password change or reset must kill that link, as it ends the
    intruder's sessions, or it would hand the account back to the intruder.
    """
    user = db.session.get(User, user_id)
    if user is None or user.password_version != password_version:
        return
    owner = EmailAddress.find(address)
    if owner is not None:
        if owner.user_id != user_id:
            deliver(address, "address_in_use", language, forgot_link=external_url("recovery.forgot_password"))
        return
    lifetime = current_app.config["EMAIL_CONFIRMATION_LIFETIME"]
    token = tokens.issue(
        user_id, tokens.CONFIRM_ADDRESS, address, lifetime, replace=True, password_version=password_version
    )
    link = external_url("recovery.confirm_address", token=token)
    deliver(address, "confirm_address", language, username=user.username, link=link, hours=_hours(lifetime))


def pending_confirmation(token):
    """``(address, username)`` of a live confirmation link, or ``None``."""
    row = tokens.peek(token, tokens.CONFIRM_ADDRESS)
    user = _bound_user(row)
    return (row.address, user.username) if user else None


def confirm(token):
    """Make the link's address the account's: ``(user, address)``, or ``None`` for a dead link.

    Raises ``AddressTaken`` if another account confirmed it first.
    """
    row = tokens.consume(token, tokens.CONFIRM_ADDRESS)
    user = _bound_user(row)
    if user is None:
        db.session.commit()
        return None
    previous = address_of(user.id)
    _set_address(user.id, row.address)
    security_log.record("email_changed" if previous else "email_confirmed", user_id=user.id)
    if previous and previous.lower() != row.address.lower():
        mail.send_later(send_change_notice, user.id, previous, row.address, i18n.current_language())
    return user, row.address


def cancel_pending_change(user_id):
    """Kill the account's unused confirmation links (the caller commits)."""
    tokens.forget(user_id, tokens.CONFIRM_ADDRESS)


def _bound_user(row):
    """The account of a live confirmation link, while its password is still the one it was asked with."""
    user = row and db.session.get(User, row.user_id)
    if user is None or user.password_version != row.password_version:
        return None
    return user


def send_change_notice(user_id, previous, address, language):
    """Sender job: tell the previous address, with a link that undoes the change."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    lifetime = current_app.config["ADDRESS_CHANGE_UNDO_LIFETIME"]
    token = tokens.issue(user_id, tokens.UNDO_ADDRESS_CHANGE, previous, lifetime)
    link = external_url("recovery.undo_address_change", token=token)
    deliver(
        previous,
        "address_changed",
        language,
        username=user.username,
        new_address=address,
        link=link,
        days=lifetime.days,
        when=clock.utcnow(),
    )


def pending_undo(token):
    """``(previous address, username)`` of a live undo link, or ``None``."""
    row = tokens.peek(token, tokens.UNDO_ADDRESS_CHANGE)
    user = row and db.session.get(User, row.user_id)
    return (row.address, user.username) if user else None


def undo(token):
    """Put the link's address back and end every sign-in: ``(user, address)``, or ``None``.

    Raises ``AddressTaken`` if another account confirmed that address meanwhile.
    """
    row = tokens.consume(token, tokens.UNDO_ADDRESS_CHANGE)
    user = row and db.session.get(User, row.user_id)
    if user is None:
        return None
    _set_address(user.id, row.address)
    # Confirmation links sent to the address that is undone die with it.
    tokens.forget(user.id, tokens.CONFIRM_ADDRESS)
    db.session.commit()
    ended = sign_ins.end_all_for(user)
    security_log.record("email_change_undone", user_id=user.id, sessions_ended=ended)
    return user, row.address


def _set_address(user_id, address):
    entry = EmailAddress.of(user_id)
    if entry is None:
        db.session.add(EmailAddress(user_id=user_id, address=address, confirmed_at=clock.utcnow()))
    else:
        entry.address, entry.confirmed_at = address, clock.utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        # The unique index on lower(address): another account confirmed it first.
        db.session.rollback()
        raise AddressTaken() from None


def _hours(delta):
    return int(delta.total_seconds() // 3600)
