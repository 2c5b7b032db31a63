"""User tokens: HS256 JWTs shaped like the seed page's example, signed per sandbox.

Examples:
    >>> from datetime import UTC, datetime
    >>> issuer = TokenIssuer(secret="s" * 32, client_id="0d9b5bf3-97fa-4757-a136-b2a03d171414")
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> access = issuer.access("0180519e-620f-a480-0a6d-307c086c0773", now)
    >>> claims = issuer.decode(access, now)
    >>> claims["user_id"] == claims["sub"], claims["exp"] - claims["iat"]
    (True, 2592000)
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt

__all__ = ["ISSUER", "TOKEN_LIFETIME", "TokenIssuer"]

#: ``iss`` claim of the sandbox's tokens (Argyle's production tokens say argyle-core-auth-prod).
ISSUER = "argyle-core-auth-sandbox"
#: ``exp - iat`` of every token.
TOKEN_LIFETIME = timedelta(days=30)


class TokenIssuer:
    """Signs access and refresh tokens for users of one sandbox."""

    def __init__(self, secret: str, client_id: str) -> None:
        self._secret = secret
        self.client_id = client_id

    def __repr__(self) -> str:
        return f"TokenIssuer(client_id={self.client_id!r})"

    def _claims(self, user_id: str, now: datetime) -> dict[str, Any]:
        iat = int(now.timestamp())
        return {
            "exp": iat + int(TOKEN_LIFETIME.total_seconds()),
            "iat": iat,
            "iss": ISSUER,
            "jti": str(uuid.uuid4()),
            "sub": user_id,
        }

    def access(self, user_id: str, now: datetime) -> str:
        """An access token: claims client_id, exp, iat, iss, jti, sub and user_id."""
        claims = {"client_id": self.client_id, **self._claims(user_id, now), "user_id": user_id}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def refresh(self, user_id: str, now: datetime) -> str:
        """A (deprecated) refresh token: claims exp, jti, iat, iss and sub."""
        return jwt.encode(self._claims(user_id, now), self._secret, algorithm="HS256")

    def decode(self, token: str, now: datetime | None = None) -> dict[str, Any]:
        """Verify a token's signature (and expiry at ``now``) and return its claims."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self._secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"verify_exp": now is None},
        )
        if now is not None and claims["exp"] <= int(now.timestamp()):
            raise jwt.ExpiredSignatureError("Signature has expired")
        return claims
