"""Development delivery (``MAIL_BACKEND = "app.mail.outbox"``): no mail server needed.

Each message is written whole to ``instance/outbox/`` as an ``.eml`` file, which any
mail program opens, and one line on the console names it with its link, so that
``make run`` shows the way to the next step at once. Never used in production:
the files hold live tokens.
"""

from pathlib import Path

from flask import current_app
from flask_mailman.backends.base import BaseEmailBackend

from .. import clock


class EmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        outbox = Path(current_app.instance_path) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        logger = current_app.logger.getChild("mail")
        for number, message in enumerate(messages):
            path = outbox / f"{clock.utcnow():%Y%m%d-%H%M%S-%f}-{number}.eml"
            path.write_bytes(message.message().as_bytes())
            logger.info("mail to %s, %r: %s", ", ".join(message.to), message.subject, path)
            if message.link:
                logger.info("  link: %s", message.link)
        return len(messages)
