"""Forms of the second-factor pages. Flask-WTF adds and checks ``csrf_token``."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ..auth.forms import printable


def _strip(value):
    return value.strip() if isinstance(value, str) else value


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
        _l("Name of the new passkey"), filters=[_strip], validators=[DataRequired(), Length(max=64), printable]
    )
