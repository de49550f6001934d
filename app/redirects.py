"""Validation of ``?next=`` targets after sign-in.

Threat: open redirect. A link such as ``/auth/login?next=//evil.example`` would send
a user who has just typed a password to a look-alike site. Only a path on this site
is followed. Rejected, because some browser reads each as another host:
``//evil.com``, ``/\\evil.com`` (backslash counts as slash), ``https://evil.com``,
``https:evil.com``, ``javascript:alert(1)``, and anything with control characters
(browsers drop tab and newline, so ``/\\t/evil.com`` becomes ``//evil.com``).
"""

from urllib.parse import urlsplit

MAX_TARGET_LENGTH = 2048


def safe_next_path(target):
    """Return ``target`` if it is a local path, else ``None``."""
    if not target or len(target) > MAX_TARGET_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
