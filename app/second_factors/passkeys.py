"""Passkeys (WebAuthn): registration, and sign-in or confirmation with one.

A passkey signs a fresh challenge with a private key that never leaves the
authenticator, and only for the relying party it was made for. Threats:

- phishing: the browser puts the page's origin into what the key signs; only
  ``WEBAUTHN_ORIGIN`` is accepted and the relying-party id is ``WEBAUTHN_RP_ID``,
  both from the config (derived from ``PUBLIC_BASE_URL``), never from the request,
  so a lookalike host or a forged Host header cannot make its own passkeys count;
- replay of a signed answer: each challenge is 256 random bits, lives 5 minutes,
  serves one purpose (sign-in, second factor, re-authentication, registration) and
  is used once. It waits in the session (a visitor's signed cookie before sign-in),
  and its use is marked in the session store with ``SET ... NX``, so a copy of the
  cookie cannot present it twice; the store is written only when an answer comes in;
- a passkey of one account offered for another: the credential must belong to the
  account being signed in (or, for a passkey alone, to the account its user handle
  names);
- a cloned authenticator: a signature counter that does not go up is refused.

User verification (PIN or biometrics on the device) is required: a passkey alone
must be two factors, something held and something known or been.
"""

import secrets

from flask import current_app, session
from sqlalchemy import select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authentication_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier as Algorithm
from webauthn.helpers.decode_credential_public_key import DecodedEC2PublicKey, DecodedRSAPublicKey
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import clock, sessions
from ..extensions import db
from ..models import User
from ..tokens import sha256_hex
from .models import Passkey

# The signature algorithms a new passkey may use, as the registration options ask:
# ES256 (every passkey provider, most security keys) and RS256 (Windows Hello).
# Threat: a key chosen to be weak. An Ed25519 key of small order, which cryptography
# loads, verifies a signature forged without any private key; 512-bit RSA keys are
# factored in hours. So EdDSA is not offered, an ES256 key must be a P-256 point,
# and an RSA modulus odd and of 2,048 to 8,192 bits (cryptography checks the point
# and the exponent when it loads the key).
ACCEPTED_ALGORITHMS = (Algorithm.ECDSA_SHA_256, Algorithm.RSASSA_PKCS1_v1_5_SHA_256)
P256 = 1  # COSE curve identifier (RFC 9053)
RSA_MODULUS_BITS = range(2048, 8192 + 1)
# WebAuthn Level 3: a credential id is at most 1,023 bytes.
MAX_CREDENTIAL_ID_BYTES = 1023

# What py_webauthn, cbor2 and cryptography raise for an answer they cannot read or
# verify (a COSE key that is a CBOR list raises IndexError): each is a refusal, a 400.
MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError)

CHALLENGE_KEY = "_passkey_challenge"
PURPOSES = ("sign-in", "second-factor", "reauth", "register")
_USED_PREFIX = "passkey-challenge:"


def registration_options(user):
    """Options for ``navigator.credentials.create``, as JSON; the challenge waits in the session."""
    options = generate_registration_options(
        rp_id=current_app.config["WEBAUTHN_RP_ID"],
        rp_name=current_app.config["SITE_NAME"],
        user_name=user.username,
        # The user handle: the account's random public id, never its integer id.
        user_id=user.public_id.encode(),
        challenge=_new_challenge("register"),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        exclude_credentials=_descriptors(user.id),
        supported_pub_key_algs=list(ACCEPTED_ALGORITHMS),
    )
    return options_to_json(options)


