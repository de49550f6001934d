"""Password rules after NIST SP 800-63B: long is good, common is not.

At least 8 characters (the form suggests 15), up to 256, any characters but control
characters, no composition rules ("one digit, one symbol" only breeds "Password1!"),
and two checks that stop what attackers try first (threat: credential stuffing and
password spraying): a password from the bundled list of ~20,000 most common ones,
or one that contains the username.
"""

import gzip
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from wtforms.validators import ValidationError

COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords():
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def problem_with(password, username):
    """A sentence saying what is wrong with ``password``, or ``None``."""
    if password.lower() in common_passwords():
        return _("This password is one of the most common ones; attackers try it first. Please choose another.")
    if username and len(username) >= 3 and username.lower() in password.lower():
        return _("Your password must not contain your username.")
    return None


class NotCommonOrPersonal:
    """WTForms validator; ``username`` returns the name to compare against."""

    def __init__(self, username):
        self.username = username

    def __call__(self, form, field):
        message = problem_with(field.data or "", self.username(form))
        if message:
            raise ValidationError(message)
