"""The base of every form: Flask-WTF's, with the inputs of an untouched form rendered once.

WTForms writes each attribute of an ``<input>`` through MarkupSafe's string
formatter: on the sign-in page, a fifth of the request (bench/breakdown.py). Yet
the inputs of a form shown fresh, before anyone typed into it, come out the same
for every visitor who reads the page in the same language. ``Form.Meta`` keeps
that markup and hands it out again.

A field's markup is kept only while all of these hold, so that nothing one
visitor sent or was shown can reach another:

- its widget is an ``<input>`` (a select's choices may be made per request);
- no form data reached it (``raw_data is None``: a GET, not a POST shown again);
- it holds no text: its data is ``None``, ``True`` or ``False`` (an empty field or a
  checkbox), never a value a view put in (an address being edited);
- it is not the CSRF token, which differs for every session.

The key is everything the widget reads: the form class (which fixes the field's
validators, flags and widget), the field's name, id and data, its label (the
language), and the arguments the template passed. At most ``CACHE_SIZE`` inputs
are kept, least recently used dropped first.
"""

from collections import OrderedDict
from threading import Lock

from flask_wtf import FlaskForm
from wtforms.widgets import Input

CACHE_SIZE = 512


class PristineInputs:
    """A bounded, thread-safe map from an untouched input's key to its markup."""

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


pristine_inputs = PristineInputs()


def is_pristine(field):
    """True if ``field`` renders the same for everyone: an input holding no text, untouched."""
    return (
        isinstance(field.widget, Input)
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
            if not is_pristine(field):
                return super().render_field(field, render_kw)
            key = (
                # One Meta class per form class: it stands for the form's fields.
                type(self),
                field.name,
                field.id,
                field.data,
                str(field.label.text),
                tuple(sorted((name, _argument(value)) for name, value in render_kw.items())),
            )
            markup = pristine_inputs.get(key)
            if markup is None:
                markup = super().render_field(field, render_kw)
                pristine_inputs.put(key, markup)
            return markup
