"""Peer 3: Django 5.2 as ``startproject`` makes it, with cache sessions on Redis.

Django's default middleware (``settings.py``), its own auth: the session is read
from Redis (Django's built-in ``RedisCache``) with one ``GET`` and written only when
it changes, the user is loaded from SQL on every signed-in request, and the CSRF
secret lives in its own cookie, so an anonymous sign-in page writes nothing to
Redis. One middleware adds the project's headers that Django has no setting for.

``/dashboard`` and ``/auth/login`` are the project's pages in Django's templates, with
the same facts, nav, sign-out form and CSRF token. Like the Flask starter, it
enforces none of the project's timeouts.

    BENCH_SECRET_KEY=... BENCH_DJANGO_DATABASE=/path/db.sqlite3 BENCH_REDIS_URL=redis://... \\
        gunicorn --config gunicorn.conf.py bench.peers.django_starter.wsgi:application
"""