def authentication_options(purpose, user_id=None):
    """Options for ``navigator.credentials.get``; without ``user_id``, any passkey of this site."""
    options = generate_authentication_options(
        rp_id=current_app.config["WEBAUTHN_RP_ID"],
        challenge=_new_challenge(purpose),
        allow_credentials=_descriptors(user_id) if user_id is not None else [],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


class AlreadyRegistered(Exception):
    """The new passkey's credential id is stored already (this account's, or another's)."""


def register(user_id, credential, name):
    """Verify a new passkey's answer and store it (the caller commits); ``None`` if it fails.

    Raises ``AlreadyRegistered`` for a credential id that is stored already.
    """
    challenge = _take_challenge("register")
    if challenge is None:
        return None
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=current_app.config["WEBAUTHN_RP_ID"],
            expected_origin=current_app.config["WEBAUTHN_ORIGIN"],
            require_user_verification=True,
        )
    except MALFORMED:
        return None
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES or not _usable(verified.credential_public_key):
        return None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise AlreadyRegistered()
    passkey = Passkey(
        user_id=user_id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
    )
    db.session.add(passkey)
    return passkey


def _usable(public_key):
    """True if ``public_key`` (COSE) is one of ``ACCEPTED_ALGORITHMS`` and strong, valid key material."""
    try:
        decoded = decode_credential_public_key(public_key)
        if decoded.alg not in ACCEPTED_ALGORITHMS:
            return False
        if isinstance(decoded, DecodedEC2PublicKey):
            if decoded.alg != Algorithm.ECDSA_SHA_256 or decoded.crv != P256:
                return False
        elif isinstance(decoded, DecodedRSAPublicKey):
            modulus = int.from_bytes(decoded.n, "big")
            if (
                decoded.alg == Algorithm.ECDSA_SHA_256
                or modulus % 2 == 0
                or modulus.bit_length() not in RSA_MODULUS_BITS
            ):
                return False
        else:
            return False
        decoded_public_key_to_cryptography(decoded)
    except MALFORMED:
        return False
    return True


def authenticate(purpose, credential, user_id=None):
    """The passkey that signed this purpose's challenge, or ``None``.

    ``user_id``: the account it must belong to (second factor, re-authentication);
    without it (a passkey alone) the account is the one its user handle names.
    """
    challenge = _take_challenge(purpose)
    if challenge is None:
        return None
    try:
        parsed = parse_authentication_credential_json(credential)
        passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == bytes_to_base64url(parsed.raw_id)))
        if passkey is None or (user_id is not None and passkey.user_id != user_id):
            return None
        # The user handle the passkey was registered with: its account's public id.
        handle = parsed.response.user_handle
        if handle is not None and handle != db.session.get(User, passkey.user_id).public_id.encode():
            return None
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=current_app.config["WEBAUTHN_RP_ID"],
            expected_origin=current_app.config["WEBAUTHN_ORIGIN"],
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except MALFORMED:
        return None
    # Only over the count that was checked: two answers with one count cannot both pass.
    updated = db.session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return passkey if updated == 1 else None


def of_user(user_id):
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)))


def _descriptors(user_id):
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id)) for passkey in of_user(user_id)]


def _new_challenge(purpose):
    challenge = secrets.token_bytes(32)
    session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "issued_at": int(clock.utcnow().timestamp()),
    }
    return challenge


def _take_challenge(purpose):
    """This session's challenge for ``purpose``, used up; ``None`` if absent, stale or used."""
    stored = session.pop(CHALLENGE_KEY, None)
    if not isinstance(stored, dict) or stored.get("purpose") != purpose:
        return None
    issued_at, encoded = stored.get("issued_at"), stored.get("challenge")
    lifetime = current_app.config["SECOND_FACTOR_PENDING_LIFETIME"]
    if not isinstance(issued_at, int) or not isinstance(encoded, str):
        return None
    if not 0 <= clock.utcnow().timestamp() - issued_at <= lifetime.total_seconds():
        return None
    # The mark outlives any challenge it names: a copy of this session cannot reuse it.
    if not sessions.mark_used_once(_USED_PREFIX + sha256_hex(encoded), lifetime):
        return None
    try:
        return base64url_to_bytes(encoded)
    except ValueError:
        return None
