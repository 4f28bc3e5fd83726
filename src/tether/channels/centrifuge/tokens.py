"""Connection and subscription JWTs of the Centrifuge protocol, verified with PyJWT.

A connection token names the user (``sub``) and may carry ``exp`` (or ``expire_at``, which
wins), ``info`` / ``b64info`` (the connection's info), ``channels`` and ``subs`` (channels to
subscribe the client to on the server side) and ``meta``. A subscription token carries
``sub``, ``channel``, ``exp`` / ``expire_at`` and ``info`` / ``b64info``.

Keys: an HMAC secret (HS256/384/512), an RSA or ECDSA public key in PEM (RS*, PS*, ES*), or a
JWKS URL (fetched and cached by PyJWT's ``PyJWKClient``, in a thread). Needs PyJWT (extra
``centrifuge``; RSA/ECDSA also need ``cryptography``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tether._json import loads
from tether.exceptions import ConfigurationError, MissingDependencyError
from tether.requests import HTTPConnection

__all__ = ["ConnectClaims", "InvalidToken", "SubscribeClaims", "TokenExpired", "TokenVerifier"]

HMAC = ("HS256", "HS384", "HS512")
RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
ECDSA = ("ES256", "ES384", "ES512")


class InvalidToken(Exception):
    """The token is malformed, wrongly signed, or its claims do not fit."""


class TokenExpired(Exception):
    """The token was valid but its ``exp`` has passed: the client should get a new one."""


@dataclass(frozen=True, slots=True)
class ConnectClaims:
    """What a verified connection token says."""

    user: str
    expire_at: int | None = None
    info: Any = None
    channels: tuple[str, ...] = ()
    subs: dict[str, Any] = field(default_factory=dict)
    meta: Any = None


@dataclass(frozen=True, slots=True)
class SubscribeClaims:
    """What a verified subscription token says."""

    user: str
    channel: str
    expire_at: int | None = None
    info: Any = None


class TokenVerifier:
    """Verifies tokens signed with one of the configured keys.

    ``audience`` and ``issuer``, when given, must match the token's ``aud`` / ``iss``.
    Raises :class:`~tether.exceptions.ConfigurationError` when no key is given.
    """

    def __init__(
        self,
        *,
        hmac_secret: str | bytes | None = None,
        rsa_public_key: str | bytes | None = None,
        ecdsa_public_key: str | bytes | None = None,
        jwks_url: str | None = None,
        audience: str | Sequence[str] | None = None,
        issuer: str | None = None,
    ) -> None:
        try:
            import jwt
        except ImportError as exc:
            raise MissingDependencyError("PyJWT", "centrifuge") from exc
        self._jwt = jwt
        self._keys: list[tuple[Any, tuple[str, ...]]] = []
        if hmac_secret is not None:
            self._keys.append((hmac_secret, HMAC))
        if rsa_public_key is not None:
            self._keys.append((rsa_public_key, RSA))
        if ecdsa_public_key is not None:
            self._keys.append((ecdsa_public_key, ECDSA))
        self._jwks = jwt.PyJWKClient(jwks_url) if jwks_url else None
        if not self._keys and self._jwks is None:
            raise ConfigurationError("TokenVerifier needs a key: hmac, rsa, ecdsa or jwks_url")
        self.audience = audience
        self.issuer = issuer

    async def connect(self, token: str) -> ConnectClaims:
        """Verify a connection token; raises :class:`InvalidToken` or :class:`TokenExpired`."""
        claims = await self._claims(token)
        user = claims.get("sub", "")
        channels = claims.get("channels") or []
        subs = claims.get("subs") or {}
        if (
            not isinstance(user, str)
            or not isinstance(channels, list)
            or not all(isinstance(c, str) for c in channels)
            or not isinstance(subs, dict)
        ):
            raise InvalidToken("malformed connection token claims")
        return ConnectClaims(
            user=user,
            expire_at=_expire_at(claims),
            info=_info(claims),
            channels=tuple(channels),
            subs=subs,
            meta=claims.get("meta"),
        )

    async def subscribe(self, token: str, *, user: str, channel: str) -> SubscribeClaims:
        """Verify a subscription token for ``user`` and ``channel``.

        Raises :class:`InvalidToken` (also when it is for another user or channel) or
        :class:`TokenExpired`.
        """
        claims = await self._claims(token)
        if claims.get("channel") != channel or claims.get("sub", "") != user:
            raise InvalidToken("subscription token is for another user or channel")
        return SubscribeClaims(
            user=user, channel=channel, expire_at=_expire_at(claims), info=_info(claims)
        )

    async def authenticate(self, connection: HTTPConnection) -> dict[str, Any] | None:
        """Identity from a connection token in ``?token=`` or ``Authorization: Bearer``.

        Fits ``Channels(authenticate=verifier.authenticate)`` (tether's own protocol) and,
        as ``Depends(verifier.authenticate)``, a plain WebSocket or HTTP route. Returns
        ``{"user": ..., "info": ..., "claims": ConnectClaims}``, or None when there is no
        valid, unexpired token.
        """
        token = connection.query_params.get("token")
        if not token:
            scheme, _, value = (connection.headers.get("authorization") or "").partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else None
        if not token:
            return None
        try:
            claims = await self.connect(token)
        except (InvalidToken, TokenExpired):
            return None
        return {"user": claims.user, "info": claims.info, "claims": claims}

    async def _claims(self, token: str) -> dict[str, Any]:
        jwt = self._jwt
        if not isinstance(token, str) or not token:
            raise InvalidToken("no token")
        candidates = list(self._keys)
        if self._jwks is not None:
            try:
                signing = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            except jwt.PyJWTError as exc:
                raise InvalidToken(f"no JWKS key for this token: {exc}") from exc
            candidates.append((signing.key, (signing.algorithm_name,)))
        error: Exception = InvalidToken("token not accepted")
        for key, algorithms in candidates:
            try:
                return dict(
                    jwt.decode(
                        token,
                        key,
                        algorithms=list(algorithms),
                        audience=self.audience,
                        issuer=self.issuer,
                        options={"verify_aud": self.audience is not None},
                    )
                )
            except jwt.ExpiredSignatureError as exc:
                raise TokenExpired("token expired") from exc
            except (jwt.PyJWTError, ValueError, TypeError) as exc:
                error = exc
        raise InvalidToken(f"token not accepted: {error}")


def _expire_at(claims: dict[str, Any]) -> int | None:
    """``expire_at`` when present (0 means never), else ``exp``, as Unix seconds."""
    value = claims.get("expire_at", claims.get("exp"))
    if value is None or value == 0:
        return None
    if not isinstance(value, int | float):
        raise InvalidToken("exp/expire_at must be a number")
    if "expire_at" in claims and value <= time.time():
        raise TokenExpired("token expired")
    return int(value)


def _info(claims: dict[str, Any]) -> Any:
    """``info`` as given, or ``b64info`` decoded from base64 JSON."""
    if "b64info" in claims:
        try:
            return loads(base64.b64decode(claims["b64info"]))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise InvalidToken("b64info is not base64 JSON") from exc
    return claims.get("info")
