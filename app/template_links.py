"""Links compiled into the templates: ``url_for`` with literal arguments is built once.

A page names about twenty links, nearly all of them constant: ``url_for('account.sessions')``,
``url_for('static', filename='style.css')``. Even from a cache (app/urls.py), each
was a call through Jinja's ``Context.call``, our ``url_for`` and the cache's key:
a few percent of the dashboard's time. As for translations
(app/template_translations.py), the answer is known when the template compiles:

- ``CompiledLinks`` rewrites ``url_for('endpoint', name='value', ...)``, every argument
  a string literal, into ``(link_root ~ "/built/path?name=value")``, the path built
  once by the app's URL map, exactly as Flask would build it;
- ``link_root`` is the path the app is mounted at (``request.script_root`` without
  its trailing slash; empty at the root), which the request decides: a context
  variable of each render (app/urls.py), and, for macros imported without context,
  a global that reads it from the request.

The result is the same ``str`` that ``url_for`` returns, escaped where it is shown
like any other value. Everything else stays a call: relative (``.name``) endpoints,
``_external``/``_anchor``/``_method``/``_scheme``, values that are not literals, an
endpoint the map cannot build (the error is raised when rendering, as before), and
every call in an app whose links could depend on more than the mount point
(URL-default functions, ``SERVER_NAME``, subdomain or host matching).
"""

from flask import has_request_context, request
from jinja2.ext import Extension
from jinja2.lexer import Token
from werkzeug.routing import BuildError

LINK_ROOT = "link_root"


class RequestLinkRoot:
    """``link_root`` where no render put it in the context: read from the request."""

    def __str__(self):
        return request.script_root.rstrip("/") if has_request_context() else ""


class CompiledLinks(Extension):
    """Replaces ``url_for`` calls whose arguments are all string literals by their link."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.globals[LINK_ROOT] = RequestLinkRoot()

    def filter_stream(self, stream):
        app = getattr(self.environment, "app", None)
        tokens = list(stream)
        if app is None or not _links_depend_only_on_the_mount_point(app):
            return tokens
        rewritten, index = [], 0
        while index < len(tokens):
            call = _literal_url_for(tokens, index)
            link = _built(app, *call[:2]) if call else None
            if link is None:
                rewritten.append(tokens[index])
                index += 1
                continue
            lineno = tokens[index].lineno
            rewritten += [
                Token(lineno, "lparen", "("),
                Token(lineno, "name", LINK_ROOT),
                Token(lineno, "tilde", "~"),
                Token(lineno, "string", link),
                Token(lineno, "rparen", ")"),
            ]
            index = call[2]
        return rewritten


def _links_depend_only_on_the_mount_point(app):
    return not (
        app.url_default_functions or app.config["SERVER_NAME"] or app.subdomain_matching or app.url_map.host_matching
    )


def _literal_url_for(tokens, index):
    """``(endpoint, values, index after the call)`` if a literal ``url_for(...)`` starts at ``index``."""
    if not tokens[index].test("name:url_for") or (index and tokens[index - 1].test("dot")):
        return None
    if not (_is(tokens, index + 1, "lparen") and _is(tokens, index + 2, "string")):
        return None
    endpoint, values, position = tokens[index + 2].value, {}, index + 3
    while not _is(tokens, position, "rparen"):
        if not (
            _is(tokens, position, "comma")
            and _is(tokens, position + 1, "name")
            and _is(tokens, position + 2, "assign")
            and _is(tokens, position + 3, "string")
        ):
            return None
        values[tokens[position + 1].value] = tokens[position + 3].value
        position += 4
    return endpoint, values, position + 1


def _is(tokens, index, kind):
    return index < len(tokens) and tokens[index].type == kind


def _built(app, endpoint, values):
    """The link Flask's ``url_for`` would build at the root, or ``None`` to leave the call."""
    if endpoint.startswith(".") or any(name.startswith("_") for name in values):
        return None
    try:
        # At the root: the request's mount point goes in front when rendering.
        return app.url_map.bind("localhost", script_name="/").build(endpoint, values, append_unknown=True)
    except BuildError:
        return None
