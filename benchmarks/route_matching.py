"""Measure (c): route matching among 1,000 WebSocket routes, µs per match.

Both routers are built through the Starlette-compatible public API (``routing.Router`` of
``routing.WebSocketRoute``); half the routes are static (``/static/r17``), half carry a path
parameter (``/api/r17/{item}``), interleaved. Each connection's endpoint closes at once.

The time of a connection through the 1,000-route router minus the time through a one-route
router (same endpoint) is the matching cost. Variants: ``uniform`` (targets spread evenly over
all routes: the average case of a linear scan) and ``last`` (the last route registered: the worst
case of a linear scan). Implementations alternate within each repetition.

Run alone: ``benchmarks/.venv/bin/python benchmarks/route_matching.py [--smoke]``.
"""

from __future__ import annotations

import importlib
from typing import Any

from _common import (
    CONNECT,
    Row,
    clean_slate,
    cpu_ns,
    run_in_process,
    sample_in_turn,
    websocket_scope,
)

ROUTES = 1_000
IMPLEMENTATIONS = {"tether": "tether", "starlette": "starlette"}


def route_path(i: int) -> str:
    """The template of route ``i``."""
    return f"/api/r{i}/{{item}}" if i % 2 else f"/static/r{i}"


def request_path(i: int) -> str:
    """A concrete path that route ``i`` (and only it) matches."""
    return f"/api/r{i}/abc" if i % 2 else f"/static/r{i}"


def build_routers(package: str) -> tuple[Any, Any]:
    """A 1,000-route router and a one-route router from ``package``'s routing module."""
    routing = importlib.import_module(f"{package}.routing")

    async def endpoint(websocket: Any) -> None:
        await websocket.close()

    many = routing.Router(
        routes=[routing.WebSocketRoute(route_path(i), endpoint) for i in range(ROUTES)]
    )
    one = routing.Router(routes=[routing.WebSocketRoute("/static/r0", endpoint)])
    return many, one


async def _receive() -> dict[str, Any]:
    return CONNECT


async def connect_all(router: Any, scopes: list[dict[str, Any]], counter: list[int]) -> float:
    """Run one connection per scope through ``router``; return µs per connection."""

    async def send(message: dict[str, Any]) -> None:
        # Only the endpoint's close counts: a "no route" denial must not pass for a match.
        if message["type"] == "websocket.close":
            counter[0] += 1

    start = cpu_ns() / 1e9
    for scope in scopes:
        # A fresh dict per call: routers write path_params/endpoint into the scope.
        await router(dict(scope), _receive, send)
    return (cpu_ns() / 1e9 - start) / len(scopes) * 1e6


def targets(variant: str, n: int) -> list[dict[str, Any]]:
    """The scopes a sample connects to."""
    if variant == "last":
        return [websocket_scope(request_path(ROUTES - 1))] * n
    stride = 7919  # a prime: visits every route, evenly, in a scrambled order
    return [websocket_scope(request_path((k * stride) % ROUTES)) for k in range(n)]


async def sample(many: Any, one: Any, scopes: list[dict[str, Any]]) -> float:
    """µs of matching per connection: the 1,000-route time minus the one-route time."""
    counter = [0]
    baseline_scopes = [websocket_scope("/static/r0")] * len(scopes)
    clean_slate()
    t_one = await connect_all(one, baseline_scopes, counter)
    clean_slate()
    t_many = await connect_all(many, scopes, counter)
    if counter[0] < 2 * len(scopes):
        raise RuntimeError("the endpoint did not close every connection (no route matched?)")
    return t_many - t_one


async def measure(n: int, reps: int) -> list[Row]:
    """Alternate the implementations ``reps`` times for each variant."""
    rows: list[Row] = []
    built: dict[str, tuple[Any, Any]] = {}
    for name, package in IMPLEMENTATIONS.items():
        try:
            built[name] = build_routers(package)
            await sample(*built[name], targets("uniform", 50))
        except Exception as exc:
            if name != "tether":
                raise
            reason = f"not available ({type(exc).__name__}: {exc})"
            rows += [Row(name, v, available=False, note=reason) for v in ("uniform", "last")]
            built.pop(name, None)
    for variant in ("uniform", "last"):
        scopes = targets(variant, n)
        live = [(Row(name, variant), routers) for name, routers in built.items()]
        rows += [row for row, _ in live]
        await sample_in_turn(live, reps, lambda pair, s=scopes: sample(*pair, s))
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    run_in_process(
        "route_matching",
        "Route matching among 1,000 WebSocket routes, µs per match",
        "µs",
        __doc__,
        measure,
        sizes=(200, 4_000),
        per_sample="connections_per_sample",
        meta={"routes": ROUTES},
    )


if __name__ == "__main__":
    main()
