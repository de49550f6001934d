"""Templates compiled once per language: the same pages, with fewer lookups while rendering.

app/template_translations.py moves the translation of ``_("literal")`` from render
time to compile time. These tests pin what must not change (the text, its escaping,
one language per request, emails in their reader's language) and what must (the
dashboard no longer asks the catalogue for its literal strings).
"""

from datetime import UTC, datetime

import pytest
from flask import render_template
from jinja2 import DictLoader

from app import i18n, template_translations

GERMAN = {"Accept-Language": "de"}
ENGLISH = {"Accept-Language": "en"}

PAGES = {
    "page.html": (
        "<p>{{ _('Sign in') }}</p>"
        "<p>{{ _('Hello, %(name)s', name=name) }}</p>"
        "<p>{{ _(message) }}</p>"
        "<p>{{ _('100%% of it') }}</p>"
    ),
    "note.txt": "{{ _('Hello, %(name)s', name=name) }}",
}


@pytest.fixture
def pages(app):
    """``app`` serving the two templates above, compiled per language like the real ones."""
    app.jinja_env.loader = template_translations.LanguageLoader(DictLoader(PAGES), i18n.LANGUAGES)
    app.jinja_env.cache.clear()
    return app


def render(app, template, headers, **context):
    with app.test_request_context("/", headers=headers):
        return render_template(template, **context)


def test_literal_strings_are_translated_into_the_compiled_template(pages):
    html = render(pages, "page.html", GERMAN, name="Ada", message="Sign in")
    assert "<p>Anmelden</p>" in html
    assert "<p>Hallo, Ada</p>" in html
    # A message that is not a literal is still translated, while rendering.
    assert html.count("Anmelden") == 2


def test_each_language_keeps_its_own_compiled_copy(pages):
    german = render(pages, "page.html", GERMAN, name="Ada", message="Sign in")
    english = render(pages, "page.html", ENGLISH, name="Ada", message="Sign in")
    assert render(pages, "page.html", GERMAN, name="Ada", message="Sign in") == german
    assert "Anmelden" not in english
    assert "<p>Sign in</p>" in english
    assert "<p>Hello, Ada</p>" in english


def test_values_are_escaped_in_html_and_the_translation_is_not(pages):
    html = render(pages, "page.html", GERMAN, name="<script>x</script>", message="Sign in")
    assert "Hallo, &lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>" not in html


def test_text_templates_are_not_escaped(pages):
    assert render(pages, "note.txt", GERMAN, name="O'Brien <ob@example.org>") == "Hallo, O'Brien <ob@example.org>"


def test_a_doubled_percent_sign_is_one_as_with_gettext(pages):
    assert "<p>100% of it</p>" in render(pages, "page.html", ENGLISH, name="Ada", message="x")


class CountingCatalogue:
    """A catalogue that counts the lookups made while a page renders."""

    def __init__(self, catalogue):
        self.catalogue = catalogue
        self.lookups = []

    def ugettext(self, message):
        self.lookups.append(message)
        return self.catalogue.ugettext(message)

    def ungettext(self, singular, plural, n):
        self.lookups.append(singular)
        return self.catalogue.ungettext(singular, plural, n)


def test_the_dashboard_asks_the_catalogue_only_for_plural_forms(app, signed_in, client, monkeypatch):
    # Compiled (and translated) by the first request; the second one is counted.
    assert client.get("/dashboard", headers=GERMAN).status_code == 200
    counting = []
    request_catalogue = template_translations.get_translations

    def counting_catalogue():
        catalogue = CountingCatalogue(request_catalogue())
        counting.append(catalogue)
        return catalogue

    monkeypatch.setattr(template_translations, "get_translations", counting_catalogue)
    response = client.get("/dashboard", headers=GERMAN)
    assert response.status_code == 200
    assert "Sie sind angemeldet" in response.text
    lookups = [message for catalogue in counting for message in catalogue.lookups]
    # Two ngettext calls (idle timeout and re-authentication); every "_" was compiled in.
    assert len(lookups) == 2, lookups


def test_an_email_is_rendered_in_its_readers_language_inside_a_request_in_another(app):
    context = {"username": "ada", "when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "reset_url": "https://x.example/"}
    with app.test_request_context("/", headers=ENGLISH):
        english = render_template("mail/password_was_reset.txt", **context)
        with i18n.in_language("de"):
            german = render_template("mail/password_was_reset.txt", **context)
        english_again = render_template("mail/password_was_reset.txt", **context)
    assert english.startswith("Hello ada,")
    assert german.startswith("Hallo ada,")
    assert english_again == english


def test_a_message_that_is_not_a_literal_is_escaped(pages):
    html = render(pages, "page.html", ENGLISH, name="Ada", message="<img src=x onerror=alert(1)>")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
