"""Helpers for tests of second factors: set up an authenticator app through the pages."""

import re

import pyotp

from tests.conftest import csrf_token_from

SECRET_PATTERN = re.compile(r"<code>([A-Z2-7]{32})</code>")
RECOVERY_CODE_PATTERN = re.compile(r"<code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>")
CODES_SET_PATTERN = re.compile(r'name="codes_set" value="([^"]*)"')


def code_at(secret, moment):
    return pyotp.TOTP(secret).at(moment)


PASSWORD = "correct horse battery"


def reauthenticate(auth, code=None, password=PASSWORD, passkey=None):
    """Confirm it is the owner, as changes to the factors ask.

    With ``passkey`` (a SoftPasskey of the account) if given, else ``code`` if given,
    else the password.
    """
    if passkey is not None:
        credential, token = passkey_answer(auth.client, passkey, "reauth")
        answer = auth.client.post("/auth/reauth/passkey", data={"credential": credential, "csrf_token": token})
    elif code is not None:
        token = csrf_token_from(auth.client.get("/auth/reauth"))
        answer = auth.client.post("/auth/reauth/code", data={"code": code, "csrf_token": token})
    else:
        token = csrf_token_from(auth.client.get("/auth/reauth"))
        answer = auth.client.post("/auth/reauth", data={"password": password, "csrf_token": token})
    assert answer.status_code == 303, answer.status_code


def add_app(auth, clock, code=None):
    """Add an authenticator app to the signed-in account; returns (secret, recovery codes).

    Re-authenticates first (with ``code`` where the account has a factor already). The
    clock then moves on one step, so that the next code is not the one just used.
    """
    reauthenticate(auth, code)
    page = auth.client.get("/account/second-factor/app")
    assert page.status_code == 200, page.status_code
    secret = SECRET_PATTERN.search(page.get_data(as_text=True)).group(1)
    done = auth.client.post(
        "/account/second-factor/app", data={"code": code_at(secret, clock.now), "csrf_token": csrf_token_from(page)}
    )
    assert done.status_code == 200, done.status_code
    codes = RECOVERY_CODE_PATTERN.findall(done.get_data(as_text=True))
    clock.advance(seconds=30)
    return secret, codes


def submit_code(client, code):
    """Send ``code`` to the second-factor step (the sign-in page gives the visitor's CSRF token)."""
    token = csrf_token_from(client.get("/auth/login"))
    return client.post("/auth/second-factor", data={"code": code, "csrf_token": token})


def passkey_options(client, purpose, token):
    response = client.post(f"/passkeys/options/{purpose}", headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.status_code
    return response.get_json()


def add_passkey(auth, passkey, name="Laptop", code=None, confirm_with=None):
    """Register ``passkey`` (a SoftPasskey) on the signed-in account; returns the response.

    Re-authenticates first: where the account has a factor already, with ``code`` or
    the passkey ``confirm_with``; else with the password.
    """
    reauthenticate(auth, code, passkey=confirm_with)
    token = csrf_token_from(auth.client.get("/account/second-factor"))
    credential = passkey.create(passkey_options(auth.client, "register", token))
    return auth.client.post("/account/passkeys", data={"name": name, "credential": credential, "csrf_token": token})


def passkey_answer(client, passkey, purpose):
    """A fresh challenge for ``purpose`` in this browser, answered by ``passkey``; returns (answer, token)."""
    token = csrf_token_from(client.get("/auth/login")) if purpose in ("sign-in", "second-factor") else None
    if token is None:
        token = csrf_token_from(client.get("/auth/reauth"))
    return passkey.get(passkey_options(client, purpose, token)), token


def new_codes_form(client):
    """The fields of the "Make new recovery codes" form as the overview page shows it now."""
    page = client.get("/account/second-factor")
    codes_set = CODES_SET_PATTERN.search(page.get_data(as_text=True)).group(1)
    return {"csrf_token": csrf_token_from(page), "codes_set": codes_set}
