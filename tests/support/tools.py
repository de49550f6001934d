"""What to do when a test needs a program this machine lacks."""

import os

import pytest


def require(available, message):
    """Skip, loudly, when a tool is missing; under CI fail instead, so CI never skips."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(f"SKIPPED LOUDLY: {message}")
