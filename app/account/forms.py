"""Forms of the account pages."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from ..auth.forms import PASSWORD_MAX, confirm_field, new_password_field, printable
from ..forms import Form


def current_password_field():
    return PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX), printable])


class PasswordChangeForm(Form):
    current_password = current_password_field()
    new_password = new_password_field(_l("New password"), username=lambda form: current_user.username)
    confirm = confirm_field("new_password")


class DeleteAccountForm(Form):
    password = current_password_field()


class SignOutEverywhereElseForm(Form):
    # Typed here, not only within the re-authentication window: this action also gives
    # this device's sign-in a new token, and a copy of this device's cookies (sharing
    # its sign-in) must not be able to take it over from the owner.
    password = current_password_field()


class ActionForm(Form):
    """A button that POSTs: only the CSRF token."""
