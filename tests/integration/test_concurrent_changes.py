"""Two changes to one sign-in or account at the same moment, through a real gunicorn.

Kind of fault: two requests that both start from the same state (a double click, two
tabs, a script), where the second one finds the row it loaded deleted or renewed by
the first. That was a 500 (ObjectDeletedError on a double sign-out). Now each change
is a statement that finds nothing left to do, or a 409 that says the other request
won; and what the answers say is what is in effect afterwards.

Each scenario runs several rounds: a race shows itself only some of the time.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import PASSWORD, csrf_token_from, is_signed_in, sent_to_sign_in, unique_username
from tests.support.processes import FAST_UNLIMITED_SETTINGS, flask_command

pytestmark = pytest.mark.integration

ROUNDS = 4
NEW_PASSWORD = "a new and different passphrase"
FAST_SETTINGS = {
    # Argon2id and the limits are not under test; every request should reach its view.
    **FAST_UNLIMITED_SETTINGS,
    # Every request writes "last seen", the write that raced with sign-out.
    "FLASK_LAST_SEEN_RESOLUTION": "0",
}


@pytest.fixture(scope="module")
def server(module_deployment):
    redis = module_deployment.redis()
    return module_deployment.app(redis.url, **FAST_SETTINGS)


def at_once(*calls):
    """Run the calls in parallel threads, released together; return their results."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def two_tabs(deployment, browser):
    """Two copies of one browser's cookies, as two tabs (or a double click) send them.

    With the header every current browser adds to a form sent from our own page: the
    second of two sign-outs finds the session (and its CSRF secret) gone, and is
    accepted as a sign-out from this site (auth.views.check_sign_out_form).
    """
    tabs = deployment.browser(cookies_from=browser), deployment.browser(cookies_from=browser)
    for tab in tabs:
        tab.http.headers["Sec-Fetch-Site"] = "same-origin"
    return tabs


def form_post(browser, server, page, action, fields):
    token = csrf_token_from(browser.get(server, page).text)
    return lambda: browser.post(server, action, {"csrf_token": token, **fields})


def account(deployment, server):
    """A new account, signed in on a main browser and on a second device."""
    username = unique_username("race")
    main = deployment.browser()
    main.register(server, username)
    other = deployment.browser()
    other.login(server, username)
    return username, main, other


