"""API keys and OIDC tokens: who a request's credentials name, and every way they can fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import admin
import authorizer
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm

from lightbox.adapters.oidc import OidcTokenVerifier
from lightbox.domain import Principal
from lightbox.errors import InvalidField, NotFound, Unauthorized
from lightbox.services import auth
from lightbox.wiring import Container
from tests.fakes import FakeApiKeyRepository
from tests.support import load_event

ISSUER = "https://issuer.test/pool"
AUDIENCE = "gallery-client"


def bearer(credentials: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials}"}


def test_a_created_key_names_its_owner_until_revoked_and_only_its_hash_is_kept() -> None:
    keys = FakeApiKeyRepository()
    new = auth.create_key("studio", "laptop", keys=keys)
    assert new.secret.startswith("lbk_") and new.key.prefix == new.secret[:10]
    assert all(new.secret.encode() not in stored for stored in keys.keys)
    assert auth.authenticate(bearer(new.secret), keys=keys, tokens=None) == Principal("studio")
    assert auth.authenticate({"authorization": f"bearer  {new.secret} "}, keys=keys,
                             tokens=None) == Principal("studio")
    with pytest.raises(NotFound):
        auth.revoke_key("someone-else", new.key.id, keys=keys)
    auth.revoke_key("studio", new.key.id, keys=keys)
    with pytest.raises(Unauthorized, match="unknown or revoked"):
        auth.authenticate(bearer(new.secret), keys=keys, tokens=None)


def test_a_rotated_key_works_beside_its_successor_until_its_grace_ends() -> None:
    keys = FakeApiKeyRepository()
    old = auth.create_key("ops", "console", admin=True, keys=keys)

    new, rotated = auth.rotate_key("ops", old.key.id, grace_seconds=3600, keys=keys)

    assert (new.key.name, new.key.admin, new.key.owner_id) == ("console", True, "ops")
    assert new.secret != old.secret and new.key.expires_at is None
    for secret in (old.secret, new.secret):  # no moment in which a client is refused
        assert auth.authenticate(bearer(secret), keys=keys, tokens=None) == Principal(
            "ops", admin=True)
    assert rotated.id == old.key.id and rotated.expires_at is not None
    assert 3590 <= (rotated.expires_at - datetime.now(UTC)).total_seconds() <= 3600


def test_a_rotation_without_grace_ends_the_old_key_at_once() -> None:
    keys = FakeApiKeyRepository()
    old = auth.create_key("alice", "laptop", keys=keys)

    new, _ = auth.rotate_key("alice", old.key.id, grace_seconds=0, keys=keys)

    with pytest.raises(Unauthorized):
        auth.authenticate(bearer(old.secret), keys=keys, tokens=None)
    assert auth.authenticate(bearer(new.secret), keys=keys, tokens=None) == Principal("alice")
    with pytest.raises(InvalidField, match="revoked or expired"):
        auth.rotate_key("alice", old.key.id, grace_seconds=600, keys=keys)


def test_a_key_rotated_already_is_not_rotated_again() -> None:
    keys = FakeApiKeyRepository()
    old = auth.create_key("alice", "laptop", keys=keys)
    auth.rotate_key("alice", old.key.id, grace_seconds=600, keys=keys)

    with pytest.raises(InvalidField, match="rotated already"):
        auth.rotate_key("alice", old.key.id, grace_seconds=60, keys=keys)
    assert len(keys.keys) == 2  # the key and its one successor


@pytest.mark.parametrize("grace", [-1, 30 * 24 * 3600 + 1])
def test_a_rotation_is_refused_for_a_grace_out_of_range_or_a_key_not_the_owners(
        grace: int) -> None:
    keys = FakeApiKeyRepository()
    old = auth.create_key("alice", "laptop", keys=keys)
    with pytest.raises(InvalidField, match="grace"):
        auth.rotate_key("alice", old.key.id, grace_seconds=grace, keys=keys)
    with pytest.raises(NotFound):
        auth.rotate_key("mallory", old.key.id, grace_seconds=60, keys=keys)
    auth.revoke_key("alice", old.key.id, keys=keys)
    with pytest.raises(InvalidField, match="revoked"):
        auth.rotate_key("alice", old.key.id, grace_seconds=60, keys=keys)
    assert len(keys.keys) == 1  # no successor was made for any of them


def test_only_a_key_made_admin_names_an_admin() -> None:
    keys = FakeApiKeyRepository()
    operator = auth.create_key("ops", "console", admin=True, keys=keys)
    plain = auth.create_key("ops", "laptop", keys=keys)
    assert operator.key.admin and not plain.key.admin
    assert auth.authenticate(bearer(operator.secret), keys=keys, tokens=None) == Principal(
        "ops", admin=True)
    assert auth.authenticate(bearer(plain.secret), keys=keys, tokens=None) == Principal(
        "ops", admin=False)


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
    bearer("lbk_unknown"), bearer("not-a-key"), bearer("a.b.c"),
])
def test_missing_or_wrong_credentials_are_unauthorized(headers: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        auth.authenticate(headers, keys=FakeApiKeyRepository(), tokens=None)


@pytest.mark.parametrize("owner", ["", "../etc", "a" * 65, "ünï", "owner\n"])
def test_a_key_is_only_made_for_a_valid_owner(owner: str) -> None:
    with pytest.raises(InvalidField):
        auth.create_key(owner, "", keys=FakeApiKeyRepository())


# --- OIDC tokens -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    """The issuer's keys, served on loopback as an OIDC issuer publishes them."""
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
def verifier(jwks_url: str) -> OidcTokenVerifier:
    return OidcTokenVerifier(issuer=ISSUER, jwks_url=jwks_url, audience=AUDIENCE)


