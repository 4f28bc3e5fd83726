"""A typed chat: declared messages in and out, validation errors answered, AsyncAPI served.

Run it with ``tether run docs.examples.typed_chat:app`` (or ``uvicorn``), then open
http://127.0.0.1:8000/asyncapi for the documentation page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tether.applications import Tether
from tether.asyncapi import document, install
from tether.messages import iter_model, message_handler, send_model
from tether.websockets import WebSocket

# -- what clients send -----------------------------------------------------------------------


class Join(BaseModel):
    """Take a name in the room."""

    type: Literal["join"]
    name: str = Field(min_length=1, max_length=32)


class Say(BaseModel):
    """Say something to everyone in the room."""

    type: Literal["say"]
    text: str = Field(min_length=1, max_length=500)


ClientMessage = Annotated[Join | Say, Field(discriminator="type")]

# -- what the server sends -------------------------------------------------------------------


class Joined(BaseModel):
    """Someone entered the room."""

    type: Literal["joined"] = "joined"
    name: str


class Said(BaseModel):
    """Someone said something."""

    type: Literal["said"] = "said"
    name: str
    text: str


ServerMessage = Annotated[Joined | Said, Field(discriminator="type")]


class Room:
    """The sockets in one process, and the name each has taken."""

    def __init__(self) -> None:
        self.members: dict[WebSocket, str] = {}

    async def broadcast(self, message: Joined | Said) -> None:
        for websocket in list(self.members):
            await send_model(websocket, message)


app = Tether(title="Typed chat", version="1.0.0", description="A chat with typed messages.")
room = Room()


@app.websocket("/chat")
@document(summary="Chat room", tags=["chat"], receives=ClientMessage, sends=ServerMessage)
async def chat(websocket: WebSocket) -> None:
    """Send ``join`` first, then ``say``; everyone gets ``joined`` and ``said``."""
    await websocket.accept()
    room.members[websocket] = "anonymous"
    try:
        async for message in iter_model(websocket, ClientMessage):
            if isinstance(message, Join):
                room.members[websocket] = message.name
                await room.broadcast(Joined(name=message.name))
            else:
                await room.broadcast(Said(name=room.members[websocket], text=message.text))
    finally:
        room.members.pop(websocket, None)


class Add(BaseModel):
    type: Literal["add"]
    a: int
    b: int


class Sum(BaseModel):
    type: Literal["sum"] = "sum"
    result: int


@app.websocket("/calc")
@message_handler
def calc(message: Add) -> Sum:
    """Reply style: each ``add`` is answered by one ``sum``."""
    return Sum(result=message.a + message.b)


install(app)  # GET /asyncapi.json and GET /asyncapi
