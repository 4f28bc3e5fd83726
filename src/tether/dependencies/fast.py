"""A precompiled runner for the commonest endpoint shape: connection, path, query, dependencies.

The shape: an ``async def`` endpoint whose parameters are the connection, plain ``str`` path
and query parameters, and dependencies that are ``async def`` functions taking only the
connection (uncached, no sub-dependencies). Its runner is generated once at registration (the
source of one function for that endpoint: no loop over parameters, no argument list to build)
and does per run what the general solver does, without a :class:`~tether.dependencies.context.Context`:
each dependency is called with the connection by position, a path or query value that is a
``str`` is used as it is, and the endpoint is called by position.

Anything else a value may need (a default, a missing-value error, a converted path value) is
left to the parameter's own extractor, on a Context made only then, so the results and the
errors are those of the general solver.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Final

from tether.dependencies.compile import ASYNC, Node
from tether.dependencies.context import MISSING, Context, parse_last_values
from tether.dependencies.extract import PLAIN_READS, Extractor, get_connection
from tether.exceptions import ValidationError

__all__ = ["build_fast_runner"]

Runner = Callable[[Any], Awaitable[Any]]

_CONNECTION: Final = 0
_PATH: Final = 1
_QUERY: Final = 2
_NO_PARAMS: Final[dict[str, Any]] = {}

# How one parameter is read: (kind, key, extractor); kind is one of the three above.
_Slot = tuple[int, str, Extractor]


def build_fast_runner(root: Node, run: Runner, error: type[ValidationError]) -> Runner | None:
    """The runner of ``root``'s plan when it has the shape above, else None.

    ``run`` is the plan's general run (used when the application overrides dependencies);
    ``error`` is the validation error class the plan raises.
    """
    if root.kind != ASYNC:
        return None
    subs = _connection_subs(root)
    slots = [_slot(extract) for _, extract in root.params]
    if subs is None or None in slots:
        return None
    order = _positional_order(root)
    names = [name for name, _ in subs if name is not None] + [name for name, _ in root.params]
    if order is None or sorted(names) != sorted(order):
        return None
    # Each value goes straight to its position in the endpoint's argument list.
    sub_positions = tuple((call, -1 if name is None else order.index(name)) for name, call in subs)
    slot_positions = tuple(
        (*slot, order.index(name))
        for (name, _), slot in zip(root.params, slots, strict=True)
        if slot is not None
    )
    return _make_runner(sub_positions, slot_positions, len(order), root.call, run, error)


def _connection_subs(root: Node) -> list[tuple[str | None, Callable[[Any], Any]]] | None:
    subs: list[tuple[str | None, Callable[[Any], Any]]] = []
    for name, sub in root.subs:
        if not sub.plain or len(sub.params) != 1 or sub.params[0][1] is not get_connection:
            return None
        if not _takes_one_positional(sub.call, sub.params[0][0]):
            return None
        subs.append((name, sub.call))
    return subs


def _slot(extract: Extractor) -> _Slot | None:
    if extract is get_connection:
        return (_CONNECTION, "", extract)
    read = PLAIN_READS.get(extract)
    if read is None:
        return None
    source, key = read
    return (_PATH if source == "path" else _QUERY, key, extract)


def _parameters(call: Callable[..., Any]) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(call).parameters.values())
    except (TypeError, ValueError):
        return None


def _takes_one_positional(call: Callable[..., Any], name: str) -> bool:
    parameters = _parameters(call)
    return (
        parameters is not None
        and len(parameters) == 1
        and parameters[0].name == name
        and parameters[0].kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def _positional_order(root: Node) -> list[str] | None:
    """The endpoint's parameter names when all of them can be passed by position."""
    parameters = _parameters(root.call)
    if parameters is None:
        return None
    if any(p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters]


_TEMPLATE: Final = """\
async def fast_run(connection):
    scope = connection.scope
    app = scope.get("app")
    if app is not None and getattr(app, "dependency_overrides", None):
        return await run(connection)
{body}
    if ctx is not None and ctx.errors is not None:
        raise error(ctx.errors)
    return await endpoint({arguments})
"""

# How one path or query value is read; {i} is its argument position, {key} the key's repr.
_READ_PATH: Final = "    a{i} = scope.get('path_params', NO_PARAMS).get({key}, MISSING)"
_READ_QUERY: Final = "    a{i} = query.get({key}, MISSING)"
_PARSE_QUERY: Final = "    query = parse_last_values(scope.get('query_string', b''))"
# One query parameter: a query string without '&' or escapes holds at most that one pair,
# and is split right here (parse_last_values gives the same answer, with a dict to build).
_READ_ONLY_QUERY: Final = """\
    query = scope.get('query_string', b'')
    if type(query) is bytes:
        query = query.decode('latin-1')
    if query and type(query) is str and '&' not in query and '%' not in query and '+' not in query:
        name, _, a{i} = query.partition('=')
        if name != {key}:
            a{i} = MISSING
    else:
        a{i} = parse_last_values(query).get({key}, MISSING)"""
# Anything but a str (absent, or converted by a route convertor): the extractor decides.
_CHECK: Final = """\
    if type(a{i}) is not str:
        if ctx is None:
            ctx = Context(connection, None)
        a{i} = extract{i}(ctx)"""


def _make_runner(
    subs: tuple[tuple[Callable[[Any], Any], int], ...],
    slots: tuple[tuple[int, str, Extractor, int], ...],
    arity: int,
    endpoint: Callable[..., Any],
    run: Runner,
    error: type[ValidationError],
) -> Runner:
    """Generate the runner's code for this one endpoint (no loops, no argument list)."""
    namespace: dict[str, Any] = {
        "run": run,
        "error": error,
        "endpoint": endpoint,
        "Context": Context,
        "MISSING": MISSING,
        "NO_PARAMS": _NO_PARAMS,
        "parse_last_values": parse_last_values,
    }
    lines = []
    for index, (call, position) in enumerate(subs):  # dependencies first, as the solver does
        namespace[f"dependency{index}"] = call
        target = f"a{position}" if position >= 0 else "_"
        lines.append(f"    {target} = await dependency{index}(connection)")
    lines.append("    ctx = None")
    parsed = False
    one_query = sum(kind == _QUERY for kind, *_ in slots) == 1
    for kind, key, extract, position in slots:
        if kind == _CONNECTION:
            lines.append(f"    a{position} = connection")
            continue
        if kind == _QUERY and not parsed and not one_query:
            lines.append(_PARSE_QUERY)
            parsed = True
        namespace[f"extract{position}"] = extract
        read = _READ_PATH if kind == _PATH else _READ_ONLY_QUERY if one_query else _READ_QUERY
        lines.append(read.format(i=position, key=repr(key)))
        lines.append(_CHECK.format(i=position))
    arguments = ", ".join(f"a{position}" for position in range(arity))
    source = _TEMPLATE.format(body="\n".join(lines), arguments=arguments)
    exec(compile(source, f"<tether fast runner for {_name(endpoint)}>", "exec"), namespace)
    fast_run: Runner = namespace["fast_run"]
    return fast_run


def _name(call: Callable[..., Any]) -> str:
    return getattr(call, "__qualname__", None) or repr(call)
