"""Untouched inputs rendered once (app/forms.py): the markup WTForms makes, never one visitor's values."""

import re

import pytest
from flask_babel import force_locale, lazy_gettext
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app import forms
from app.auth.forms import LoginForm, RegisterForm
from tests.conftest import csrf_token_from


class Sample(forms.Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=20)])
    agree = BooleanField("Agree")
    send = SubmitField("Send")


def wtforms_markup(field, **render_kw):
    """What WTForms itself renders, with no cache in between."""
    return forms.FlaskForm.Meta().render_field(field, render_kw)


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    monkeypatch.setattr(forms, "kept_markup", forms.KeptMarkup())


@pytest.mark.parametrize("form_class", [LoginForm, RegisterForm, Sample])
@pytest.mark.parametrize("language", ["en", "de"])
def test_kept_markup_is_what_wtforms_renders(app, form_class, language):
    with app.test_request_context("/"), force_locale(language):
        for _ in range(2):
            form = form_class()
            for field in form:
                arguments = {"autocomplete": "off", "required": field.flags.required, "aria-invalid": False}
                assert field(**arguments) == wtforms_markup(field, **arguments)
    assert len(forms.kept_markup) > 0


def test_every_input_of_a_fresh_sign_in_form_but_the_token_is_kept(app):
    with app.test_request_context("/auth/login"):
        form = LoginForm()
        assert [field.name for field in form if forms.is_pristine(field)] == ["username", "password", "remember"]


def test_a_value_a_view_put_in_is_never_kept(app):
    with app.test_request_context("/"):
        form = Sample()
        form.name.data = "alice@example.org"
        assert not forms.is_pristine(form.name)
        assert 'value="alice@example.org"' in form.name()
        assert 'value=""' in Sample().name()
    assert all("alice" not in str(markup) for markup in forms.kept_markup._markup.values())


def test_a_checked_box_and_an_empty_one_are_kept_apart(app):
    with app.test_request_context("/"):
        checked = Sample()
        checked.agree.data = True
        assert "checked" in checked.agree()
        assert "checked" not in Sample().agree()


def test_submitted_values_are_never_kept_or_shown_to_the_next_visitor(app, client):
    token = csrf_token_from(client.get("/auth/login"))
    refused = client.post("/auth/login", data={"username": "mallory", "password": "wrong guess", "csrf_token": token})
    assert refused.status_code == 401 and 'value="mallory"' in refused.get_data(as_text=True)
    fresh = app.test_client().get("/auth/login").get_data(as_text=True)
    assert "mallory" not in fresh
    assert re.search(r'<input[^>]*id="username"[^>]*value=""', fresh)


def test_each_visitor_gets_a_token_of_their_own(app):
    tokens = {csrf_token_from(app.test_client().get("/auth/login")) for _ in range(3)}
    assert len(tokens) == 3


def test_a_label_in_the_markup_follows_the_language(app):
    class Localised(forms.Form):
        send = SubmitField(lazy_gettext("Sign in"))

    with app.test_request_context("/"):
        with force_locale("en"):
            english = Localised().send()
        with force_locale("de"):
            german = Localised().send()
            assert not forms.is_pristine(Localised().send)
    assert 'value="Sign in"' in english and 'value="Anmelden"' in german


def test_labels_are_kept_per_language(app):
    with app.test_request_context("/"):
        for _ in range(2):
            with force_locale("en"):
                english = str(LoginForm().password.label)
            with force_locale("de"):
                german = str(LoginForm().password.label)
    assert english == '<label for="password">Password</label>'
    assert german == '<label for="password">Passwort</label>'
    assert len(forms.kept_markup) == 2


def test_a_label_a_view_rewrote_or_dressed_is_its_own(app):
    with app.test_request_context("/"):
        assert str(LoginForm().username.label) == '<label for="username">Username</label>'
        rewritten = LoginForm()
        rewritten.username.label.text = "Recovery code"
        assert str(rewritten.username.label) == '<label for="username">Recovery code</label>'
        dressed = LoginForm().username.label(class_="wide")
        assert dressed == '<label class="wide" for="username">Username</label>'
        assert str(LoginForm().username.label) == '<label for="username">Username</label>'


def test_the_cache_keeps_at_most_its_size():
    cache = forms.KeptMarkup(size=3)
    for number in range(10):
        cache.put(number, str(number))
    assert len(cache) == 3
    assert cache.get(0) is None and cache.get(9) == "9"


def test_the_token_input_is_what_wtforms_renders_with_each_visitors_token(app):
    rendered = []
    for _ in range(3):
        with app.test_request_context("/"):
            form = LoginForm()
            assert form.csrf_token() == wtforms_markup(form.csrf_token)
            rendered.append(str(form.csrf_token()))
    assert len(set(rendered)) == 3
    token_input = re.compile(r'<input id="csrf_token" name="csrf_token" type="hidden" value="[\w.-]+">')
    assert all(token_input.fullmatch(markup) for markup in rendered)


def test_only_required_fields_are_marked_required(client):
    page = client.get("/auth/register").get_data(as_text=True)
    inputs = {name: tag for tag, name in re.findall(r'(<input[^>]*\bname="(\w+)"[^>]*>)', page)}
    assert re.search(r"\srequired[\s>]", inputs["username"])
    assert "required" not in inputs["email"]
    assert '="None"' not in page
