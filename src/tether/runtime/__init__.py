"""Production concerns around every connection: limits, heartbeat, graceful shutdown, metrics
and log safety.

Each is an ASGI middleware or a helper the application installs (see
:mod:`tether.applications.app` for the order); each has a public face at the top of the package
(:mod:`tether.limits`, :mod:`tether.heartbeat`, :mod:`tether.shutdown`, :mod:`tether.metrics`,
:mod:`tether.logsafe`).

Owns: what keeps a server healthy under load and abuse. May import: types, status, exceptions,
datastructures, requests, websockets, responses, routing (its denial helpers) and ``_json``;
never the application, DI or channels.
"""
