"""The ``tether`` command line: run an app on uvicorn, list its routes, start the chat demo.

``python -m tether`` is the same program. Commands::

    tether run module:app [--host H] [--port P] [--workers N] [--reload] [--broker URL]
    tether routes module:app
    tether demo [--host H] [--port P] [--workers N] [--broker URL]
    tether asyncapi module:app [--output FILE]

The channels broker is handed to the app through the ``TETHER_BROKER`` environment variable, so
every worker process that uvicorn starts sees the same one; a broker named in the app's code
wins over it. ``TETHER_WORKERS`` tells the workers how many of them there are. Before serving,
the app is imported here and asked what it runs: ``--workers N`` is refused only for an app
that keeps channels in memory, and ``--broker`` for an app without channels is a warning.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from tether.channels.backends import BROKER_ENV
from tether.channels.processes import WORKERS_ENV
from tether.exceptions import TetherError, require
from tether.runtime.limits import route_limits

__all__ = ["BROKER_ENV", "CLIError", "import_app", "iter_routes", "main"]

DEMO_TARGET = "tether.demo.app:app"


class CLIError(TetherError):
    """A command line mistake; printed without a traceback and exits with status 2."""


def import_app(target: str) -> Any:
    """Import ``module:attribute`` (``module`` alone means ``module:app``) and return the object.

    Raises :class:`CLIError` naming what was missing.
    """
    module_name, _, attribute = target.partition(":")
    attribute = attribute or "app"
    if not module_name:
        raise CLIError(f"expected 'module:app', got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CLIError(f"cannot import module {module_name!r}: {exc}") from exc
        raise
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CLIError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return obj


def _check_workers(workers: int, reload: bool = False) -> None:
    if workers < 1:
        raise CLIError("--workers must be at least 1")
    if workers > 1 and reload:
        raise CLIError("--reload runs a single worker; drop --workers or --reload")


def _check_broker(url: str) -> None:
    """Parse ``--broker`` here, so a bad URL is one line instead of a worker's traceback."""
    from tether.channels.backends import backend_from_url

    try:
        backend_from_url(url)
    except ValueError as exc:
        raise CLIError(f"--broker: {exc}") from None


def _check_app(target: str, args: argparse.Namespace) -> None:
    """Ask the imported app what it runs: its hubs decide, not the flags."""
    from tether.channels.hub import live_hubs

    hubs = live_hubs()
    if args.workers > 1:
        _refuse_split(target, args.workers, hubs)
    if args.broker and not hubs:
        _warn(f"--broker is ignored: {target} builds no channels hub (Channels)")
    elif args.broker and all(hub.broker_source == "code" for hub in hubs):
        named = ", ".join(sorted({hub.backend.address for hub in hubs}))
        _warn(f"--broker is ignored: {target} names its broker in code ({named}), which wins")


def _refuse_split(target: str, workers: int, hubs: Sequence[Any]) -> None:
    for hub in hubs:
        if hub.backend.capabilities.cross_process:
            continue
        if hub.broker_source == "code":
            advice = (
                "the broker named in code wins over --broker and TETHER_BROKER: build Channels()"
                " to follow --broker, name a redis:// broker, or run one worker"
            )
        else:
            advice = "add --broker redis://127.0.0.1:6379/0 or run one worker"
        raise CLIError(
            f"--workers {workers}: {target} keeps its channels in the in-memory broker, so"
            f" each worker would reach only its own sockets; {advice}"
        )


def _warn(message: str) -> None:
    print(f"tether: warning: {message}", file=sys.stderr)


