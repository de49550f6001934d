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
    assert len(chapters) == len(list(TUTORIAL_DIR.glob("[0-9][0-9]-*.md"))) == 15
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
