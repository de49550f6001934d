"""Email: messages in the reader's language, sent by a background thread, never in a request.

The map:

- ``sender.py``: one sender thread per process and its bounded queue. A view hands it
  a job (``send_later``) and answers at once, so a page takes the same time whether a
  message goes out or not, and whether the mail server is up, slow or down.
- ``messages.py``: one message from its templates in templates/mail/ (plain text and
  HTML, English or German, no images, no tracking), delivered through Flask-Mailman;
  the outcome is what ``/healthz`` says about mail.
- ``links.py``: absolute links for messages, built from ``PUBLIC_BASE_URL`` alone.
- ``outbox.py``: development delivery: each message a file in instance/outbox/, and
  its link printed on the console.

What goes into the messages, and when, is app/recovery/'s business.
"""

from flask import current_app

from ..extensions import mail
from .sender import Sender


def init_app(app):
    mail.init_app(app)
    app.extensions["mail_sender"] = Sender(app)


def send_later(job, *args):
    """Run ``job(*args)`` on the sender thread, inside an app context of this app.

    Arguments must be plain values (ids, strings): the job runs after this request's
    database session is gone.
    """
    current_app.extensions["mail_sender"].submit(job, *args)