def _check_bind(host: str, port: int) -> None:
    """Bind the address once before announcing it: a busy port is one line, not a false URL."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CLIError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _announcing(app: Any, line: str) -> Any:
    """``app``, printing ``line`` when its startup completed (a demo whose broker is down
    refuses to start: its URL must not be announced first)."""

    async def announce_after_startup(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def send_then_announce(message: Any) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                print(line, flush=True)

        await app(scope, receive, send_then_announce)

    return announce_after_startup


def _serve(target: str, args: argparse.Namespace, announce: bool = False) -> int:
    _check_workers(args.workers, args.reload)
    if args.broker:
        _check_broker(args.broker)
        os.environ[BROKER_ENV] = args.broker
    # Every worker learns how many processes serve the app (tether.channels.processes).
    os.environ[WORKERS_ENV] = str(args.workers)
    uvicorn = require("uvicorn", "server")
    # Fail fast on an import error, in this process, with a readable message.
    app = import_app(target)
    max_size = args.ws_max_size or ws_max_size(app)
    options = {"ws_max_size": max_size} if max_size else {}
    _check_app(target, args)
    _check_bind(args.host, args.port)
    served: Any = target
    if announce:
        line = f"tether chat demo: open http://{args.host}:{args.port}/"
        if args.workers == 1 and not args.reload:
            served = _announcing(app, line)  # once the broker answered, not before
        else:
            print(line, flush=True)
    uvicorn.run(
        served,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        log_level=args.log_level,
        ws=args.ws,
        lifespan="on",
        **options,
    )
    return 0


def ws_max_size(app: Any) -> int | None:
    """The largest ``max_message_size`` of the app's limits and its routes' limits, or None.

    uvicorn buffers a whole message (16 MiB by default) before the app's own check sees it, so
    ``tether run`` gives uvicorn the app's own cap: a client cannot make the server hold more.
    None (uvicorn's default) when some WebSocket has no size limit at all.
    """
    limits = getattr(app, "limits", None)
    sizes = [getattr(limits, "max_message_size", None)]
    for route in _walk(getattr(app, "routes", None) or ()):
        overrides = route_limits(getattr(route, "endpoint", None)) or {}
        if "max_message_size" in overrides:
            sizes.append(overrides["max_message_size"])
    if sizes[0] is None:
        return None
    return max(int(size) for size in sizes if size is not None)


def _walk(routes: Sequence[Any]) -> Iterator[Any]:
    for route in routes:
        children = getattr(route, "routes", None)
        if children is not None and type(route).__name__ in {"Mount", "Host", "Router"}:
            yield from _walk(children)
        else:
            yield route


def _with_paths(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        children = getattr(route, "routes", None)
        if children is not None and type(route).__name__ in {"Mount", "Host", "Router"}:
            yield from _with_paths(children, path)
            continue
        yield path, route


def iter_routes(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str, str, str]]:
    """Yield ``(protocol, methods, path, name)`` for every route, descending into mounts."""
    for path, route in _with_paths(routes, prefix):
        kind = type(route).__name__
        protocol = "websocket" if "WebSocket" in kind else "http"
        methods = ",".join(sorted(getattr(route, "methods", None) or ())) or "-"
        if protocol == "websocket":
            methods = "WS"
        yield protocol, methods, path or "/", str(getattr(route, "name", "") or "")


def response_of(route: Any) -> str:
    """What an HTTP route answers: ``[status] model`` (its response model's type), or ``-``."""
    model = getattr(route, "response_model", None)
    status = getattr(route, "status_code", None)
    text = "" if model is None else _type_name(model)
    if status is not None:
        text = f"{status} {text}".strip()
    return text or "-"


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace(f"{__name__}.", "")


def _routes(args: argparse.Namespace) -> int:
    app = import_app(args.app)
    routes = getattr(app, "routes", None)
    if routes is None:
        raise CLIError(f"{args.app} has no routes to list (is it a tether app?)")
    rows = [("METHODS", "PATH", "NAME", "RESPONSE")]
    for (_, methods, path, name), (_, route) in zip(
        iter_routes(routes), _with_paths(routes), strict=True
    ):
        rows.append((methods, path, name, response_of(route)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _asyncapi(args: argparse.Namespace) -> int:
    app = import_app(args.app)
    if not isinstance(getattr(app, "routes", None), list | tuple):
        raise CLIError(f"{args.app} is not an app: it has no routes to document")
    generator = importlib.import_module("tether.asyncapi")
    document = generator.generate(app)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    return 0


def _add_server_options(parser: argparse.ArgumentParser, port: int) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    parser.add_argument("--port", type=_port, default=port, help="port (default %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--reload", action="store_true", help="restart when the code changes")
    parser.add_argument(
        "--broker",
        default=os.environ.get(BROKER_ENV),
        help="channels broker URL: memory:// (default) or redis://host:port/db",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
    )
    parser.add_argument(
        "--ws-max-size",
        type=int,
        default=None,
        help="largest WebSocket message uvicorn buffers, in bytes (default: the app's "
        "WebSocketLimits.max_message_size, else uvicorn's 16 MiB)",
    )
    parser.add_argument(
        "--ws",
        default="websockets-sansio",
        help="uvicorn WebSocket implementation (default %(default)s)",
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("tether")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tether`` command."""
    parser = argparse.ArgumentParser(prog="tether", description="tether: real-time Python apps")
    parser.add_argument("--version", action="version", version=f"tether {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="serve an app with uvicorn")
    run.add_argument("app", help="the app to serve, as module:attribute")
    _add_server_options(run, 8000)

    demo = commands.add_parser("demo", help="start the chat demo")
    _add_server_options(demo, 8000)

    routes = commands.add_parser("routes", help="print the route table of an app")
    routes.add_argument("app", help="the app, as module:attribute")

    asyncapi = commands.add_parser("asyncapi", help="print the AsyncAPI document of an app")
    asyncapi.add_argument("app", help="the app, as module:attribute")
    asyncapi.add_argument("--output", "-o", help="write to this file instead of stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _serve(args.app, args)
        if args.command == "demo":
            return _serve(DEMO_TARGET, args, announce=True)
        if args.command == "routes":
            return _routes(args)
        return _asyncapi(args)
    except CLIError as exc:
        print(f"tether: error: {exc}", file=sys.stderr)
        return 2
