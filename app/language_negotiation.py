"""Accept-Language: the visitor's order and quality values decide, nothing else.

``language_for(header, available)`` returns one of ``available`` (its first entry
when nothing the visitor accepts is on offer). The header's ranges are read as
RFC 9110 defines them, sorted by quality (highest first, the visitor's order among
equal qualities), and looked up as RFC 4647 describes, with Babel's
``negotiate_locale``: ``de-Latn-CH`` and ``DE-de`` both mean German.

Threat: the wrong language. Werkzeug's ``best_match`` prefers an exact tag at
any quality to a primary-language match, so ``de-DE,en-US;q=0.7,en;q=0.3`` got
the English site and ``en-GB,de;q=0.5`` the German one. A visitor who cannot read
the page cannot read its warnings either (the sign-out-everywhere button, the
password rules).

Inputs it survives, each ignored rather than guessed at (never a 500):

- ``q=0``: "not acceptable". It removes the languages the range covers
  (``de;q=0`` removes German; ``de-CH;q=0`` removes nothing, since ``de`` is not
  Swiss German); the first available language stays the last resort.
- ``*``: ignored, as RFC 4647 lookup does; the fallback already is "anything".
- malformed entries: ``;;;``, ``de;q=abc``, ``de;q=2``, ``de;q=0.5555``, a range
  with other parameters, subtags longer than eight characters;
- anything but ASCII letters, digits and ``-`` in a range (the header arrives
  decoded as Latin-1, so ``dé`` or a UTF-8 byte never reaches a comparison);
- a header longer than ``MAX_HEADER_LENGTH``: no browser sends one, so it is
  ignored as a whole instead of being parsed entry by entry.
"""

import re

from babel.core import negotiate_locale

# Browsers send well under 100 characters; a visitor with every language of the
# world set still fits in a few hundred.
MAX_HEADER_LENGTH = 1024

# RFC 9110: language-range [ OWS ";" OWS "q=" qvalue ], with the range from RFC 4647.
# Explicit ASCII classes: Python's \w and \d would accept other scripts' letters and digits.
ENTRY = re.compile(
    r"(?P<range>[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)"
    r"(?:[ \t]*;[ \t]*[qQ]=(?P<quality>0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?))?"
)


def language_for(header, available):
    """The language of ``available`` (lowercase codes like ``"de"``) to answer ``header`` in."""
    wanted, excluded = _parse(header or "")
    offered = [code for code in available if not any(_covers(ruled_out, code) for ruled_out in excluded)]
    # aliases=None: Babel's table would turn "de" into "de_DE", which is not on offer.
    return negotiate_locale(wanted, offered, sep="-", aliases=None) or available[0]


def _parse(header):
    """``header`` -> (ranges by falling quality, ranges with q=0), all lowercase."""
    if len(header) > MAX_HEADER_LENGTH:
        return [], []
    weighted = []
    for element in header.split(","):
        entry = ENTRY.fullmatch(element.strip(" \t"))
        if entry is None or entry["range"] == "*":
            continue
        quality = float(entry["quality"] or 1)
        weighted.append((entry["range"].lower(), quality))
    # sorted() is stable: among equal qualities the visitor's order stands.
    wanted = [language for language, quality in sorted(weighted, key=lambda pair: -pair[1]) if quality > 0]
    excluded = [language for language, quality in weighted if quality == 0]
    return wanted, excluded


def _covers(language_range, code):
    """RFC 4647 basic filtering: ``de`` covers ``de`` and ``de-CH``, not ``den``."""
    return code == language_range or code.startswith(language_range + "-")