def remembered_without_session(deployment, server):
    """A browser of a new account signed in with "keep me signed in", its session cookie gone."""
    username = unique_username("remember")
    browser = deployment.browser()
    browser.register(server, username)
    browser.logout(server)
    response = browser.submit(server, "/auth/login", {"username": username, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    browser.http.cookies.set("__Host-session", None)
    return browser


def no_server_errors(*browsers):
    return [error for browser in browsers for error in browser.server_errors()]


def test_two_sign_outs_at_once(module_deployment, server):
    for _ in range(ROUNDS):
        _, main, _ = account(module_deployment, server)
        first, second = two_tabs(module_deployment, main)
        clicks = [form_post(tab, server, "/dashboard", "/auth/logout", {}) for tab in (first, second)]
        # A dashboard view in a third tab races too: it writes "last seen".
        viewer = module_deployment.browser(cookies_from=main)
        answers = at_once(*clicks, lambda viewer=viewer: viewer.get(server, "/dashboard"))
        assert [answer.status_code for answer in answers[:2]] == [303, 303]
        assert no_server_errors(first, second, viewer) == []
        assert sent_to_sign_in(module_deployment.browser(cookies_from=main).get(server, "/dashboard"))


def test_two_revocations_of_one_device_at_once(module_deployment, server):
    for _ in range(ROUNDS):
        _, main, other = account(module_deployment, server)
        page = main.get(server, "/account/sessions").text
        (action,) = re.findall(r'action="(/account/sessions/[^"/]+/revoke)"', page)
        first, second = two_tabs(module_deployment, main)
        answers = at_once(*[form_post(tab, server, "/account/sessions", action, {}) for tab in (first, second)])
        statuses = sorted(answer.status_code for answer in answers)
        # Both delete (the second finds nothing left), or the second no longer finds it.
        assert statuses in ([303, 303], [303, 404]), statuses
        for answer in answers:
            assert answer.status_code == 303 or "it has ended already" in answer.text
        assert no_server_errors(first, second) == []
        assert sent_to_sign_in(other.get(server, "/dashboard"))


def test_two_sign_outs_everywhere_else_at_once(module_deployment, server):
    for _ in range(ROUNDS):
        _, main, other = account(module_deployment, server)
        first, second = two_tabs(module_deployment, main)
        answers = at_once(
            *[
                form_post(tab, server, "/account/sessions", "/account/sessions/revoke-others", {"password": PASSWORD})
                for tab in (first, second)
            ]
        )
        statuses = sorted(answer.status_code for answer in answers)
        # Both succeed one after the other; or the second is told the first one won; or it
        # arrives after the first renewed the session id, and is sent to sign in (this
        # browser is signed in under the new id, which the first answer gave it).
        assert statuses in ([303, 303], [303, 409], [302, 303]), statuses
        for answer in answers:
            assert answer.status_code != 302 or sent_to_sign_in(answer)
        assert no_server_errors(first, second) == []
        assert sent_to_sign_in(other.get(server, "/dashboard"))
        # The winner's cookies are in effect: that tab is signed in.
        winners = [tab for tab, answer in zip((first, second), answers, strict=True) if answer.status_code == 303]
        assert any(is_signed_in(tab.get(server, "/dashboard")) for tab in winners)


def test_two_password_changes_at_once(module_deployment, server):
    fields = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    for _ in range(ROUNDS):
        username, main, other = account(module_deployment, server)
        tabs = first, second = two_tabs(module_deployment, main)
        answers = at_once(*[form_post(tab, server, "/account/password", "/account/password", fields) for tab in tabs])
        statuses = sorted(answer.status_code for answer in answers)
        # 400: the second found the current password already changed, which is true.
        assert statuses[0] == 303 and statuses[1] in (303, 400, 409), statuses
        assert no_server_errors(first, second) == []
        assert sent_to_sign_in(other.get(server, "/dashboard"))
        module_deployment.browser().login(server, username, NEW_PASSWORD)


def test_two_account_deletions_at_once(module_deployment, server):
    for _ in range(ROUNDS):
        username, main, other = account(module_deployment, server)
        tabs = first, second = two_tabs(module_deployment, main)
        fields = {"password": PASSWORD}
        answers = at_once(*[form_post(tab, server, "/account/delete", "/account/delete", fields) for tab in tabs])
        assert all(answer.status_code in (302, 303, 409) for answer in answers), answers
        assert 303 in [answer.status_code for answer in answers]
        assert no_server_errors(first, second) == []
        assert sent_to_sign_in(other.get(server, "/dashboard"))
        stranger = module_deployment.browser()
        assert stranger.submit(server, "/auth/login", {"username": username, "password": PASSWORD}).status_code == 401


def test_two_remember_me_restores_at_once(module_deployment, server):
    for _ in range(ROUNDS):
        main = remembered_without_session(module_deployment, server)
        first, second = two_tabs(module_deployment, main)
        answers = at_once(*[lambda tab=tab: tab.get(server, "/dashboard") for tab in (first, second)])
        assert [answer.status_code for answer in answers] == [200, 200]
        assert no_server_errors(first, second) == []


def test_many_tabs_restore_from_one_remember_cookie_at_once(module_deployment, server):
    """A browser reopening its tabs: one restores, the rest are served within the grace.

    None is sent to sign in, none ends the sign-in as a copied cookie, and only the
    restoring answer sets a remember cookie, which then restores once more.
    """
    tabs_at_once = 12
    for _ in range(ROUNDS):
        main = remembered_without_session(module_deployment, server)
        tabs = [module_deployment.browser(cookies_from=main) for _ in range(tabs_at_once)]
        answers = at_once(*[lambda tab=tab: tab.get(server, "/dashboard") for tab in tabs])
        assert [answer.status_code for answer in answers] == [200] * tabs_at_once
        renewed = [answer for answer in answers if "__Host-remember" in answer.headers.get("Set-Cookie", "")]
        assert len(renewed) == 1
        assert no_server_errors(*tabs) == []
        (restoring,) = [tab for tab, answer in zip(tabs, answers, strict=True) if answer in renewed]
        restoring.http.cookies.set("__Host-session", None)
        assert is_signed_in(restoring.get(server, "/dashboard"))


def test_a_second_click_after_the_session_id_changed_keeps_the_user_signed_in(module_deployment, server):
    """The second submit of a re-authentication leaves with the old session id: a 409, no cookie change."""
    for _ in range(ROUNDS):
        _username, main, _other = account(module_deployment, server)
        token = csrf_token_from(main.get(server, "/auth/reauth").text)
        late = module_deployment.browser(cookies_from=main)
        assert main.post(server, "/auth/reauth", {"csrf_token": token, "password": PASSWORD}).status_code == 303
        answer = late.post(server, "/auth/reauth", {"csrf_token": token, "password": PASSWORD})
        assert answer.status_code == 409
        assert "Set-Cookie" not in answer.headers
        assert is_signed_in(main.get(server, "/dashboard"))
        assert no_server_errors(main, late) == []


def test_operator_commands_while_users_click(module_deployment, server):
    username, main, other = account(module_deployment, server)
    redis_url = server.env["REDIS_URL"]
    stop = threading.Event()

    def keep_clicking():
        while not stop.is_set():
            main.get(server, "/dashboard")
            other.get(server, "/account/sessions")

    clicker = threading.Thread(target=keep_clicking)
    clicker.start()
    try:
        flask_command(module_deployment.settings(redis_url, **FAST_SETTINGS), ["sessions", "revoke", username])
        flask_command(module_deployment.settings(redis_url, **FAST_SETTINGS), ["retention", "purge"])
    finally:
        stop.set()
        clicker.join()
    assert no_server_errors(main, other) == []
    assert sent_to_sign_in(main.get(server, "/dashboard"))


def test_many_reauthentication_submits_at_once_renew_the_session_once(module_deployment, server):
    """Ten submits of one re-authentication form at once: one renews the session, the rest get 409.

    Found from outside: several of them renewed it in turn, each deleting the id before,
    and the browser could keep an answer that named a deleted session: signed out.
    """
    submits_at_once = 10
    for _ in range(ROUNDS):
        _username, main, _other = account(module_deployment, server)
        token = csrf_token_from(main.get(server, "/auth/reauth").text)
        clicks = [module_deployment.browser(cookies_from=main) for _ in range(submits_at_once)]
        fields = {"csrf_token": token, "password": PASSWORD}
        answers = at_once(
            *[lambda click=click, fields=fields: click.post(server, "/auth/reauth", fields) for click in clicks]
        )
        assert sorted(answer.status_code for answer in answers) == [303] + [409] * (submits_at_once - 1)
        assert [answer for answer in answers if "Set-Cookie" in answer.headers] == [
            answer for answer in answers if answer.status_code == 303
        ]
        (renewed,) = [click for click, answer in zip(clicks, answers, strict=True) if answer.status_code == 303]
        assert is_signed_in(renewed.get(server, "/dashboard"))
        assert no_server_errors(*clicks) == []
