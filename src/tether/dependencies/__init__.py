"""Dependency injection and parameter validation, shared by HTTP and WebSocket routes.

The public face of the DI subsystem (FastAPI's ``dependencies``). Its modules, lowest first:
:mod:`.params` (the markers ``Depends``, ``Query``... that ``tether.params`` re-exports),
:mod:`.convert` (validators per annotation), :mod:`.context` (what a run reads from the scope),
:mod:`.body` (request bodies), :mod:`.extract` (reading one parameter), :mod:`.compile` (the plan
tree, built at registration), :mod:`.fast` (the generated runner for the common shape) and
:mod:`.solver` (``EndpointPlan``: runs a plan per request or connection).

Owns: reading, validating and solving an endpoint's parameters. May import: types, exceptions,
datastructures, requests, websockets, responses, concurrency, security.
"""

from __future__ import annotations

from tether.dependencies.solver import EndpointPlan

__all__ = ["EndpointPlan"]
