"""Property-based fuzzing: arbitrary text and bytes in every form field and the Cookie header.

Properties: never a 5xx, and a request the app rejects never changes an account.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import SignIn, User
from tests.conftest import AuthActions, csrf_token_from

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
field_text = st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")))

# Every form of the site: (path, fields, signed in?). The CSRF token is added by the test.
FORMS = [
    ("/auth/register", ("username", "password", "confirm"), False),
    ("/auth/login", ("username", "password", "remember"), False),
    ("/auth/reauth", ("password",), True),
    ("/account/password", ("current_password", "new_password", "confirm"), True),
    ("/account/delete", ("password",), True),
]


@pytest.fixture
def signed_in(make_app):
    # High limits: the fuzzer is not an attacker the limiter should stop.
    app = make_app(
        LOGIN_RATE_LIMIT="100000/minute",
        REGISTER_RATE_LIMIT="100000/minute",
        REAUTH_RATE_LIMIT="100000/minute",
        ACCOUNT_LOGIN_RATE_LIMIT="100000/minute",
        REAUTH_ACCOUNT_RATE_LIMIT="100000/minute",
        SUCCESSFUL_LOGIN_RATE_LIMIT="100000/minute",
        ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT="100000/minute",
    )
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    return auth


def account_state(app):
    with app.app_context():
        users = [(user.id, user.username, user.password_hash) for user in db.session.scalars(db.select(User))]
        sign_ins = sorted(record.token_hash for record in db.session.scalars(db.select(SignIn)))
        return users, sign_ins


@pytest.mark.parametrize(("path", "fields", "needs_sign_in"), FORMS)
def test_form_fields_never_cause_a_5xx_or_a_change_when_rejected(signed_in, path, fields, needs_sign_in):
    app = signed_in.app

    @FUZZ
    @given(values=st.fixed_dictionaries({field: field_text for field in fields}))
    def attempt(values):
        browser = signed_in.client if needs_sign_in else app.test_client()
        before = account_state(app)
        token = csrf_token_from(browser.get(path))
        response = browser.post(path, data={**values, "csrf_token": token})
        assert response.status_code < 500, (path, values)
        if response.status_code >= 400:
            assert account_state(app) == before, (path, values)

    attempt()


cookie_value = st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")))


def test_arbitrary_cookie_headers_never_cause_a_5xx(signed_in):
    app = signed_in.app

    @FUZZ
    # Any bytes but CR and LF, which cannot occur inside an HTTP header at all.
    @given(
        session=cookie_value,
        remember=cookie_value,
        raw=st.binary(max_size=300).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
    )
    def attempt(session, remember, raw):
        client = app.test_client()
        header = f"__Host-session={session}; __Host-remember={remember}".encode("latin-1", "replace")
        header = header.replace(b"\r", b"").replace(b"\n", b"")
        for cookie in (header, raw):
            for path in ("/", "/dashboard", "/auth/login", "/account/sessions"):
                response = client.get(path, headers={"Cookie": cookie.decode("latin-1")})
                assert response.status_code < 500, (path, cookie)
                assert response.status_code in (200, 302), (path, cookie)

    attempt()
