"""``fastapi.security.open_id_connect_url`` under tether: the module where FastAPI keeps
:class:`~tether.security.oauth2.OpenIdConnect` (the same class as ``tether.security``'s)."""

from __future__ import annotations

from tether.security.oauth2 import OpenIdConnect

__all__ = ["OpenIdConnect"]
