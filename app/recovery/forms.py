"""Forms of the recovery pages. Flask-WTF adds and checks ``csrf_token``."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ..account.forms import current_password_field
from ..auth.forms import confirm_field, new_password_field, printable
from ..forms import Form
from .addresses import ADDRESS_MAX, valid_address


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def token_field():
    return HiddenField(validators=[DataRequired(), Length(max=64)])


class ForgotPasswordForm(Form):
    account = StringField(
        _l("Username or email address"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=ADDRESS_MAX), printable],
    )


class ResetPasswordForm(Form):
    token = token_field()
    # The policy compares the password with the account's name, set by the view.
    new_password = new_password_field(_l("New password"), username=lambda form: form.account_name)
    confirm = confirm_field("new_password")
    account_name = ""


class LinkForm(Form):
    """The button behind an emailed link: the token and the CSRF token, nothing else."""

    token = token_field()


class EmailAddressForm(Form):
    address = StringField(_l("New email address"), filters=[_strip], validators=[DataRequired(), valid_address])
    password = current_password_field()
