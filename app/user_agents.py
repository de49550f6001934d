"""A short description of a browser for the owner's security pages, from a fixed vocabulary.

Threat: an attacker writing on the victim's security pages. The User-Agent header is
free text chosen by whoever sends the request; a failed sign-in with
``Mozilla/5.0 (compatible; Your account is locked call 555-0100 Bot/1.0)`` made
ua-parser report a browser named "Your account is locked call 555-0100 Bot", shown on
the owner's activity page and in the export. So only browser and system families from
the lists below are kept, with a version made of digits; anything else is an unknown
browser (``None``). Nothing an attacker writes reaches those pages as text.
"""

from ua_parser import parse

MAX_HEADER = 512
# Families as ua-parser names them.
KNOWN_BROWSERS = frozenset(
    {
        "Chrome",
        "Chrome Mobile",
        "Chrome Mobile iOS",
        "Chrome Mobile WebView",
        "Chromium",
        "HeadlessChrome",
        "Edge",
        "Edge Mobile",
        "Firefox",
        "Firefox Mobile",
        "Firefox iOS",
        "Safari",
        "Mobile Safari",
        "Mobile Safari UI/WKWebView",
        "Opera",
        "Opera Mobile",
        "Samsung Internet",
        "Vivaldi",
        "Yandex Browser",
        "Brave",
        "DuckDuckGo Mobile",
    }
)
KNOWN_SYSTEMS = frozenset({"Windows", "Mac OS X", "iOS", "iPadOS", "Android", "Linux", "Chrome OS", "Ubuntu", "Fedora"})


def describe(user_agent):
    """E.g. "Firefox 133 (Windows)", or ``None`` for a browser outside the lists.

    ``user_agent`` is the raw header (a string, possibly empty). Only this summary is
    stored, never the raw header; it holds no words of any language, so pages can
    show it as it is in every translation.
    """
    result = parse((user_agent or "")[:MAX_HEADER])
    browser, system = result.user_agent, result.os
    if browser is None or browser.family not in KNOWN_BROWSERS:
        return None
    name = browser.family
    if browser.major and browser.major.isdigit() and len(browser.major) <= 4:
        name = f"{name} {browser.major}"
    if system is not None and system.family in KNOWN_SYSTEMS:
        name = f"{name} ({system.family})"
    return name
