"""Every collection kept in a session has a bound.

Kind of fault: a session that grows without end. Requesting a protected page again
and again without following the redirect added one "please sign in" message per
request: 2,000 requests made an 80 KB session. Flashed messages are kept once each,
at most ``FLASHED_MESSAGES_LIMIT`` of them.
"""

from app.sessions import bound_flashes


def test_repeated_redirects_leave_one_message_and_a_small_session(app, client):
    for _ in range(300):
        assert client.get("/dashboard").status_code == 302
    # A visitor's session is the signed cookie: it stays small.
    assert len(client.get_cookie("__Host-visitor").value) < 512
    page = client.get("/auth/login").get_data(as_text=True)
    assert page.count("Please sign in to see that page.") == 1


def test_distinct_messages_stop_at_the_configured_limit(make_app):
    app = make_app(FLASHED_MESSAGES_LIMIT=3)
    with app.test_request_context():
        from flask import flash, session

        for number in range(10):
            flash(f"message {number}")
        bound_flashes(session, app.config["FLASHED_MESSAGES_LIMIT"])
        assert [message for _, message in session["_flashes"]] == ["message 7", "message 8", "message 9"]


def test_a_message_flashed_twice_is_kept_once_in_its_first_place(app):
    with app.test_request_context():
        from flask import flash, session

        for message in ("a", "b", "a", "c", "b"):
            flash(message)
        bound_flashes(session, 5)
        assert [message for _, message in session["_flashes"]] == ["a", "b", "c"]
