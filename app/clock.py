"""The one place the app asks for the time, so tests can move it forward.

Call it as ``clock.utcnow()`` (not ``from .clock import utcnow``) so that a test
which replaces ``app.clock.utcnow`` changes the time everywhere at once.
"""

from datetime import UTC, datetime


def utcnow():
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)
