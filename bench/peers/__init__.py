"""The peers this project is benchmarked against, written for the benchmark.

- ``flask_starter``: (1) the typical Flask starter (Flask-Login loading the user from
  SQL, Flask-WTF, Flask's signed cookie) and (2) the same with Flask-Session's
  defaults on Redis;
- ``django_starter``: (3) Django 5.2 with cache sessions on Redis and its default
  middleware;
- ``floor``: (4) the bare floor, one route reading a signed cookie, no page.

Peers 1 to 3 serve the project's two benchmarked pages in an equivalent form: the
signed-in ``/dashboard`` (the same facts, nav, sign-out form with a CSRF token and
stylesheet) and the anonymous ``/auth/login`` form with its CSRF token, with the
project's security headers (``page.py``). ``tests/test_bench_reference_apps.py``
checks that they stay equivalent.
"""
