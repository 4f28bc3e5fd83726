"""An HTTP API next to a WebSocket: response models, tags, security, OpenAPI and AsyncAPI.

Written as a FastAPI app would be; only the imports differ. ``/docs`` and ``/redoc`` work
offline (``pip install 'tether[docs]'``), and the OpenAPI document links to the AsyncAPI
document that describes the WebSocket route.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from tether import Depends, HTTPException, Router, Tether, WebSocket
from tether.asyncapi import install as install_asyncapi
from tether.security import OAuth2PasswordBearer


class ItemIn(BaseModel):
    name: str
    price: float
    owner_notes: str | None = None


class ItemOut(BaseModel):
    id: int
    name: str
    price: float


ITEMS: dict[int, dict[str, object]] = {
    1: {"id": 1, "name": "Hammer", "price": 9.5, "owner_notes": "bought in 2019"},
}

oauth2 = OAuth2PasswordBearer(tokenUrl="token")


async def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
    if token != "secret-token":
        raise HTTPException(status_code=401, detail="Not authenticated")
    return "alice"


items = Router(prefix="/items", tags=["items"])


@items.get("/{item_id}", responses={404: {"description": "No such item"}})
async def read_item(item_id: int) -> ItemOut:
    """Read one item; its owner's notes are never sent."""
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="Item not found")
    return ITEMS[item_id]  # type: ignore[return-value]  # filtered through ItemOut


@items.post("/", status_code=201)
async def create_item(item: ItemIn, user: Annotated[str, Depends(current_user)]) -> ItemOut:
    """Create an item (needs a bearer token)."""
    new_id = max(ITEMS) + 1
    ITEMS[new_id] = {"id": new_id, **item.model_dump()}
    return ITEMS[new_id]  # type: ignore[return-value]


app = Tether(
    title="Shop",
    version="1.0.0",
    openapi_tags=[{"name": "items", "description": "What the shop sells."}],
)
app.include_router(items)


@app.websocket("/ws/prices")
async def prices(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"id": 1, "price": ITEMS[1]["price"]})
    await websocket.close()


install_asyncapi(app)
