"""Accept-Language: the visitor's order and quality values pick the language, and junk picks English."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.i18n import LANGUAGES
from app.language_negotiation import MAX_HEADER_LENGTH, language_for

AVAILABLE = list(LANGUAGES)

NEGOTIATIONS = [
    # Quality beats an exact tag: werkzeug's best_match got both of these wrong.
    ("de-DE,en-US;q=0.7,en;q=0.3", "de"),
    ("en-GB,de;q=0.5", "en"),
    ("en-GB;q=0.8,de-DE;q=0.9", "de"),
    # What browsers send.
    ("de-DE,de;q=0.9", "de"),
    ("en-US,en;q=0.9,de;q=0.8", "en"),
    ("fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7", "de"),
    # Quality first, then the visitor's order.
    ("de;q=0.5,en;q=0.9", "en"),
    ("en;q=0.5,de;q=0.5", "en"),
    ("de;q=0.5,en;q=0.5", "de"),
    ("de;q=0.500,en;q=0.5", "de"),
    ("en;q=0.001,de;q=0.002", "de"),
    ("de;q=1.000,en", "de"),
    # q=0 means "not this one", not "this one last".
    ("de;q=0, en", "en"),
    ("de;q=0", "en"),
    ("de;q=0.000,en;q=0.1", "en"),
    ("de;q=0.", "en"),
    ("en;q=0, de", "de"),
    ("de;q=0.9,de;q=0", "en"),
    ("de-CH;q=0,de", "de"),
    ("de;q=0,de-CH", "en"),
    # Nothing acceptable left: the site still has to answer in something.
    ("en;q=0", "en"),
    ("en;q=0,de;q=0", "en"),
    # The wildcard adds nothing to a lookup.
    ("*", "en"),
    ("*,de;q=0.5", "de"),
    ("de;q=0.5,*", "de"),
    ("en;q=0,*", "en"),
    # Case does not matter, in ranges or in the q.
    ("DE-de", "de"),
    ("DE", "de"),
    ("En-Gb,De;q=0.5", "en"),
    ("de;Q=0.5,en;q=0.4", "de"),
    # Script, region, variant and private-use subtags.
    ("de-Latn-CH", "de"),
    ("de-CH-1996", "de"),
    ("de-AT,en;q=0.9", "de"),
    ("zh-Hant-TW,de;q=0.5", "de"),
    ("en-Latn-US-x-private,de;q=0.1", "en"),
    # A language whose code starts like ours is another language.
    ("den,de;q=0.1", "de"),
    # Whitespace the list syntax allows, and empty elements.
    ("  de ;  q=0.9 ,\ten", "en"),
    (",,de,,", "de"),
    # Junk entries are skipped, the rest still counts.
    (";;;,", "en"),
    ("", "en"),
    (None, "en"),
    ("de;q=abc", "en"),
    ("de;q=abc,en;q=0.1", "en"),
    ("en;q=0.1,garbage;;q=x,de;q=0.5", "de"),
    ("de;q=2", "en"),
    ("de;q=-1", "en"),
    ("de;q=0.5555", "en"),
    ("de;q=1.001", "en"),
    ("de;q=.5", "en"),
    ("de;q=0.5;q=0.9", "en"),
    ("de;level=1", "en"),
    ("de-", "en"),
    ("-de", "en"),
    ("de--CH", "en"),
    ("de-abcdefghi", "en"),
    ("abcdefghi", "en"),
    ("d e", "en"),
    # Only ASCII: Latin-1 bytes, decoded UTF-8, other scripts' letters and a NUL.
    ("d\xe9", "en"),
    ("d\xe9,de;q=0.1", "de"),
    ("de\xc3\xa9", "en"),
    ("\uff44\uff45", "en"),
    ("de\x00", "en"),
    # Languages the site does not have.
    ("fr", "en"),
    ("fr-CH,fr;q=0.9,it;q=0.8", "en"),
    ("fr,de;q=0.1", "de"),
    # Absurdly long: ignored as a whole; just under the limit still read.
    ("de," + "en;q=0.1," * 120, "en"),
    ("en;q=0.1, " * 100 + "de", "de"),
]


@pytest.mark.parametrize(("header", "expected"), NEGOTIATIONS)
def test_language_negotiation(header, expected):
    assert language_for(header, AVAILABLE) == expected


def test_the_long_header_rows_straddle_the_limit():
    long_rows = [header for header, _ in NEGOTIATIONS if header and len(header) > 500]
    assert sorted(len(header) > MAX_HEADER_LENGTH for header in long_rows) == [False, True]


@settings(max_examples=300, deadline=None)
@given(header=st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda raw: raw.decode("latin-1"))))
def test_any_header_gets_one_of_our_languages(header):
    assert language_for(header, AVAILABLE) in LANGUAGES


def page_language(client, **headers):
    html = client.get("/", headers=headers).get_data(as_text=True)
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("de-DE,en-US;q=0.7,en;q=0.3", "de"), ("en-GB,de;q=0.5", "en"), ("de;q=0, en", "en"), ("d\xe9;;q=9", "en")],
)
def test_pages_come_in_the_negotiated_language(client, header, expected):
    assert page_language(client, **{"Accept-Language": header}) == expected


# The page asks for German first; only a cookie holding one of our codes overrides it.
@pytest.mark.parametrize(
    ("cookie", "expected"), [("en", "en"), ("de", "de"), ("EN", "de"), ("fr", "de"), ("", "de"), ("en,de", "de")]
)
def test_a_chosen_language_wins_and_a_bad_cookie_is_ignored(app, client, cookie, expected):
    client.set_cookie(app.config["LANGUAGE_COOKIE_NAME"], cookie)
    assert page_language(client, **{"Accept-Language": "de-DE,en-US;q=0.7,en;q=0.3"}) == expected
