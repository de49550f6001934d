"""Password reset by email, which ends every sign-in and signs nobody in.

- ``request_link`` queues the same job whatever was typed, a username or an address,
  with or without an account: the page, and the time it takes, cannot tell them apart
  (threat: account enumeration, by message or by timing). The job looks the account
  up; only an account with a confirmed address gets a link, at most
  ``PASSWORD_RESET_ACCOUNT_RATE_LIMIT`` of them.
- The link carries a random token (app/recovery/tokens.py) that lasts
  ``PASSWORD_RESET_LIFETIME`` (30 minutes) and works once. It is bound to the
  password version it was made for, so any password change, by any route, kills it;
  and to the address it was sent to, so a link sent to an address the account has
  since left is dead.
- Opening the link (GET) only shows the form: mail scanners that follow links
  change nothing. Setting the password (POST, CSRF) ``complete``\\s it: new hash, the
  password version goes up (device cookies and any other reset link die), every
  sign-in and remember-me token of the account ends, a security event is recorded
  and the owner is told by email. Nobody is signed in: the user signs in with the new
  password, through every check a sign-in has.
"""

from flask import current_app
from sqlalchemy import update

from .. import clock, i18n, mail, passwords, security_log, sign_ins
from ..extensions import db
from ..mail.links import external_url
from ..mail.messages import deliver
from ..models import User
from . import throttle, tokens
from .models import EmailAddress


def request_link(account):
    """Queue a reset link for the account named by ``account`` (a username or an address), if any."""
    mail.send_later(send_link, account, i18n.current_language())


def send_link(account, language):
    """Sender job: look the account up and send it a reset link, within its limit."""
    user, address = _account_with_address(account)
    if user is None or not throttle.allow("PASSWORD_RESET_ACCOUNT_RATE_LIMIT", "password-reset", user.public_id):
        return
    lifetime = current_app.config["PASSWORD_RESET_LIFETIME"]
    token = tokens.issue(user.id, tokens.RESET_PASSWORD, address, lifetime, password_version=user.password_version)
    link = external_url("recovery.reset_password", token=token)
    minutes = int(lifetime.total_seconds() // 60)
    deliver(address, "password_reset", language, username=user.username, link=link, minutes=minutes)


def pending(token):
    """The account a live reset link is for, or ``None``; the link stays usable."""
    row = tokens.peek(token, tokens.RESET_PASSWORD)
    return _bound_user(row)


def complete(token, new_password):
    """Set ``new_password`` with the link's token: the account, or ``None`` for a dead link."""
    row = tokens.consume(token, tokens.RESET_PASSWORD)
    user = _bound_user(row)
    if user is None:
        db.session.commit()
        return None
    # Only over the version the link was made for: a change that lands first wins.
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_version == row.password_version)
        .values(password_hash=passwords.hash_password(new_password), password_version=User.password_version + 1)
    ).rowcount
    tokens.forget(user.id, tokens.RESET_PASSWORD)
    db.session.commit()
    if not changed:
        return None
    db.session.refresh(user)
    ended = sign_ins.end_all_for(user)
    security_log.record("password_reset", user_id=user.id, sessions_ended=ended)
    mail.send_later(send_notice, user.id, i18n.current_language(), clock.utcnow())
    return user


def send_notice(user_id, language, when):
    """Sender job: tell the owner that the password was reset and every session ended."""
    user = db.session.get(User, user_id)
    entry = EmailAddress.of(user_id)
    if user is None or entry is None:
        return
    link = external_url("recovery.forgot_password")
    deliver(entry.address, "password_was_reset", language, username=user.username, when=when, forgot_link=link)


def _account_with_address(account):
    if "@" in account:
        entry = EmailAddress.find(account)
        user = entry and db.session.get(User, entry.user_id)
    else:
        user = User.find_by_username(account)
        entry = user and EmailAddress.of(user.id)
    return (user, entry.address) if user and entry else (None, None)


def _bound_user(row):
    """The link's account while the link still fits it: same password, same address."""
    user = row and db.session.get(User, row.user_id)
    if user is None or user.password_version != row.password_version:
        return None
    entry = EmailAddress.of(user.id)
    if entry is None or entry.address.lower() != row.address.lower():
        return None
    return user
