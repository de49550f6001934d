"""One message: its subject, plain text and HTML from templates/mail/, in one language.

No images, no remote resources, no tracking pixels and no rewritten links: the HTML
part says what the plain part says, and every link in it is one of ours, in full.
"""

import smtplib
from datetime import datetime
from typing import NamedTuple

from flask import current_app, render_template, request
from flask_babel import gettext
from flask_mailman import EmailMultiAlternatives

from .. import clock, i18n, user_agents
from ..extensions import N_

SUBJECTS = {
    "confirm_address": N_("Confirm your email address"),
    "address_in_use": N_("Someone tried to use your email address"),
    "address_changed": N_("The email address of your account was changed"),
    "password_reset": N_("Set a new password"),
    "password_was_reset": N_("Your password was reset"),
    "new_device": N_("A new sign-in to your account"),
    "second_factors_changed": N_("The second factors of your account were changed"),
    "second_factor_guessed": N_("Someone typed your password, then a wrong code"),
    "remember_cookie_reused": N_("A copy of your sign-in cookie was used: we signed it out"),
}


class Facts(NamedTuple):
    """What an alert tells of the event behind it: whose account, when, which browser, which address.

    Taken while the request runs (the sender thread has none) and handed to the
    message's templates by name (``deliver(..., **facts._asdict())``; the macros of
    ``mail/_facts.html`` show the last three). ``when`` is a naive UTC ``datetime``;
    ``browser`` a short description such as "Firefox on Linux", or ``None``.
    """

    username: str
    when: datetime
    browser: str | None
    ip_address: str | None

    @classmethod
    def of_this_request(cls, user):
        """The facts of the request being answered now, on the account of ``user``."""
        return cls(user.username, clock.utcnow(), user_agents.describe(request.user_agent.string), request.remote_addr)


class MailNotSent(Exception):
    """The message was not handed to the mail server; the reason is logged already."""


def deliver(to, name, language, **context):
    """Compose message ``name`` for ``to`` in ``language`` and hand it to the mail server now.

    Raises ``MailNotSent`` if that fails or mail is not configured; ``/healthz`` shows
    the outcome of the last attempt. Runs on the sender thread (app/mail/sender.py).
    """
    config = current_app.config
    logger = current_app.logger.getChild("mail")
    health = current_app.extensions["health"]
    if not config["MAIL_DEFAULT_SENDER"]:
        logger.error("MAIL_DEFAULT_SENDER is not set: a %s message was not sent", name)
        health.observe("mail", "unconfigured")
        raise MailNotSent()
    with i18n.in_language(language):
        subject = gettext(SUBJECTS[name])
        text = render_template(f"mail/{name}.txt", **context)
        html = render_template(f"mail/{name}.html", subject=subject, **context)
    message = EmailMultiAlternatives(subject, text, config["MAIL_DEFAULT_SENDER"], [to])
    message.attach_alternative(html, "text/html")
    # Read by the development outbox only, which prints it; never a header.
    message.link = context.get("link")
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as error:
        # One line, without the address: an outage is about the server, not the reader.
        logger.warning("mail server refused or unreachable, a %s message was not sent: %r", name, error)
        health.observe("mail", "unreachable")
        raise MailNotSent() from None
    health.observe("mail", "ok")
