"""A software passkey for tests without a browser: ES256, "none" attestation, user verified.

It answers the server's options the way a browser and an authenticator would,
producing the JSON that ``PublicKeyCredential.toJSON()`` gives. ``origin`` and the
relying-party id can be set wrong on purpose, to play a phishing site.
"""

import base64
import hashlib
import json
import secrets

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAGS_USER_PRESENT_AND_VERIFIED = 0x01 | 0x04
FLAG_ATTESTED_CREDENTIAL = 0x40


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftPasskey:
    def __init__(
        self, origin="https://sessions.example", rp_id="sessions.example", counts=True, algorithm=-7, cose_key=None
    ):
        """``counts=False``: a passkey that syncs between devices and keeps its counter at 0.

        ``algorithm``: the COSE algorithm its (P-256) key declares; -7 (ES256) is the true one.
        ``cose_key``: what to send as its public key instead (any value CBOR can encode).
        """
        self.origin, self.rp_id, self.counts, self.algorithm = origin, rp_id, counts, algorithm
        self.cose_key = cose_key
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.user_handle = None
        self.count = 0

    def _client_data(self, kind, challenge):
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}).encode()

    def _auth_data(self, flags):
        self.count += 1 if self.counts else 0
        return hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + self.count.to_bytes(4, "big")

    def create(self, options):
        """The answer to ``navigator.credentials.create`` with ``options`` (a dict)."""
        self.user_handle = options["user"]["id"]
        numbers = self.key.public_key().public_numbers()
        # COSE: EC2 key (1: 2), its algorithm (3: ES256 is -7), curve P-256 (-1: 1), then x and y.
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        cose_key = cbor2.dumps(self.cose_key or {1: 2, 3: self.algorithm, -1: 1, -2: x, -3: y})
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + cose_key
        auth_data = self._auth_data(FLAGS_USER_PRESENT_AND_VERIFIED | FLAG_ATTESTED_CREDENTIAL) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"])),
                    "attestationObject": b64url(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(self, options):
        """The answer to ``navigator.credentials.get`` with ``options`` (a dict)."""
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(FLAGS_USER_PRESENT_AND_VERIFIED)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": self.user_handle,
                },
                "clientExtensionResults": {},
            }
        )
