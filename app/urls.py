"""URLs built once: the same endpoint and values build the same link on every request.

A page builds about twenty links (navigation, footer, forms, stylesheet), each
through Werkzeug's URL map: a tenth of the dashboard's time before this cache
(bench/breakdown.py). A relative link depends only on the endpoint, its values,
the blueprint a ``.name`` endpoint is relative to and the path the app is mounted
at, so those are the cache key. Anything else goes to Flask as before: links with
``_external``/``_scheme``/``_anchor``/``_method``, values that are not strings,
calls outside a request, and every call once the app has URL-default functions
(they could add values the key does not show).

The cache holds at most ``CACHE_SIZE`` links, least recently used dropped first,
so values a client chooses (a ``next`` path) cannot grow it.

Templates get a ``url_for`` of their own for each render (``init_app``): it reads
the request's mount point and blueprint once, not through Flask's proxies for each
link; and ``link_root``, the mount point in front of the links compiled into the
templates (app/template_links.py).
"""

from functools import lru_cache
from urllib.parse import quote

from flask import Flask, current_app, has_request_context, request

from .template_links import LINK_ROOT, CompiledLinks

CACHE_SIZE = 256


def init_app(app):
    app.jinja_env.add_extension(CompiledLinks)
    app.context_processor(_template_url_for)
    app.jinja_env.globals["this_page"] = this_page


def this_page():
    """This request's path and query, as a ``next`` value that leads back here: ``"/a%23b?c=d"``.

    ``request.path`` is decoded: sent back as it is, ``/a%23b`` became ``/a#b`` and
    ``/a%3Fb`` became ``/a?b``, another page. So the path is quoted again; the query
    string is the one the browser sent.
    """
    path = quote(request.path)
    return f"{path}?{request.query_string.decode()}" if request.query_string else path


def url_for(app, endpoint, values):
    """``Flask.url_for(app, endpoint, **values)``, from the cache where the link is relative."""
    if not _cacheable(app, values) or not has_request_context():
        return Flask.url_for(app, endpoint, **values)
    blueprint = request.blueprint if endpoint.startswith(".") else None
    return _relative_url(app, request.script_root, blueprint, endpoint, tuple(values.items()))


def _cacheable(app, values):
    # flask.url_for() passes _anchor, _method, _scheme and _external, mostly as None:
    # one pass over the values finds an option that is set or a value that is not a string.
    for name, value in values.items():
        if value is not None and (name[0] == "_" or type(value) is not str):
            return False
    return not app.url_default_functions


def _template_url_for():
    """Jinja's ``url_for`` for one render, with the request's mount point and blueprint read once."""
    if not has_request_context():
        return {}
    app = current_app._get_current_object()
    script_root, blueprint = request.script_root, request.blueprint

    def template_url_for(endpoint, **values):
        if not _cacheable(app, values):
            return app.url_for(endpoint, **values)
        relative_to = blueprint if endpoint.startswith(".") else None
        return _relative_url(app, script_root, relative_to, endpoint, tuple(values.items()))

    # The links app/template_links.py compiled in go after the mount point.
    return {"url_for": template_url_for, LINK_ROOT: script_root.rstrip("/")}


@lru_cache(maxsize=CACHE_SIZE)
def _relative_url(app, script_root, blueprint, endpoint, values):
    # Only the key's parts can change the answer; the request is the one being served.
    return Flask.url_for(app, endpoint, **dict(values))
