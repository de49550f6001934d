"""A short, human description of a browser, for the devices page."""

from ua_parser import parse

MAX_LENGTH = 80


def describe(user_agent):
    """E.g. "Firefox 133 on Windows"; only this summary is stored, not the raw header."""
    if not user_agent:
        return "Unknown browser"
    result = parse(user_agent[:512])
    browser = result.user_agent
    system = result.os
    name = browser.family if browser and browser.family != "Other" else "Unknown browser"
    if browser and browser.major and name != "Unknown browser":
        name = f"{name} {browser.major}"
    if system and system.family != "Other":
        name = f"{name} on {system.family}"
    return name[:MAX_LENGTH]
