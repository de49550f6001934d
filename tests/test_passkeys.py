"""Passkeys with a software authenticator: add, sign in alone or after the password,
re-authenticate, remove. The browser's side is played by tests/e2e/test_passkeys.py."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SignIn
from app.second_factors.models import Passkey, RecoveryCode
from tests.conftest import AuthActions, csrf_token_from
from tests.support.second_factors import RECOVERY_CODE_PATTERN, add_passkey, passkey_answer, reauthenticate
from tests.support.soft_authenticator import SoftPasskey


def browser(app, address="198.51.100.30"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(app, client)


def newest_sign_in(app):
    with app.app_context():
        return db.session.scalars(select(SignIn).order_by(SignIn.id.desc())).first().second_factor


def test_the_relying_party_comes_from_the_config_never_the_request(signed_in, app):
    reauthenticate(signed_in)
    token = csrf_token_from(signed_in.client.get("/account/second-factor"))
    options = signed_in.client.post("/passkeys/options/register", headers={"X-CSRFToken": token}).get_json()
    assert options["rp"]["id"] == "sessions.example"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    # ES256 and RS256 only: no EdDSA, whose small-order keys verify forged signatures.
    assert [choice["alg"] for choice in options["pubKeyCredParams"]] == [-7, -257]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["name"] == "alice"
    # A request for another host name still gets the configured relying party.
    elsewhere = app.test_client()
    token = csrf_token_from(elsewhere.get("/auth/login", base_url="http://evil.example"))
    options = elsewhere.post(
        "/passkeys/options/sign-in", headers={"X-CSRFToken": token}, base_url="http://evil.example"
    ).get_json()
    assert options["rpId"] == "sessions.example" and options["allowCredentials"] == []


@pytest.mark.parametrize(
    "public_base_url, offered", [("https://sessions.example", True), ("http://127.0.0.1:5000", False)]
)
def test_the_sign_in_page_offers_a_passkey_only_where_passkeys_work(make_app, public_base_url, offered):
    # A relying party needs a host name: for an address passkeys are off (config.py).
    app = make_app(PUBLIC_BASE_URL=public_base_url)
    page = app.test_client().get("/auth/login").text
    assert ('data-passkey="sign-in"' in page) is offered
    assert ("/static/passkeys.js" in page) is offered
    assert 'name="password"' in page


def test_adding_the_first_passkey_shows_recovery_codes_and_lists_it_by_name(signed_in, app):
    first = SoftPasskey()
    added = add_passkey(signed_in, first, name="Work laptop")
    assert added.status_code == 200
    assert len(RECOVERY_CODE_PATTERN.findall(added.get_data(as_text=True))) == 10
    overview = signed_in.client.get("/account/second-factor").get_data(as_text=True)
    assert "Work laptop" in overview
    assert "Passkey added" in signed_in.client.get("/account/activity").get_data(as_text=True)
    # The account has a factor now: adding another is confirmed with it.
    second = add_passkey(signed_in, SoftPasskey(), name="Phone", confirm_with=first)
    assert second.status_code == 303
    with app.app_context():
        assert db.session.query(Passkey).count() == 2 and db.session.query(RecoveryCode).count() == 10


def test_adding_a_passkey_needs_a_recent_reauthentication(signed_in, clock):
    clock.advance(minutes=11)
    token = csrf_token_from(signed_in.client.get("/account/second-factor"))
    refused = signed_in.client.post("/passkeys/options/register", headers={"X-CSRFToken": token})
    # JSON for static/passkeys.js, with the page to open instead: confirm, then come back.
    assert refused.status_code == 403
    assert refused.get_json()["location"] == "/auth/reauth?next=/account/second-factor"
    added = signed_in.client.post("/account/passkeys", data={"name": "x", "credential": "{}", "csrf_token": token})
    assert added.status_code == 302 and added.headers["Location"].startswith("/auth/reauth")


def test_sign_in_with_a_passkey_alone(signed_in, app):
    passkey = SoftPasskey()
    add_passkey(signed_in, passkey)
    device = browser(app)
    answer, token = passkey_answer(device.client, passkey, "sign-in")
    done = device.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == "/dashboard"
    assert "alice" in device.client.get("/dashboard").get_data(as_text=True)
    assert newest_sign_in(app) == "passkey"


def test_a_passkey_as_the_second_factor_after_the_password(signed_in, app):
    passkey = SoftPasskey()
    add_passkey(signed_in, passkey)
    device = browser(app)
    assert device.login().headers["Location"] == "/auth/second-factor"
    assert "Use a passkey" in device.client.get("/auth/second-factor").get_data(as_text=True)
    answer, token = passkey_answer(device.client, passkey, "second-factor")
    done = device.client.post("/auth/second-factor/passkey", data={"credential": answer, "csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == "/dashboard"
    assert newest_sign_in(app) == "passkey"


def test_reauthentication_with_a_passkey(signed_in, clock):
    passkey = SoftPasskey()
    add_passkey(signed_in, passkey)
    clock.advance(minutes=11)
    answer, token = passkey_answer(signed_in.client, passkey, "reauth")
    done = signed_in.client.post(
        "/auth/reauth/passkey?next=/account/export", data={"credential": answer, "csrf_token": token}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/account/export"
    assert signed_in.client.get("/account/export").status_code == 200


def test_removing_the_last_passkey_ends_other_sign_ins_and_the_recovery_codes(signed_in, app):
    passkey = SoftPasskey()
    add_passkey(signed_in, passkey)
    device = browser(app)
    answer, token = passkey_answer(device.client, passkey, "sign-in")
    device.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token})
    with app.app_context():
        public_id = db.session.scalar(select(Passkey.public_id))
    reauthenticate(signed_in, passkey=passkey)
    token = csrf_token_from(signed_in.client.get("/account/second-factor"))
    removed = signed_in.client.post(f"/account/passkeys/{public_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert device.client.get("/dashboard").status_code == 302
    assert signed_in.client.get("/dashboard").status_code == 200
    with app.app_context():
        assert db.session.query(Passkey).count() == 0 and db.session.query(RecoveryCode).count() == 0
    assert browser(app, "198.51.100.31").login().headers["Location"] == "/dashboard"
    # A second click (a new token: the session id, and with it the CSRF secret, changed).
    token = csrf_token_from(signed_in.client.get("/account/second-factor"))
    again = signed_in.client.post(f"/account/passkeys/{public_id}/remove", data={"csrf_token": token})
    assert again.status_code == 303


def test_passkeys_are_off_without_a_relying_party(make_app):
    app = make_app(PUBLIC_BASE_URL=None)
    client = app.test_client()
    assert "Sign in with a passkey" not in client.get("/auth/login").get_data(as_text=True)
    token = csrf_token_from(client.get("/auth/login"))
    assert client.post("/passkeys/options/sign-in", headers={"X-CSRFToken": token}).status_code == 404


def test_malformed_passkey_answers_get_a_4xx(signed_in, app):
    add_passkey(signed_in, SoftPasskey())
    device = browser(app)
    answers = ("", "not json", "[]", '{"id": 1}', '{"id": "AAAA", "rawId": "AAAA", "response": {}}', "x" * 9000)
    for number, answer in enumerate(answers):
        # Each from its own address: the per-address limit would answer the sixth with a 429.
        device.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{40 + number}"
        token = csrf_token_from(device.client.get("/auth/login"))
        device.client.post("/passkeys/options/sign-in", headers={"X-CSRFToken": token})
        response = device.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token})
        assert response.status_code in (400, 401, 413), answer[:20]


def test_a_cloned_passkey_whose_counter_goes_back_is_refused(signed_in, app):
    passkey = SoftPasskey()
    add_passkey(signed_in, passkey)
    device = browser(app)
    answer, token = passkey_answer(device.client, passkey, "sign-in")
    assert device.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token}).status_code == 303
    clone = browser(app, "198.51.100.32")
    passkey.count = 0
    answer, token = passkey_answer(clone.client, passkey, "sign-in")
    assert clone.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token}).status_code == 401


def test_an_address_is_no_relying_party(make_app):
    assert make_app(PUBLIC_BASE_URL="http://127.0.0.1:5000").config["WEBAUTHN_RP_ID"] is None
    app = make_app(PUBLIC_BASE_URL="https://sessions.example:8443")
    assert app.config["WEBAUTHN_RP_ID"] == "sessions.example"
    assert app.config["WEBAUTHN_ORIGIN"] == "https://sessions.example:8443"


@pytest.mark.parametrize(
    ("purpose", "status"),
    [("register", 401), ("reauth", 401), ("second-factor", 400)],
)
def test_a_visitor_asking_for_options_is_sent_to_the_sign_in_page_in_json(client, purpose, status):
    token = csrf_token_from(client.get("/auth/login"))
    refused = client.post(f"/passkeys/options/{purpose}", headers={"X-CSRFToken": token})
    assert refused.status_code == status
    assert refused.is_json and refused.get_json()["location"] == "/auth/login"


@pytest.mark.parametrize("algorithm", [-257, -8, -37])
def test_a_passkey_whose_key_names_another_algorithm_is_refused_when_added(signed_in, algorithm):
    # A P-256 key declaring RS256, EdDSA or PS256 could never sign in: refused now.
    refused = add_passkey(signed_in, SoftPasskey(algorithm=algorithm), name="Odd key")
    assert refused.status_code == 400
    assert "The passkey could not be added" in refused.get_data(as_text=True)


def test_a_passkey_registered_already_is_refused_as_such(app, signed_in):
    passkey = SoftPasskey()
    assert add_passkey(signed_in, passkey, name="First").status_code == 200
    again = add_passkey(signed_in, passkey, name="Again", confirm_with=passkey)
    assert again.status_code == 400
    assert "That passkey is registered already." in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Passkey).count() == 1


@pytest.mark.parametrize(
    "cose_key",
    [
        [1, 2, 3],
        "a text",
        b"some bytes",
        {1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32},  # a point off the curve
        {1: 2, 3: -7, -1: 1, -2: b"\x01" * 31, -3: b"\x02" * 32},
        {1: 3, 3: -257, -1: b"\xc1" + bytes(255), -2: b"\x01"},  # RSA with e = 1
        {1: 1, 3: -8, -1: 4, -2: b"\x01" * 32},  # X25519, which signs nothing, as EdDSA
    ],
)
def test_a_public_key_that_could_never_sign_in_is_refused_when_added(app, signed_in, cose_key):
    refused = add_passkey(signed_in, SoftPasskey(cose_key=cose_key), name="Odd key")
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.query(Passkey).count() == 0


@pytest.mark.parametrize(
    "name",
    [
        "Laptop\u202egnp.exe",  # a right-to-left override
        "Lap\u200btop",
        "\u2066Phone\u2069",
        "\ufeffKey",
        "Phone\u2028This passkey was added by the security team.",  # a line separator
        "Phone\u2029Paragraph",
        "Phone\u0085Next line",
        "Phone\u009b31m",
        "\u3164\u3164",  # Hangul fillers: a name that prints as nothing
        "\u2800",
        "\ufe0f\ufe0f\ufe0f",  # variation selectors alone
        "\u3164\ufe0f",  # a filler with a mark
        "\u00a0\u034f",
        "\u17b4\u17b5",
        "\U0001d159",
        "Key\ue000",  # private use
        "Key\U000e0001",  # a language tag (format)
        "Key\u0378",  # unassigned
    ],
)
def test_a_passkey_name_with_characters_that_do_not_print_is_refused(app, signed_in, name):
    refused = add_passkey(signed_in, SoftPasskey(), name=name)
    assert refused.status_code == 400
    assert "characters that are not allowed" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Passkey).count() == 0


def rsa_cose_key(bits, exponent=65537):
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(public_exponent=exponent, key_size=bits).public_key().public_numbers()
    return {1: 3, 3: -257, -1: numbers.n.to_bytes((bits + 7) // 8, "big"), -2: numbers.e.to_bytes(3, "big")}


def p384_cose_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    numbers = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    return {1: 2, 3: -7, -1: 2, -2: numbers.x.to_bytes(48, "big"), -3: numbers.y.to_bytes(48, "big")}


@pytest.mark.parametrize(
    ("what", "cose_key"),
    [
        # An Ed25519 key of small order verifies signatures forged without a private key.
        ("Ed25519 identity point", {1: 1, 3: -8, -1: 6, -2: b"\x01" + bytes(31)}),
        ("Ed25519 all zero", {1: 1, 3: -8, -1: 6, -2: bytes(32)}),
        ("RSA 1024 bits", rsa_cose_key(1024)),
        ("RSA with an even modulus", {1: 3, 3: -257, -1: b"\xc0" + bytes(255), -2: b"\x01\x00\x01"}),
        ("P-384 declared as ES256", p384_cose_key()),
        ("ES512", {1: 2, 3: -36, -1: 3, -2: bytes(66), -3: bytes(66)}),
    ],
)
def test_a_weak_or_unoffered_key_is_refused_when_added(app, signed_in, what, cose_key):
    assert add_passkey(signed_in, SoftPasskey(cose_key=cose_key), name="Weak").status_code == 400, what
    with app.app_context():
        assert db.session.query(Passkey).count() == 0


def test_an_rsa_2048_key_as_windows_hello_makes_is_accepted(app, signed_in):
    assert add_passkey(signed_in, SoftPasskey(cose_key=rsa_cose_key(2048)), name="Windows").status_code == 200


def test_a_credential_id_longer_than_webauthn_allows_is_refused(app, signed_in):
    passkey = SoftPasskey()
    passkey.credential_id = bytes(1024)
    assert add_passkey(signed_in, passkey, name="Long id").status_code == 400


@pytest.mark.parametrize("name", [".", "Work laptop", "YubiKey 5C", "Téléphone", "手机", "🔑"])
def test_a_passkey_name_that_prints_is_accepted(app, signed_in, name):
    assert add_passkey(signed_in, SoftPasskey(), name=name).status_code == 200
