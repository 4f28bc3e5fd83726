"""Security dependencies that work on HTTP and WebSocket routes alike.

Placeholder while the full module is written: only :class:`SecurityScopes` so far.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["SecurityScopes"]


class SecurityScopes:
    """The scopes every ``Security(...)`` between the endpoint and this dependency asked for.

    Declare a parameter typed ``SecurityScopes`` in a dependency to receive them;
    ``scope_str`` is the same list joined by spaces (the OAuth2 ``scope`` form).
    """

    __slots__ = ("scope_str", "scopes")

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or ())
        self.scope_str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
