"""Links built once (app/urls.py): the same URLs as Flask builds, never a stale or unbounded one."""

import re

import pytest
from flask import Flask, url_for
from werkzeug.routing import BuildError

from app import urls


def flask_url(app, endpoint, **values):
    return Flask.url_for(app, endpoint, **values)


def test_cached_links_are_the_ones_flask_builds(app):
    with app.test_request_context("/"):
        for endpoint, values in [
            ("dashboard.index", {}),
            ("static", {"filename": "style.css"}),
            ("main.tutorial", {"chapter": "05-new-session-id"}),
            ("main.set_language", {"code": "de", "next": "/a?b=c d"}),
        ]:
            assert url_for(endpoint, **values) == url_for(endpoint, **values) == flask_url(app, endpoint, **values)


def test_the_path_the_app_is_mounted_at_is_part_of_the_link(app):
    with app.test_request_context("/", base_url="https://sessions.example/"):
        at_root = url_for("dashboard.index")
    with app.test_request_context("/", base_url="https://sessions.example/sub/"):
        mounted = url_for("dashboard.index")
    assert at_root == "/dashboard"
    assert mounted == "/sub/dashboard"


def test_external_links_and_other_options_go_to_flask(app):
    with app.test_request_context("/", base_url="https://sessions.example/"):
        assert url_for("dashboard.index", _external=True) == "https://sessions.example/dashboard"
        assert url_for("dashboard.index", _anchor="top") == "/dashboard#top"
    with app.test_request_context("/", base_url="https://other.example/"):
        assert url_for("dashboard.index", _external=True) == "https://other.example/dashboard"


def test_relative_endpoints_follow_the_blueprint_of_the_request(app):
    with app.test_request_context("/account/sessions"):
        account = url_for(".sessions")
    with app.test_request_context("/dashboard"):
        dashboard = url_for(".index")
    assert (account, dashboard) == ("/account/sessions", "/dashboard")


def test_values_chosen_by_clients_cannot_grow_the_cache(app):
    with app.test_request_context("/"):
        for number in range(urls.CACHE_SIZE * 3):
            url_for("main.set_language", code="de", next=f"/page-{number}")
    assert urls._relative_url.cache_info().currsize <= urls.CACHE_SIZE


def test_url_defaults_switch_the_cache_off(make_app):
    app = make_app()

    def default_language(endpoint, values):
        if endpoint == "main.set_language":
            values.setdefault("code", "de")

    app.url_defaults(default_language)
    with app.test_request_context("/"):
        assert url_for("main.set_language") == flask_url(app, "main.set_language")
        assert "code" not in url_for("dashboard.index")


def test_links_built_with_flask_url_for_are_cached_too(app):
    # flask.url_for() passes every option, as None; those links are cached as well.
    with app.test_request_context("/"):
        before = urls._relative_url.cache_info().hits
        for _ in range(3):
            assert url_for("main.tutorial", chapter="03-cookie-flags") == "/tutorial/03-cookie-flags"
        assert urls._relative_url.cache_info().hits >= before + 2


def render(app, source):
    return app.jinja_env.from_string(source).render(app_context_for_template(app))


def app_context_for_template(app):
    context = {}
    app.update_template_context(context)
    return context


def test_templates_build_the_links_flask_builds(app):
    source = (
        "{{ url_for('dashboard.index') }} {{ url_for('static', filename='style.css') }} "
        "{{ url_for('main.set_language', code='de', next='/a?b=c d') }} {{ url_for('.sessions') }}"
    )
    with app.test_request_context("/account/sessions", base_url="https://sessions.example/sub/"):
        expected = " ".join(
            [
                flask_url(app, "dashboard.index"),
                flask_url(app, "static", filename="style.css"),
                flask_url(app, "main.set_language", code="de", next="/a?b=c d"),
                flask_url(app, "account.sessions"),
            ]
        )
        assert render(app, source) == render(app, source) == expected
        assert expected.startswith("/sub/dashboard ")


def test_templates_read_the_mount_point_of_each_request(app):
    source = "{{ url_for('dashboard.index') }}"
    with app.test_request_context("/", base_url="https://sessions.example/"):
        at_root = render(app, source)
    with app.test_request_context("/", base_url="https://sessions.example/other/"):
        mounted = render(app, source)
    assert (at_root, mounted) == ("/dashboard", "/other/dashboard")


def test_templates_send_options_and_other_values_to_flask(app):
    source = "{{ url_for('dashboard.index', _external=True) }} {{ url_for('main.tutorial', chapter=5) }}"
    with app.test_request_context("/", base_url="https://sessions.example/"):
        assert render(app, source) == "https://sessions.example/dashboard /tutorial/5"


def compiled(app, source):
    return app.jinja_env.compile(source, raw=True)


def test_links_with_literal_arguments_are_compiled_into_the_template(app):
    code = compiled(app, "{{ url_for('dashboard.index') }} {{ url_for('main.tutorial', chapter='03-cookie-flags') }}")
    assert "url_for" not in code
    assert "'/dashboard'" in code and "'/tutorial/03-cookie-flags'" in code


def test_links_that_need_the_request_stay_calls(app):
    for source in [
        "{{ url_for('.sessions') }}",
        "{{ url_for('dashboard.index', _external=True) }}",
        "{{ url_for('main.tutorial', chapter=5) }}",
        "{{ url_for('main.tutorial', chapter=name) }}",
        "{{ url_for(endpoint) }}",
        "{{ url_for('no.such.endpoint') }}",
        "{{ helpers.url_for('dashboard.index') }}",
    ]:
        assert "url_for" in compiled(app, source), source


def test_an_endpoint_the_map_cannot_build_still_fails_when_rendering(app):
    with app.test_request_context("/"), pytest.raises(BuildError):
        render(app, "{{ url_for('no.such.endpoint') }}")


def test_apps_whose_links_depend_on_the_host_keep_every_call(make_app):
    app = make_app(SERVER_NAME="sessions.example")
    assert "url_for" in compiled(app, "{{ url_for('dashboard.index') }}")


def test_every_link_of_a_mounted_page_carries_the_mount_point(client):
    # The sign-in page's passkey form is a macro imported without the render's
    # context: its links take the mount point from the request.
    page = client.get("/auth/login", base_url="https://localhost/mounted/").text
    links = re.findall(r'(?:href|src|action|data-options)="(/[^"]*)"', page)
    assert len(links) >= 10
    assert all(link.startswith("/mounted/") for link in links), links
    assert 'src="/mounted/static/passkeys.js"' in page


@pytest.mark.parametrize(
    "page",
    ["/nope%23frag", "/x%3Fnext%3D%2F%2Fevil.example", "/a%26b%20c", "/auth/login?next=%2Fdash", "/d%C3%A9j%C3%A0"],
)
def test_the_language_switch_leads_back_to_the_same_page(client, page):
    html = client.get(page).text
    switch = re.search(r'<a href="([^"]+)" hreflang="de"', html).group(1).replace("&amp;", "&")
    answer = client.get(switch)
    assert answer.status_code == 302
    back = answer.headers["Location"]
    # %2F and / name the same path to the server; everything else comes back as sent.
    assert back.replace("%2F", "/") == page.replace("%2F", "/")
