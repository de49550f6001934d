"""The markup of form fields (app/form_fields.py): hints and errors tied to their input, text escaped."""

import re
from html.parser import HTMLParser

from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired

from app import forms
from app.form_fields import field, form_errors
from tests.conftest import csrf_token_from


class Sample(forms.Form):
    name = StringField("Name", validators=[DataRequired()])
    nickname = StringField("Nickname")


class Elements(HTMLParser):
    """Every start tag of a page, as ``(tag, attributes)``, and the text inside each id."""

    def __init__(self, markup):
        super().__init__()
        self.tags, self.text_of, self._open_ids = [], {}, []
        self.feed(str(markup))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes and tag == "p":
            self._open_ids.append(attributes["id"])
            self.text_of[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "p" and self._open_ids:
            self._open_ids.pop()

    def handle_data(self, data):
        for element_id in self._open_ids:
            self.text_of[element_id] += data

    def one(self, tag, **wanted):
        found = [attrs for name, attrs in self.tags if name == tag and wanted.items() <= attrs.items()]
        assert len(found) == 1, (tag, wanted, self.tags)
        return found[0]


def test_a_plain_field_has_its_label_and_input_and_nothing_to_describe_it(app):
    with app.test_request_context("/"):
        page = Elements(field(Sample().nickname, autocomplete="nickname"))
    assert page.one("div")["class"] == "field"
    assert page.one("label")["for"] == "nickname"
    attrs = page.one("input", name="nickname")
    assert attrs["autocomplete"] == "nickname"
    assert "aria-describedby" not in attrs and "aria-invalid" not in attrs and "required" not in attrs


def test_a_required_field_says_so(app):
    with app.test_request_context("/"):
        assert "required" in Elements(field(Sample().name)).one("input", name="name")


def test_the_hint_is_named_by_its_input(app):
    with app.test_request_context("/"):
        page = Elements(field(Sample().name, hint="Your full name."))
    hint_id = page.one("input", name="name")["aria-describedby"]
    assert hint_id == "name-hint"
    assert page.text_of[hint_id] == "Your full name."


def test_an_error_marks_the_input_invalid_and_is_named_after_the_hint(app):
    with app.test_request_context("/", method="POST", data={"name": ""}):
        form = Sample()
        assert not form.validate()
        page = Elements(field(form.name, hint="Your full name."))
    assert page.one("div")["class"] == "field has-error"
    attrs = page.one("input", name="name")
    assert attrs["aria-invalid"] == "true"
    assert attrs["aria-describedby"].split() == ["name-hint", "name-error"]
    assert page.text_of["name-error"] == "This field is required."


def test_error_and_hint_text_is_escaped_but_our_markup_is_kept(app):
    attack = '<img src=x onerror="alert(1)">'
    with app.test_request_context("/"):
        form = Sample()
        form.name.errors = [attack, Markup("<em>trusted</em>")]
        markup = str(field(form.name, hint=attack))
    assert "<img" not in markup
    assert markup.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") == 2
    assert "<em>trusted</em>" in markup


def test_form_errors_are_an_alert_with_each_error_escaped(app):
    with app.test_request_context("/"):
        form = Sample()
        assert form_errors(form) == ""
        form.form_errors.extend(["Wrong <b>password</b>.", "Try again."])
        page = Elements(form_errors(form))
        markup = str(form_errors(form))
    assert page.one("div", role="alert")["class"] == "form-errors"
    assert re.findall(r"<p>(.*?)</p>", markup) == ["Wrong &lt;b&gt;password&lt;/b&gt;.", "Try again."]


def test_the_sign_up_page_ties_every_hint_to_its_input(client):
    page = Elements(client.get("/auth/register").get_data(as_text=True))
    for name in ("username", "password", "email"):
        described_by = page.one("input", name=name)["aria-describedby"]
        assert described_by == f"{name}-hint" and page.text_of[described_by]


def test_a_rejected_sign_up_marks_the_wrong_field_on_the_page(client):
    form = client.get("/auth/register")
    answer = client.post(
        "/auth/register",
        data={"csrf_token": csrf_token_from(form), "username": "x", "password": "a long enough passphrase"},
    )
    assert answer.status_code == 400
    page = Elements(answer.get_data(as_text=True))
    username = page.one("input", name="username")
    assert username["aria-invalid"] == "true"
    assert username["aria-describedby"].split() == ["username-hint", "username-error"]
    assert page.text_of["username-error"]
    assert "aria-invalid" not in page.one("input", name="password")
