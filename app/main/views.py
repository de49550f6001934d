"""Public pages: landing, privacy, language switch, the tutorial, and ``/healthz``."""

import re
from pathlib import Path

import markdown
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import health, i18n
from .. import privacy as privacy_facts
from ..extensions import limiter
from ..redirects import safe_next_path

bp = Blueprint("main", __name__)

TUTORIAL_DIR = Path(__file__).resolve().parents[2] / "docs" / "tutorial"
THREAT_MODEL = TUTORIAL_DIR.parent / "THREAT_MODEL.md"
CHAPTER_NAME = re.compile(r"\d\d-[a-z0-9-]+")


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html", cookies=privacy_facts.cookie_inventory(), stored=privacy_facts.stored_data())


@bp.get("/language/<code>")
def set_language(code):
    if code not in i18n.LANGUAGES:
        abort(404)
    response = redirect(safe_next_path(request.args.get("next")) or url_for("main.index"))
    i18n.remember_language(response, code)
    return response


@bp.get("/tutorial/")
@bp.get("/tutorial/<chapter>")
def tutorial(chapter="README"):
    """The tutorial in docs/tutorial/ (and the threat model it links to), served by the site it describes."""
    if chapter == "threat-model":
        source = THREAT_MODEL
    elif chapter == "README" or CHAPTER_NAME.fullmatch(chapter):
        source = TUTORIAL_DIR / f"{chapter}.md"
    else:
        abort(404)
    if not source.is_file():
        abort(404)
    # Our own trusted Markdown; sane_lists keeps a list's first number (chapter 11 stays 11).
    html = markdown.markdown(source.read_text(encoding="utf-8"), extensions=["fenced_code", "tables", "sane_lists"])
    # Links between chapters drop their ".md".
    html = re.sub(r'href="(\d\d-[a-z0-9-]+)\.md"', r'href="\1"', html)
    html = html.replace('href="../THREAT_MODEL.md"', 'href="threat-model"')
    html = SCROLLABLE_BLOCK.sub(in_scroll_container, html)
    # Our own files from the repository, never user input: safe to mark as HTML.
    body = Markup(html)  # noqa: S704  # nosec B704
    heading = FIRST_HEADING.search(html)
    title = Markup(heading.group(1)).striptags() if heading else None  # noqa: S704  # nosec B704
    return render_template("tutorial.html", body=body, title=title)


SCROLLABLE_BLOCK = re.compile(r"<(pre|table)>.*?</\1>", re.DOTALL)
FIRST_HEADING = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)
SCROLL_CONTAINER_NAMES = {"pre": "Code example", "table": "Table"}


def in_scroll_container(block):
    """A wide table or code block scrolls inside its own box, not the page.

    A box that scrolls must be reachable by keyboard to be scrolled without a mouse
    (axe-core's scrollable-region-focusable), and a focusable box needs a name; the
    chapters are English, so the names are too.
    """
    name = SCROLL_CONTAINER_NAMES[block.group(1)]
    return f'<div class="scroll-box" tabindex="0" role="group" aria-label="{name}">{block.group(0)}</div>'


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Every dependency's state (see app/health.py); 503 when one of them is down."""
    body, healthy = health.check()
    return jsonify(body), 200 if healthy else 503
