"""The site serves its own tutorial, and every link in and to it works."""

import re

import pytest

from app.main.views import TUTORIAL_DIR


def links(html):
    return re.findall(r'href="([^"#]+)"', html)


def test_the_tutorial_index_links_to_every_chapter_and_each_opens(client):
    index = client.get("/tutorial/")
    assert index.status_code == 200
    chapters = [href for href in links(index.get_data(as_text=True)) if re.fullmatch(r"\d\d-[a-z0-9-]+", href)]
    assert len(chapters) == len(list(TUTORIAL_DIR.glob("[0-9][0-9]-*.md"))) == 17
    for chapter in [*chapters, "threat-model"]:
        page = client.get(f"/tutorial/{chapter}")
        assert page.status_code == 200, chapter
        assert "<h1>" in page.get_data(as_text=True), chapter


def test_the_dashboard_links_each_fact_to_an_existing_chapter(auth):
    auth.create_user()
    auth.login()
    html = auth.client.get("/dashboard").get_data(as_text=True)
    targets = [href for href in links(html) if href.startswith("/tutorial/")]
    assert len(targets) >= 5
    for target in targets:
        assert auth.client.get(target).status_code == 200, target


@pytest.mark.parametrize("name", ["99-missing", "..%2Fconfig", "01-secret-key%0A", "README.md", "THREAT_MODEL"])
def test_anything_else_under_tutorial_is_404(client, name):
    assert client.get(f"/tutorial/{name}").status_code == 404


def test_minutes_are_counted_in_words_that_agree(make_app):
    from tests.conftest import AuthActions

    app = make_app(REAUTH_WINDOW=60, IDLE_TIMEOUT=60)
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    text = auth.client.get("/dashboard").get_data(as_text=True)
    assert "Within the last minute" in text and "after 1 minute without a request" in text
    assert "1 minutes" not in text


def test_the_chapters_after_ten_are_numbered_on_from_eleven(client):
    html = client.get("/tutorial/").get_data(as_text=True)
    assert '<ol start="11">' in html


@pytest.mark.parametrize("chapter", ["01-secret-key", "threat-model"])
def test_code_blocks_and_tables_scroll_in_a_named_keyboard_focusable_box(client, chapter):
    html = client.get(f"/tutorial/{chapter}").get_data(as_text=True)
    blocks = re.findall(r"<(?:pre|table)>", html)
    boxes = re.findall(r'<div class="scroll-box" tabindex="0" role="group" aria-label="[^"]+"><(?:pre|table)>', html)
    assert blocks and len(boxes) == len(blocks)


def test_every_chapter_has_its_own_title(client):
    titles = set()
    for chapter in ["", *(path.stem for path in TUTORIAL_DIR.glob("[0-9][0-9]-*.md")), "threat-model"]:
        html = client.get(f"/tutorial/{chapter}").get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1)
        heading = re.search(r"<h1>(.*?)</h1>", html, re.DOTALL).group(1)
        assert title.startswith(re.sub(r"<[^>]+>", "", heading)), chapter
        titles.add(title)
    assert len(titles) == 19
