"""Translations compiled into the templates: one compiled copy of each template per language.

Jinja's i18n extension looks every ``_("...")`` up while rendering: about forty
lookups on the dashboard, each through three wrappers, were a third of the page's
time (bench/breakdown.py). The strings are known when a template is compiled, so
each language gets its own copy with the translated text already in place:

- ``LanguageEnvironment`` names a template by language and name (``de/dashboard.html``),
  the language being the one Flask-Babel chose for this request, or the one of the
  template that extends, imports or includes it;
- ``LanguageLoader`` serves every ``de/...`` name from the app's usual loader;
- ``CompiledTranslations`` rewrites, while a template is compiled, ``_("text")`` into
  the translated text marked safe (what the i18n extension's "newstyle" gettext
  returns), and ``_("text", name=value)`` into ``format_translated("translated",
  name=value)``, which escapes the values as newstyle gettext does.

Plural forms depend on a number known only when rendering: ``ngettext`` stays a call
(``template_ngettext``), as does ``_`` with anything but one string literal.
"""

from flask.templating import Environment
from flask_babel import force_locale, get_locale, get_translations
from jinja2 import BaseLoader, TemplateNotFound, pass_context, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import Token
from markupsafe import Markup, escape

SEPARATOR = "/"
# The name the templates' context gives this render's catalogue (for ngettext).
CATALOGUE = "_catalogue"


class LanguageEnvironment(Environment):
    """Flask's Jinja environment, with every template name prefixed by its language."""

    def get_template(self, name, parent=None, globals=None):
        return super().get_template(self._in_language(name, parent), parent, globals)

    def select_template(self, names, parent=None, globals=None):
        return super().select_template([self._in_language(name, parent) for name in names], parent, globals)

    def join_path(self, template, parent):
        # Already prefixed by _in_language, with the parent's language.
        return template

    def _in_language(self, name, parent):
        if not isinstance(name, str) or self._language_of(name):
            return name
        language = self._language_of(parent) if parent else None
        return f"{language or self.current_language()}{SEPARATOR}{name}"

    def _language_of(self, name):
        prefix = name.partition(SEPARATOR)[0]
        return prefix if prefix in self.loader.languages else None

    def current_language(self):
        """The request's language (Flask-Babel's choice), else the first one the loader knows."""
        locale = get_locale()
        language = str(locale) if locale else None
        return language if language in self.loader.languages else self.loader.languages[0]


class LanguageLoader(BaseLoader):
    """``loader``'s templates under each language's prefix: ``de/base.html`` is its ``base.html``.

    Unlike Jinja's PrefixLoader, the template is compiled under its full name, which
    tells CompiledTranslations the language.
    """

    def __init__(self, loader, languages):
        self.loader = loader
        self.languages = tuple(languages)

    def get_source(self, environment, template):
        language, _, name = template.partition(SEPARATOR)
        if language not in self.languages:
            raise TemplateNotFound(template)
        return self.loader.get_source(environment, name)

    def list_templates(self):
        return [f"{language}{SEPARATOR}{name}" for language in self.languages for name in self.loader.list_templates()]


class CompiledTranslations(Extension):
    """Replaces ``_("literal")`` calls by their translation while a template compiles."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["format_translated"] = format_translated

    def filter_stream(self, stream):
        language = stream.name.partition(SEPARATOR)[0] if stream.name else None
        catalogue = self._catalogue(language)
        if catalogue is None:
            yield from stream
            return
        for token in stream:
            if not (token.test("name:_") and stream.current.test("lparen") and stream.look().test("string")):
                yield token
                continue
            parenthesis, literal = next(stream), next(stream)
            text = catalogue.ugettext(literal.value)
            if stream.current.test("rparen"):
                next(stream)
                # ("translated"|safe): a constant Jinja folds into the compiled template.
                # "%%" stands for "%" even without variables, as in newstyle gettext.
                constant = text % {} if "%" in text else text
                yield from _tokens(token.lineno, ("lparen", "("), ("string", constant), ("pipe", "|"))
                yield from _tokens(token.lineno, ("name", "safe"), ("rparen", ")"))
            else:
                yield Token(token.lineno, "name", "format_translated")
                yield parenthesis
                yield Token(literal.lineno, "string", text)

    def _catalogue(self, language):
        app = getattr(self.environment, "app", None)
        if app is None or language not in getattr(self.environment.loader, "languages", ()):
            return None
        with app.app_context(), force_locale(language):
            return get_translations()


def _tokens(lineno, *pairs):
    for kind, value in pairs:
        yield Token(lineno, kind, value)


@pass_eval_context
def format_translated(eval_context, text, **variables):
    """``text``, a literal of our templates already translated, ``%``-formatted with ``variables``.

    In HTML the text is trusted (it is ours, as Jinja's newstyle gettext trusts it) and
    the values are escaped. Never call it with text from anywhere else.
    """
    if eval_context.autoescape:
        text = Markup(text)  # noqa: S704  # nosec B704 - a literal of our templates, translated by our catalogue
    return _formatted(text, variables)


@pass_context
def template_gettext(context, message, **variables):
    """``_(message)`` for a message that is not a literal: it may come from anywhere, so it is escaped."""
    return _escaped_and_formatted(context, context[CATALOGUE].ugettext(message), variables)


@pass_context
def template_ngettext(context, singular, plural, num, **variables):
    """``ngettext()``: the form for ``num`` (also ``%(num)d``), escaped, then formatted."""
    variables.setdefault("num", num)
    return _escaped_and_formatted(context, context[CATALOGUE].ungettext(singular, plural, num), variables)


def _escaped_and_formatted(context, text, variables):
    return _formatted(escape(text) if context.eval_ctx.autoescape else text, variables)


def _formatted(text, variables):
    # "%%" stands for "%" even without variables, as in newstyle gettext.
    return text % variables if variables or "%" in text else text


def template_catalogue():
    """The context processor's part: this render's catalogue (emails in_language() get theirs)."""
    return {CATALOGUE: get_translations()}


def install(app):
    """Compile translations into ``app``'s templates; ``app.jinja_env`` must be a LanguageEnvironment."""
    env = app.jinja_env
    env.add_extension(CompiledTranslations)
    env.install_gettext_callables(gettext=template_gettext, ngettext=template_ngettext, newstyle=False)
    # The i18n extension's "_" would look "gettext" up again on each call.
    env.globals["_"] = template_gettext
    app.context_processor(template_catalogue)
