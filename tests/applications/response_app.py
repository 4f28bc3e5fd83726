"""An app whose endpoint returns a value that does not fit its response model (served by uvicorn)."""

from __future__ import annotations

from pydantic import BaseModel

from tether import Tether


class Out(BaseModel):
    id: int


app = Tether()


@app.get("/bad")
async def bad() -> Out:
    return {"id": "not a number", "secret": "s3cr3t-value"}  # type: ignore[return-value]
