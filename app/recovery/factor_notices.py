"""Messages about the second factors: each change to them, and codes guessed after the password.

Threat: a thief holding a copy of a session cookie made within the re-authentication
window (ten minutes after a sign-in or a confirmation) can add a passkey of their own,
remove the owner's app or make new recovery codes; the server cannot tell that copy
from the owner's browser. The owner must hear of it at once, at the account's confirmed
address (OWASP ASVS 5.0, 6.3.7: users are told of changes to their authentication
details). Likewise when a right password is followed by a wrong code (the first of a
half-signed-in state, so that four in each of many states do not go unreported):
someone may know the password.

What the message tells (what, when, which browser, from which address) is taken when
it happens; the sender thread sends it later, in the language of the page it came from.
"""

from flask_babel import gettext

from .. import i18n, mail, security_log
from ..extensions import N_
from ..mail.links import external_url
from ..mail.messages import Facts, deliver
from .models import EmailAddress

CHANGES = {
    "second_factor_added": N_("An authenticator app was added to your account."),
    "passkey_added": N_("A passkey named “%(name)s” was added to your account."),
    "second_factor_removed": N_("The authenticator app was removed from your account."),
    "passkey_removed": N_("A passkey named “%(name)s” was removed from your account."),
    "recovery_codes_regenerated": N_("New recovery codes were made for your account; the old ones no longer work."),
}
# The one event that is not a change: the password was right, then a code was wrong.
CODES_GUESSED = "second_factor_guessed"


def notify(user, event, name=""):
    """Queue the message about ``event`` (a key of ``CHANGES``, or ``CODES_GUESSED``) to ``user``.

    ``user`` has ``id`` and ``username`` (a User, or the signed-in user); ``name`` is the
    passkey's, for the passkey events. Nothing is sent to an account without a
    confirmed address.
    """
    mail.send_later(send_notice, user.id, event, name, Facts.of_this_request(user), i18n.current_language())


def send_notice(user_id, event, name, facts, language):
    """Sender job: the message, with the way to act on it."""
    entry = EmailAddress.of(user_id)
    if entry is None:
        return
    guessed = event == CODES_GUESSED
    with i18n.in_language(language):
        change = "" if guessed else gettext(CHANGES[event], name=name)
    link = external_url("recovery.forgot_password" if guessed else "second_factors.overview")
    template = "second_factor_guessed" if guessed else "second_factors_changed"
    deliver(entry.address, template, language, change=change, link=link, **facts._asdict())
    security_log.record("second_factor_notice_sent", user_id=user_id, about=event)
