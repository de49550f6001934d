"""A short, human description of a browser, for the devices page."""

from ua_parser import parse

MAX_LENGTH = 80


def describe(user_agent):
    """E.g. "Firefox 133 (Windows)", or ``None`` if unknown.

    Only this summary is stored, never the raw header; it holds no words of any
    language, so pages can show it as it is in every translation.
    """
    result = parse((user_agent or "")[:512])
    browser, system = result.user_agent, result.os
    if browser is None or browser.family == "Other":
        return None
    name = f"{browser.family} {browser.major}" if browser.major else browser.family
    if system is not None and system.family != "Other":
        name = f"{name} ({system.family})"
    return name[:MAX_LENGTH]