def token(key: Any, *, algorithm: str = "RS256", kid: str = "key-1", **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "sub": "user-42", "aud": AUDIENCE, "iat": now, "exp": now + 300,
               **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key,
                      algorithm=algorithm, headers={"kid": kid})


def test_a_token_of_the_issuer_names_its_subject_as_owner(
    verifier: OidcTokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    assert verifier.owner_of(token(signing_key)) == "user-42"
    # Cognito access tokens carry the client in client_id instead of aud.
    access = token(signing_key, aud=None, client_id=AUDIENCE, token_use="access")
    assert verifier.owner_of(access) == "user-42"
    # A token names an owner, never an admin: admins are made with API keys only.
    assert auth.authenticate(bearer(token(signing_key)), keys=FakeApiKeyRepository(),
                             tokens=verifier) == Principal("user-42", admin=False)


@pytest.mark.parametrize(("claims", "message"), [
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"iss": "https://elsewhere.test"}, "issuer"),
    ({"aud": "another-client"}, "another audience"),
    ({"sub": "../../etc"}, "no valid owner"),
    ({"sub": None}, "no valid owner"),
])
def test_a_token_that_is_not_for_us_is_unauthorized(
    verifier: OidcTokenVerifier, signing_key: rsa.RSAPrivateKey, claims: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(Unauthorized, match=message):
        verifier.owner_of(token(signing_key, **claims))


def test_forged_tokens_are_unauthorized(verifier: OidcTokenVerifier,
                                        signing_key: rsa.RSAPrivateKey) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        verifier.owner_of(token(other_key))  # signed by someone else
    with pytest.raises(Unauthorized):
        verifier.owner_of(token(signing_key, kid="unknown"))
    # The classic confusion: HS256 "signed" with the issuer's public key as the secret.
    public_pem = signing_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header, payload = (base64url(json.dumps(part).encode()) for part in (
        {"alg": "HS256", "typ": "JWT", "kid": "key-1"},
        {"iss": ISSUER, "sub": "x", "aud": AUDIENCE, "exp": 2**31}))
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthorized):
        verifier.owner_of(f"{header}.{payload}.{base64url(signature)}")


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- the authorizer function -----------------------------------------------------------------

def authorizer_event(headers: dict[str, str]) -> dict[str, Any]:
    event = load_event("apiGatewayProxyRequest.json")
    return {"type": "REQUEST", "methodArn":
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/POST/v1/uploads",
            **{k: event[k] for k in ("resource", "path", "httpMethod", "requestContext")},
            "headers": headers}


