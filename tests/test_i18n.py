"""Languages: every page in German, chosen by Accept-Language or a no-JavaScript switch."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.i18n import utc_time
from tests.conftest import AuthActions
from tests.support.second_factors import reauthenticate

CATALOGUE = Path(__file__).parent.parent / "app" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}
ANONYMOUS_PAGES = ["/auth/login", "/auth/register", "/auth/forgot"]
PAGES = [
    "/",
    "/privacy",
    "/dashboard",
    "/account/sessions",
    "/account/activity",
    "/account/password",
    "/account/delete",
    "/no-such-page",
    "/auth/reauth",
    "/account/email",
    "/account/second-factor",
    "/account/second-factor/app",
]


def catalogue():
    with CATALOGUE.open("rb") as source:
        return read_po(source, locale="de")


def test_every_message_has_a_german_translation():
    untranslated = [message.id for message in catalogue() if message.id and (not message.string or message.fuzzy)]
    assert untranslated == []


@pytest.fixture
def german(app):
    auth = AuthActions(app, app.test_client())
    auth.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]
    auth.create_user()
    auth.login()
    # Confirmed for a change to the factors too, so that their pages open.
    reauthenticate(auth)
    return auth


def visible_text(html):
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("path", PAGES + ANONYMOUS_PAGES)
def test_every_page_is_translated(app, german, path):
    """No English sentence from the catalogue may remain on a German page."""
    client = german.client
    if path in ANONYMOUS_PAGES:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]
    html = client.get(path).get_data(as_text=True)
    # The product name stays as it is in every language.
    text = visible_text(html).replace("Flask Secure Sessions", "")
    english_only = [
        message.id
        for message in catalogue()
        if isinstance(message.id, str)
        and message.string != message.id
        and len(message.id) > 12
        and "%(" not in message.id
    ]
    leftovers = [sentence for sentence in english_only if sentence in text]
    assert leftovers == [], path
    # And text that was never marked for translation: common English words.
    stray = [
        word for word in (" the ", " your ", " you ", " and ", " is ", " of ", " to ") if word in f" {text.lower()} "
    ]
    assert stray == [], (path, stray)
    assert '<html lang="de">' in html


def test_form_errors_are_translated_too(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get("/auth/register"))
    page = client.post(
        "/auth/register", data={"username": "", "password": "kurz", "confirm": "x", "csrf_token": token}
    ).get_data(as_text=True)
    assert "Dieses Feld ist erforderlich." in page or "Dieses Feld wird benötigt." in page
    assert "Die Passwörter stimmen nicht überein." in page


def test_the_switch_needs_no_javascript_and_sticks(app):
    client = app.test_client()
    english = client.get("/auth/login").get_data(as_text=True)
    assert "Sign in" in english and 'hreflang="de"' in english
    response = client.get("/language/de?next=/auth/login")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert "Anmelden" in client.get("/auth/login").get_data(as_text=True)
    client.get("/language/en?next=/")
    assert "Sign in" in client.get("/auth/login").get_data(as_text=True)


def test_the_switch_never_redirects_off_site(client):
    assert client.get("/language/de?next=//evil.com").headers["Location"] == "/"


def test_unknown_languages_are_404(client):
    assert client.get("/language/xx").status_code == 404


def test_times_are_unambiguous_utc_in_time_elements(german):
    html = german.client.get("/dashboard").get_data(as_text=True)
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', html
    )


def test_the_language_links_return_to_the_page_as_it_was_asked_for(client):
    plain = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/language/de?next=/auth/login"' in plain
    with_query = client.get("/auth/login?next=/account/sessions").get_data(as_text=True)
    assert 'href="/language/de?next=/auth/login?next%3D/account/sessions"' in with_query


def test_times_are_shown_in_utc_for_people_and_machines():
    moment = datetime(2026, 12, 4, 16, 5, 9, tzinfo=UTC)
    assert str(utc_time(moment)) == '<time datetime="2026-12-04T16:05:09+00:00">2026-12-04 16:05 UTC</time>'


def test_the_dashboard_shows_its_three_times(signed_in, client):
    page = client.get("/dashboard").text
    assert (
        len(
            re.findall(
                r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', page
            )
        )
        == 3
    )
