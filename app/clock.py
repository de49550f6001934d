"""The one place the app asks for the time, so tests can move it forward."""

from datetime import UTC, datetime


def utcnow():
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)
