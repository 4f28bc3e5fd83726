"""How many processes serve this app: the count that decides whether a memory broker is safe.

A memory broker lives inside one process. When several worker processes serve the same app,
each keeps its own, and a publish in one worker never reaches sockets held by another: a silent
split. :func:`serving_processes` finds the worker count from, in this order:

1. ``TETHER_WORKERS`` (an explicit setting; ``tether run --workers N`` sets it for its workers);
2. the command line of the server that started this process (``uvicorn``, ``gunicorn``,
   ``granian`` or ``hypercorn`` with ``--workers N`` / ``-w N``). Worker processes see it:
   uvicorn spawns its workers with the parent's ``sys.argv``, gunicorn forks them;
3. ``WEB_CONCURRENCY``, which uvicorn and gunicorn read as their default worker count.

Anything else counts as one process. A worker count set in a server's configuration file
(``gunicorn.conf.py``) is not seen: set ``TETHER_WORKERS`` next to it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import PurePath

__all__ = ["WORKERS_ENV", "serving_processes"]

WORKERS_ENV = "TETHER_WORKERS"

# Servers whose command line names the worker count, and the flags each accepts.
_WORKER_FLAGS = {
    "uvicorn": ("--workers",),
    "gunicorn": ("--workers", "-w"),
    "granian": ("--workers",),
    "hypercorn": ("--workers", "-w"),
}
# Servers that take WEB_CONCURRENCY as their default worker count.
_READS_WEB_CONCURRENCY = ("uvicorn", "gunicorn")


def serving_processes(
    environ: Mapping[str, str] | None = None, argv: Sequence[str] | None = None
) -> int:
    """The number of processes that serve this app (1 when nothing says otherwise).

    Raises ``ValueError`` when ``TETHER_WORKERS`` is set to something other than a positive
    integer.
    """
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    explicit = environ.get(WORKERS_ENV)
    if explicit:
        return _positive(explicit, WORKERS_ENV)
    server = _server_name(argv)
    if server is None:
        return 1
    from_flag = _flag_value(argv[1:], _WORKER_FLAGS[server])
    if from_flag is not None:
        return _lenient(from_flag)
    concurrency = environ.get("WEB_CONCURRENCY")
    if concurrency and server in _READS_WEB_CONCURRENCY:
        return _lenient(concurrency)
    return 1


def _server_name(argv: Sequence[str]) -> str | None:
    """``uvicorn`` for ``/venv/bin/uvicorn`` and for ``python -m uvicorn`` (``.../uvicorn/__main__.py``)."""
    if not argv:
        return None
    path = PurePath(argv[0])
    name = path.parent.name if path.name == "__main__.py" else path.stem
    return name if name in _WORKER_FLAGS else None


def _flag_value(args: Sequence[str], flags: tuple[str, ...]) -> str | None:
    value = None
    for index, arg in enumerate(args):
        for flag in flags:
            if arg == flag and index + 1 < len(args):
                value = args[index + 1]
            elif arg.startswith(flag + "=") or (len(flag) == 2 and arg.startswith(flag)):
                value = arg[len(flag) :].lstrip("=")
    return value  # the last one wins, as with the servers' own parsers


def _positive(text: str, name: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{name} must be a positive integer, got {text!r}")
    return count


def _lenient(text: str) -> int:
    # The server parses its own flag and refuses garbage; here it only has to be counted.
    try:
        return max(int(text), 1)
    except ValueError:
        return 1
