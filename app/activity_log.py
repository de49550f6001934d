"""The owner's activity page: events that matter cannot be pushed off it by noise.

Threat: an intruder hiding its own sign-in. The page showed the newest 50 events, so
55 cheap requests (data downloads, wrong passwords, rejected forms) from a session
the intruder holds pushed its "Signed in" event off the page. Now the page shows the
newest ``ACTIVITY_LIMIT`` events together with the newest ``KEPT_PER_KIND`` of every
kind in ``EVENTS_THAT_MATTER``, whatever came after them; and repeats of one event
from the same address and browser in a row are shown as one line with a count.

The stored events of an account are bounded too (``SECURITY_EVENTS_PER_ACCOUNT``):
past it, the oldest events that are not in ``EVENTS_THAT_MATTER`` are deleted.
"""

from itertools import groupby

from flask import current_app
from sqlalchemy import delete, func, select

from .extensions import db
from .models import SecurityEvent

ACTIVITY_LIMIT = 50
KEPT_PER_KIND = 10
EVENTS_THAT_MATTER = (
    "user_registered",
    "login_succeeded",
    "remember_me_restored",
    "logout",
    "session_revoked",
    "sessions_revoked",
    "sign_in_ended_over_limit",
    "remember_cookie_reused",
    "remember_cookie_reused_after_end",
    "password_changed",
    "reauthenticated",
    "data_exported",
    # Account email (app/recovery/): what someone taking the account over would hide.
    "email_changed",
    "email_change_undone",
    "password_reset",
    "sign_in_reported",
    # Second factors (app/second_factors/): what would let an intruder in without them.
    "second_factor_added",
    "second_factor_removed",
    "passkey_added",
    "passkey_removed",
    "recovery_codes_regenerated",
    "recovery_code_used",
    "second_factors_reset",
)


def recent_events(user):
    """A list of ``(event, repeats)``, newest first: the page's rows."""
    newest = _events(user, limit=ACTIVITY_LIMIT)
    per_kind = [event for kind in EVENTS_THAT_MATTER for event in _events(user, kind=kind, limit=KEPT_PER_KIND)]
    events = sorted({event.id: event for event in newest + per_kind}.values(), key=_newest_first)
    return [(run[0], len(run)) for run in _runs(events)]


def prune(user_id):
    """Keep at most ``SECURITY_EVENTS_PER_ACCOUNT`` events, deleting the oldest noise first."""
    limit = current_app.config["SECURITY_EVENTS_PER_ACCOUNT"]
    count = db.session.scalar(select(func.count()).where(SecurityEvent.user_id == user_id))
    if count <= limit:
        return
    oldest_noise = (
        select(SecurityEvent.id)
        .where(SecurityEvent.user_id == user_id, SecurityEvent.event.not_in(EVENTS_THAT_MATTER))
        .order_by(SecurityEvent.created_at, SecurityEvent.id)
        .limit(count - limit)
    )
    db.session.execute(delete(SecurityEvent).where(SecurityEvent.id.in_(oldest_noise)))


def _events(user, limit, kind=None):
    query = select(SecurityEvent).where(SecurityEvent.user_id == user.id)
    if kind is not None:
        query = query.where(SecurityEvent.event == kind)
    return list(
        db.session.scalars(query.order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc()).limit(limit))
    )


def _newest_first(event):
    return (-event.created_at.timestamp(), -event.id)


def _runs(events):
    return (list(group) for _, group in groupby(events, key=lambda e: (e.event, e.ip_address, e.client)))
