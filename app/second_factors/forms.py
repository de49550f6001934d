"""Forms of the second-factor pages. Flask-WTF adds and checks ``csrf_token``."""

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..auth.forms import printable


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def no_format_characters(form, field):
    """Reject invisible format characters (Unicode category Cf) in a name shown to its owner.

    Threat: a right-to-left override (U+202E) or zero-width characters in a passkey name
    that an intruder adds: in the passkey list and in the owner's security messages, they
    reverse or hide the text around it, so "work laptop" can be made to read otherwise.
    """
    if field.data and any(unicodedata.category(char) == "Cf" for char in field.data):
        raise ValidationError(_l("This field contains characters that are not allowed."))


class CodeForm(FlaskForm):
    """A six-digit code from the app, or a recovery code."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=40), printable],
    )


class SetupForm(FlaskForm):
    """The first code of a new authenticator app, which proves it was set up."""

    code = StringField(
        _l("Six-digit code from the app"), filters=[_strip], validators=[DataRequired(), Length(max=40), printable]
    )


class PasskeyForm(FlaskForm):
    """What the browser's passkey dialog returned (static/passkeys.js fills it in), as JSON."""

    credential = HiddenField(validators=[DataRequired(), Length(max=8000)])


class AddPasskeyForm(PasskeyForm):
    name = StringField(
        _l("Name of the new passkey"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=64), printable, no_format_characters],
    )
