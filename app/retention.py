"""Deleting personal data once it has served its purpose.

Sign-ins are deleted when they end; what may linger is metadata of long-lived
(remember-me) sign-ins, the security events of each account, emailed links nobody
followed, and the series of ended sign-ins (``EndedSignIn``). ``purge`` removes them
past their retention periods or expiry and is meant for a daily scheduled job
(``flask retention purge``).
"""

from flask import current_app
from sqlalchemy import delete, select, update

from . import clock, recovery, sign_ins
from .extensions import db
from .models import SecurityEvent, SignIn


def purge():
    """Apply the retention periods now; returns counts of what was removed."""
    config = current_app.config
    now = clock.utcnow()
    timed_out = [
        record
        for record in db.session.scalars(select(SignIn))
        if sign_ins.has_timed_out(record, now) or sign_ins.predates_password_change(record)
    ]
    sign_ins.end(timed_out)
    anonymised = db.session.execute(
        update(SignIn)
        .where(SignIn.created_at < now - config["SESSION_METADATA_RETENTION"], SignIn.ip_address.is_not(None))
        .values(ip_address=None, client=None)
    ).rowcount
    events = db.session.execute(
        delete(SecurityEvent).where(SecurityEvent.created_at < now - config["SECURITY_EVENT_RETENTION"])
    ).rowcount
    email_links = recovery.purge_expired()
    ended_series = sign_ins.purge_ended()
    db.session.commit()
    return {
        "ended_sign_ins": len(timed_out),
        "anonymised_sign_ins": anonymised,
        "deleted_events": events,
        "deleted_email_links": email_links,
        "forgotten_ended_sign_ins": ended_series,
    }
