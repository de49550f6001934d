"""The data export: everything stored about a user, in one JSON document.

Secrets stay out: the password hash, the hashes of session tokens and recovery codes,
and the authenticator's secret would only help someone who steals the file, and say
nothing the owner does not know.
"""

from flask import session
from sqlalchemy import select

from . import recovery, second_factors
from .extensions import db
from .models import EndedSignIn, SecurityEvent, SignIn


def for_user(user, current_sign_in_id):
    sign_ins = db.session.scalars(select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.created_at))
    events = db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.user_id == user.id).order_by(SecurityEvent.created_at)
    )
    return {
        "account": {
            "username": user.username,
            "created_at": _time(user.created_at),
            "password": "stored only as an argon2id hash, which is not exported",
        },
        "email": recovery.export(user),
        "second_factors": second_factors.export(user),
        "sign_ins": [
            {
                "id": record.public_id,
                "started_at": _time(record.created_at),
                "last_seen_at": _time(record.last_seen_at),
                "expires_at": _time(record.expires_at),
                "ip_address": record.ip_address,
                "browser": record.client,
                "remember_me": record.remember,
                "second_factor": record.second_factor,
                "this_session": record.id == current_sign_in_id,
            }
            for record in sign_ins
        ],
        # Their hashes are secrets of a kind: only that they are kept, and until when.
        "ended_remember_me_sign_ins_kept_until": [
            _time(row.expires_at)
            for row in db.session.scalars(
                select(EndedSignIn).where(EndedSignIn.user_id == user.id).order_by(EndedSignIn.expires_at)
            )
        ],
        "security_events": [
            {
                "event": event.event,
                "at": _time(event.created_at),
                "ip_address": event.ip_address,
                "browser": event.client,
            }
            for event in events
        ],
        "current_session_keys": sorted(key for key in session if key != "_permanent"),
    }


def _time(moment):
    return moment.isoformat(timespec="seconds") if moment else None
