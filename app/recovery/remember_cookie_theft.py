"""The message when a copy of a remember cookie was caught, and its sign-in ended.

Threat: a thief who copied the "keep me signed in" cookie (from a backup, a shared
computer, malware). app/sign_ins.py notices when the copy and the owner's browser
both use it, and ends that sign-in; the owner must hear of it even if neither
browser is open on the activity page, and learn what to do: sign in again, look at
the devices page, and change the password if that browser was not theirs.

What the message tells (when, which browser and address brought the replaced cookie,
which device's sign-in ended) is taken when it happens; the sender thread sends it
later, in the language of the page it came from.
"""

from .. import i18n, mail, security_log
from ..mail.links import external_url
from ..mail.messages import Facts, deliver
from .models import EmailAddress


def notify(user, device, already_ended):
    """Queue the message to ``user`` (a ``User``) about the sign-in on ``device`` (a browser name or ``None``).

    ``already_ended``: the sign-in had ended before the copy came (signed out, say),
    rather than being ended for it. Nothing is sent to an account without a confirmed
    address.
    """
    mail.send_later(send_notice, user.id, Facts.of_this_request(user), device, already_ended, i18n.current_language())


def send_notice(user_id, facts, device, already_ended, language):
    """Sender job: the message, with the way back in."""
    entry = EmailAddress.of(user_id)
    if entry is None:
        return
    deliver(
        entry.address,
        "remember_cookie_reused",
        language,
        device=device,
        already_ended=already_ended,
        link=external_url("auth.login"),
        **facts._asdict(),
    )
    security_log.record("remember_cookie_notice_sent", user_id=user_id)
