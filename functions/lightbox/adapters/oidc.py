"""JWTs from an OIDC issuer (Cognito or any other), verified with PyJWT against its JWKS."""

from __future__ import annotations

import jwt

from lightbox.domain import OWNER_ID
from lightbox.errors import Unauthorized, Unavailable

# Asymmetric algorithms only: a shared-secret (HS*) token could be forged from the public key.
_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class OidcTokenVerifier:
    def __init__(
        self, *, issuer: str, jwks_url: str, audience: str | None, owner_claim: str = "sub"
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._owner_claim = owner_claim
        # Keys are cached for the life of the execution environment and refetched when a
        # token names a key id not seen yet (the issuer rotated its keys).
        self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)

    def owner_of(self, token: str) -> str:
        try:
            signing_key = self._keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable(f"the token issuer's keys cannot be fetched: {exc}") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token cannot be verified: {exc}") from exc
        try:
            claims = jwt.decode(
                token, signing_key.key, algorithms=_ALGORITHMS, issuer=self._issuer,
                options={"require": ["exp", "iss"], "verify_aud": False}, leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token is not valid: {exc}") from exc
        if self._audience is not None and not self._meant_for_us(claims):
            raise Unauthorized("the token was issued for another audience")
        owner = claims.get(self._owner_claim)
        if not isinstance(owner, str) or not OWNER_ID.fullmatch(owner):
            raise Unauthorized(f"the token's {self._owner_claim!r} claim names no valid owner")
        return owner

    def _meant_for_us(self, claims: dict[str, object]) -> bool:
        # ID tokens carry the client in "aud"; Cognito's access tokens in "client_id".
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        return self._audience in audiences or claims.get("client_id") == self._audience