def test_the_authorizer_allows_the_whole_api_for_the_keys_owner(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = FakeApiKeyRepository()
    new = auth.create_key("studio", "", keys=keys)
    monkeypatch.setattr(authorizer, "container", Container(api_keys=keys))
    answer = authorizer.handler(authorizer_event(bearer(new.secret)), None)
    assert answer["principalId"] == "studio"
    assert answer["context"] == {"owner_id": "studio", "admin": False}
    (statement,) = answer["policyDocument"]["Statement"]
    # Cached per key by API Gateway: the answer must hold for every route.
    assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow",
                         "Resource": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/*"}


def test_the_authorizer_tells_the_functions_when_the_key_is_an_admins(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = FakeApiKeyRepository()
    new = auth.create_key("ops", "", admin=True, keys=keys)
    monkeypatch.setattr(authorizer, "container", Container(api_keys=keys))
    answer = authorizer.handler(authorizer_event(bearer(new.secret)), None)
    assert answer["context"] == {"owner_id": "ops", "admin": True}


def test_the_authorizer_refuses_with_the_message_api_gateway_turns_into_401(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authorizer, "container", Container(api_keys=FakeApiKeyRepository()))
    for headers in ({}, bearer("lbk_nope")):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.handler(authorizer_event(headers), None)


# --- the admin function: keys in a deployed stack ---------------------------------------------

def test_the_admin_function_creates_lists_and_revokes_keys(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = FakeApiKeyRepository()
    monkeypatch.setattr(admin, "container", Container(api_keys=keys))
    created = admin.handler({"command": "create-key", "owner": "alice", "name": "laptop"}, None)
    assert created["secret"].startswith("lbk_") and created["key"]["owner"] == "alice"
    assert created["key"]["admin"] is False
    assert auth.authenticate(bearer(created["secret"]), keys=keys, tokens=None) == Principal(
        "alice")
    listed = admin.handler({"command": "list-keys"}, None)["keys"]
    assert [key["name"] for key in listed] == ["laptop"] and "secret" not in listed[0]
    revoked = admin.handler({"command": "revoke-key", "owner": "alice",
                             "key_id": created["key"]["key_id"]}, None)
    assert revoked["key"]["revoked_at"] is not None
    with pytest.raises(Unauthorized):
        auth.authenticate(bearer(created["secret"]), keys=keys, tokens=None)


def test_the_admin_function_rotates_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = FakeApiKeyRepository()
    monkeypatch.setattr(admin, "container", Container(api_keys=keys))
    created = admin.handler({"command": "create-key", "owner": "alice", "name": "laptop"}, None)
    rotated = admin.handler({"command": "rotate-key", "owner": "alice", "grace_seconds": 60,
                             "key_id": created["key"]["key_id"]}, None)
    assert rotated["rotated"]["key_id"] == created["key"]["key_id"]
    assert rotated["rotated"]["expires_at"] is not None and rotated["key"]["expires_at"] is None
    assert rotated["key"]["name"] == "laptop" and rotated["secret"].startswith("lbk_")
    for secret in (created["secret"], rotated["secret"]):
        assert auth.authenticate(bearer(secret), keys=keys, tokens=None) == Principal("alice")


def test_the_admin_function_creates_an_admin_key_when_asked(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = FakeApiKeyRepository()
    monkeypatch.setattr(admin, "container", Container(api_keys=keys))
    created = admin.handler({"command": "create-key", "owner": "ops", "admin": True}, None)
    assert created["key"]["admin"] is True
    assert auth.authenticate(bearer(created["secret"]), keys=keys, tokens=None).admin
    assert [key["admin"] for key in admin.handler({"command": "list-keys"}, None)["keys"]] == [
        True]


@pytest.mark.parametrize("event", [
    {}, {"command": "drop-database"}, {"command": "create-key"},
    {"command": "create-key", "owner": "ops", "admin": "yes"},
    {"command": "revoke-key", "owner": "alice", "key_id": "nope"},
    {"command": "rotate-key", "owner": "alice", "key_id": "nope"},
    {"command": "rotate-key", "owner": "alice", "key_id": "5b1e0f3a-0000-4000-8000-000000000000",
     "grace_seconds": "a day"},
    {"command": "recover"}, {"command": "recover", "before": "yesterday"},
    {"command": "recover", "before": "2026-12-04T10:00:00"},  # no time zone
])
def test_the_admin_function_refuses_what_it_does_not_know(
    monkeypatch: pytest.MonkeyPatch, event: dict[str, Any]
) -> None:
    monkeypatch.setattr(admin, "container", Container(api_keys=FakeApiKeyRepository()))
    with pytest.raises(InvalidField):
        admin.handler(event, None)
