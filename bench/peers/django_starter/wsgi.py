"""The Django peer's WSGI application, for gunicorn and for the bench's in-process counts."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.django_starter.settings")

application = get_wsgi_application()


def create_user(username, password):
    """Make the tables and one user (the bench does this before serving the peer)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    get_user_model().objects.create_user(username, password=password)
