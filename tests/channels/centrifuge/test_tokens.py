"""TokenVerifier: HMAC, RSA, ECDSA and JWKS keys; claims; and its use by tether's own
protocol and a plain WebSocket route."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tether import Depends, Tether, WebSocket
from tether.channels import Channels
from tether.channels.centrifuge import InvalidToken, TokenExpired, TokenVerifier
from tether.testclient import TestClient
from tether.websockets import WebSocketDisconnect

SECRET = "a-secret-of-at-least-32-bytes-for-hs256!"


def pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def test_hmac_claims_info_channels_and_expiry() -> None:
    verifier = TokenVerifier(hmac_secret=SECRET)
    info = base64.b64encode(json.dumps({"name": "Ann"}).encode()).decode()
    token = jwt.encode(
        {"sub": "ann", "exp": int(time.time()) + 60, "b64info": info, "channels": ["news:ann"]},
        SECRET,
    )
    claims = await verifier.connect(token)
    assert (claims.user, claims.info, claims.channels) == ("ann", {"name": "Ann"}, ("news:ann",))
    assert claims.expire_at is not None
    with pytest.raises(TokenExpired):
        await verifier.connect(jwt.encode({"sub": "ann", "exp": int(time.time()) - 5}, SECRET))
    with pytest.raises(InvalidToken):
        await verifier.connect(jwt.encode({"sub": "ann"}, "another-secret-of-32-bytes-or-more!!"))
    sub = jwt.encode({"sub": "ann", "channel": "chat:x", "info": {"role": "mod"}}, SECRET)
    assert (await verifier.subscribe(sub, user="ann", channel="chat:x")).info == {"role": "mod"}
    with pytest.raises(InvalidToken):
        await verifier.subscribe(sub, user="bob", channel="chat:x")
    with pytest.raises(InvalidToken):
        await verifier.subscribe(sub, user="ann", channel="chat:y")


async def test_rsa_and_ecdsa_public_keys() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(rsa_public_key=pem(rsa_key), ecdsa_public_key=pem(ec_key))
    assert (await verifier.connect(jwt.encode({"sub": "r"}, rsa_key, "RS256"))).user == "r"
    assert (await verifier.connect(jwt.encode({"sub": "e"}, ec_key, "ES256"))).user == "e"
    with pytest.raises(InvalidToken):  # an HMAC token signed with the public key as secret
        await verifier.connect(jwt.encode({"sub": "x"}, SECRET, "HS256"))


async def test_jwks_url() -> None:
    from servers import uvicorn_thread

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", alg="RS256", use="sig")
    keys = Tether()

    @keys.get("/jwks.json")
    def jwks() -> dict[str, Any]:
        return {"keys": [jwk]}

    with uvicorn_thread(keys) as url:
        verifier = TokenVerifier(jwks_url=f"{url}/jwks.json")
        token = jwt.encode({"sub": "j"}, key, "RS256", headers={"kid": "k1"})
        assert (await verifier.connect(token)).user == "j"
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with pytest.raises(InvalidToken):
            await verifier.connect(jwt.encode({"sub": "j"}, other, "RS256", headers={"kid": "k1"}))


def test_the_same_tokens_for_tethers_own_protocol_and_a_plain_route() -> None:
    verifier = TokenVerifier(hmac_secret=SECRET)
    channels = Channels("memory://", authenticate=verifier.authenticate)
    app = Tether(lifespan=channels.lifespan)
    app.add_websocket_route("/channels", channels.endpoint)

    @app.websocket("/plain")
    async def plain(websocket: WebSocket, who: Any = Depends(verifier.authenticate)) -> None:
        await websocket.accept()
        await websocket.send_json({"user": who and who["user"]})
        await websocket.close()

    token = jwt.encode({"sub": "ann"}, SECRET)
    with TestClient(app) as client:
        with client.websocket_connect(f"/channels?token={token}") as ws:
            assert ws.receive_json()["type"] == "connected"
        with client.websocket_connect("/plain", headers={"authorization": f"Bearer {token}"}) as ws:
            assert ws.receive_json() == {"user": "ann"}
        with client.websocket_connect("/plain") as ws:
            assert ws.receive_json() == {"user": None}
        with (
            client.websocket_connect("/channels?token=forged") as ws,
            pytest.raises(WebSocketDisconnect) as refused,
        ):
            ws.receive_json()
        assert refused.value.code == 1008
