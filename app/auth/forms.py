"""The forms of the auth blueprint. Flask-WTF adds and checks ``csrf_token``."""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from ..forms import Form
from ..models import User
from ..password_policy import NotCommonOrPersonal
from ..recovery.addresses import valid_address

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
USERNAME_MIN, USERNAME_MAX = 3, 32
# NIST SP 800-63B: at least 8, and long passphrases welcome; never truncated.
PASSWORD_MIN, PASSWORD_MAX = 8, 256


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def printable(form, field):
    """Reject NUL and other control characters: they only ever arrive in attacks."""
    if field.data and any(ord(char) < 0x20 or ord(char) == 0x7F for char in field.data):
        raise ValidationError(_("This field contains characters that are not allowed."))


def forget_unless_a_username(field):
    """Blank ``field`` before the form is shown again, unless it holds a possible username.

    Threat: a password typed into the username field, written back into the page (and
    from there into screenshots, screen readers and shoulders). Passwords are never
    shown again anyway; a value no username can be is treated like one.
    """
    if field.raw_data is None:
        return  # nothing was sent (a GET): nothing to forget
    value = field.data or ""
    if len(value) > USERNAME_MAX or not re.fullmatch(USERNAME_PATTERN, value):
        field.data, field.raw_data = "", []


def new_password_field(label, username):
    """A new password, checked against the policy; ``username(form)`` names its owner."""
    return PasswordField(
        label,
        validators=[DataRequired(), Length(PASSWORD_MIN, PASSWORD_MAX), printable, NotCommonOrPersonal(username)],
    )


def confirm_field(other):
    return PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo(other, message=_l("The passwords do not match."))],
    )


class RegisterForm(Form):
    username = StringField(
        _l("Username"),
        filters=[_strip],
        validators=[
            DataRequired(),
            Length(USERNAME_MIN, USERNAME_MAX),
            Regexp(USERNAME_PATTERN, message=_l("Use only letters, digits, '.', '_' and '-'.")),
        ],
    )
    password = new_password_field(_l("Password"), username=lambda form: form.username.data)
    confirm = confirm_field("password")
    # Optional: without a confirmed address there is no password reset by email.
    email = StringField(_l("Email address (optional)"), filters=[_strip], validators=[Optional(), valid_address])

    def validate_username(self, field):
        # WTForms runs this even when the format check failed; only look up valid names
        # (PostgreSQL rejects a NUL byte in a query parameter outright).
        if not field.errors and User.find_by_username(field.data):
            raise ValidationError(_("That username is taken."))


class LoginForm(Form):
    username = StringField(
        _l("Username"), filters=[_strip], validators=[DataRequired(), Length(max=USERNAME_MAX), printable]
    )
    # The length cap only keeps the hasher from being fed megabytes.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX), printable])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ReauthForm(Form):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX), printable])
