"""The base of every form: Flask-WTF's, with the inputs and labels of an untouched form rendered once.

WTForms writes each attribute of an ``<input>`` or ``<label>`` through MarkupSafe's
string formatter, and looks each label's translation up again: on the sign-in page,
a quarter of the request (bench/breakdown.py). Yet the inputs of a form shown
fresh, before anyone typed into it, and its labels come out the same for every
visitor who reads the page in the same language. ``Form.Meta`` keeps that markup
and hands it out again.

A label is kept per form class, field and language, unless a view gave it a text
of its own or the template passes arguments. The CSRF token's hidden input is kept
without its value, which is filled in for each request. Any other input's markup
is kept only while all of these hold, so that nothing one visitor sent or was
shown can reach another:

- its widget is an ``<input>`` but not a submit button (which shows its label;
  a select's choices may be made per request);
- no form data reached it (``raw_data is None``: a GET, not a POST shown again);
- it holds no text: its data is ``None``, ``True`` or ``False`` (an empty field or a
  checkbox), never a value a view put in (an address being edited);
- it is not the CSRF token, which differs for every session.

The key is everything the widget reads: the form class (which fixes the field's
validators, flags and widget), the field's name, id and data, and the arguments
the template passed (a translated placeholder is part of them). At most
``CACHE_SIZE`` inputs and labels are kept, least recently used dropped first.
"""

from collections import OrderedDict
from threading import Lock

from flask_babel import get_locale
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms.fields import Label
from wtforms.widgets import Input, SubmitInput

CACHE_SIZE = 512


class KeptMarkup:
    """A bounded, thread-safe map from a key (an untouched input, a label) to its markup."""

    def __init__(self, size=CACHE_SIZE):
        self.size = size
        self._markup = OrderedDict()
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            markup = self._markup.get(key)
            if markup is not None:
                self._markup.move_to_end(key)
            return markup

    def put(self, key, markup):
        with self._lock:
            self._markup[key] = markup
            self._markup.move_to_end(key)
            while len(self._markup) > self.size:
                self._markup.popitem(last=False)

    def __len__(self):
        return len(self._markup)


kept_markup = KeptMarkup()


def is_pristine(field):
    """True if ``field`` renders the same for everyone: an input holding no text, untouched."""
    return (
        isinstance(field.widget, Input)
        and not isinstance(field.widget, SubmitInput)
        and field.raw_data is None
        and field.type != "CSRFTokenField"
        and (field.data is None or field.data is True or field.data is False)
    )


def _argument(value):
    # True and 1 are equal keys, yet render as ``required`` and ``required="1"``.
    return (type(value).__name__, str(value))


class Form(FlaskForm):
    """Every form of the app: Flask-WTF's CSRF protection, and its untouched inputs kept."""

    class Meta(FlaskForm.Meta):
        def render_field(self, field, render_kw):
            if field.type == "CSRFTokenField" and not render_kw:
                return self._render_token(field)
            if not is_pristine(field):
                return super().render_field(field, render_kw)
            key = (
                "input",
                # One Meta class per form class: it stands for the form's fields.
                type(self),
                field.name,
                field.id,
                field.data,
                tuple(sorted((name, _argument(value)) for name, value in render_kw.items())),
            )
            markup = kept_markup.get(key)
            if markup is None:
                markup = super().render_field(field, render_kw)
                kept_markup.put(key, markup)
            return markup

        def _render_token(self, field):
            # The markup around the token, split at its value the first time.
            key = ("token", type(self), field.name, field.id)
            halves = kept_markup.get(key)
            if halves is None:
                markup = super().render_field(field, {})
                value = f' value="{escape(field.current_token)}"'
                before, found, after = markup.partition(value)
                if not found:
                    return markup
                halves = (before, after)
                kept_markup.put(key, halves)
            before, after = halves
            # Both halves are WTForms' own markup; the token is escaped as WTForms escapes it.
            return Markup(f'{before} value="{escape(field.current_token)}"{after}')  # noqa: S704  # nosec B704

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            field.label = KeptLabel(field.label, (type(self), field.name))
            return field


class KeptLabel(Label):
    """A field's ``<label>``, rendered once per form class, field and language."""

    def __init__(self, label, field_key):
        super().__init__(label.field_id, label.text)
        self.own_text = label.text
        self.field_key = field_key

    def __call__(self, text=None, **kwargs):
        if text is not None or kwargs or self.text is not self.own_text:
            return super().__call__(text, **kwargs)
        key = ("label", *self.field_key, self.field_id, str(get_locale()))
        markup = kept_markup.get(key)
        if markup is None:
            markup = super().__call__()
            kept_markup.put(key, markup)
        return markup
