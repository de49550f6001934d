"""Forms of the second-factor pages. Flask-WTF adds and checks ``csrf_token``."""

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..auth.forms import printable
from ..forms import Form


def _strip(value):
    return value.strip() if isinstance(value, str) else value


# Unicode categories a name never needs: controls (U+0085 is a newline), format
# characters (U+202E reverses the text after it), line and paragraph separators,
# private-use, surrogate and unassigned code points.
REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
# Letters and symbols that print as nothing: Hangul fillers, the blank braille cell,
# the musical null notehead. (Marks, such as variation selectors, never count as shown.)
BLANK_LOOKING = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\U0001d159"}


def plain_name(form, field):
    """Accept a name of printing characters only, with at least one that shows.

    Threat: a passkey name an intruder adds, shown in the owner's passkey list and in
    the security message about it: line breaks there start a sentence of the
    intruder's ("This passkey was added by the security team."), a right-to-left
    override reverses the text after it, and a name that prints as nothing hides it.
    """
    name = field.data or ""
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in name):
        raise ValidationError(_l("This field contains characters that are not allowed."))
    # At least one letter, digit, punctuation mark or symbol that prints.
    if name and not any(unicodedata.category(char)[0] in "LNPS" and char not in BLANK_LOOKING for char in name):
        raise ValidationError(_l("This field contains characters that are not allowed."))


class CodeForm(Form):
    """A six-digit code from the app, or a recovery code."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=40), printable],
    )


class SetupForm(Form):
    """The first code of a new authenticator app, which proves it was set up."""

    code = StringField(
        _l("Six-digit code from the app"), filters=[_strip], validators=[DataRequired(), Length(max=40), printable]
    )


class PasskeyForm(Form):
    """What the browser's passkey dialog returned (static/passkeys.js fills it in), as JSON."""

    credential = HiddenField(validators=[DataRequired(), Length(max=8000)])


class AddPasskeyForm(PasskeyForm):
    name = StringField(
        _l("Name of the new passkey"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=64), printable, plain_name],
    )
