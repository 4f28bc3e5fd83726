"""Resolving ``telemetry=`` settings into a :class:`~tether.telemetry.config.Telemetry`.

Kept apart from :mod:`tether.telemetry.config` because it imports the modules that use the
resolved object (the ASGI layer, the channel wrapper): those import ``config``, and nothing
imports them back.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from tether.exceptions import ConfigurationError
from tether.telemetry.config import DEFAULTS, Telemetry, TelemetryConfig

__all__ = ["channel_backend", "resolve_telemetry"]


def resolve_telemetry(option: TelemetryConfig | bool | None) -> Telemetry | None:
    """Turn ``Tether(telemetry=...)`` into a :class:`Telemetry`, or None when it is off.

    ``None`` (the default) is on with every default when ``opentelemetry-api`` is installed and
    off without it; ``True`` or a dict need the package (``ConfigurationError`` naming the
    ``otel`` extra otherwise); ``False`` is off. The dict is copied: changing it later does not
    change the app. Raises ``ConfigurationError`` for an unknown key or a bad value.
    """
    if option is False:
        return None
    settings = dict(DEFAULTS)
    if isinstance(option, dict):
        unknown = set(option) - set(DEFAULTS)
        if unknown:
            raise ConfigurationError(f"unknown telemetry settings: {sorted(unknown)}")
        settings.update(option)
    elif option is not None and option is not True:
        raise ConfigurationError(f"telemetry must be a dict, True, False or None, not {option!r}")
    _check(settings)
    try:
        import opentelemetry.trace  # noqa: F401
    except ImportError:
        if option is None:
            return None
        raise ConfigurationError(
            "telemetry needs opentelemetry-api: pip install 'tether[otel]'"
        ) from None
    if not (settings["tracing"] or settings["metrics"] or settings["logs"]):
        return None
    telemetry = Telemetry(settings)
    # asgi imports opentelemetry at its top: imported here, once the package is known to exist.
    from tether.telemetry.asgi import serve

    telemetry.handle = partial(serve, telemetry)
    return telemetry


def _check(settings: dict[str, Any]) -> None:
    every = settings["message_span_every"]
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ConfigurationError(f"message_span_every must be an int >= 0, not {every!r}")
    exclude = settings["exclude"]
    if exclude is not None and not callable(exclude):
        raise ConfigurationError("telemetry exclude must be a function of the scope")


def channel_backend(telemetry: Telemetry, backend: Any, hub: Any) -> Any:
    """``hub``'s backend, traced when ``tracing`` and ``channels`` are on; observe its counters.

    See :mod:`tether.telemetry.channels` (spans, the context carried in the data) and
    :mod:`tether.telemetry.metrics` (``tether.channel.*`` instruments).
    """
    if telemetry.metrics:
        from tether.telemetry.metrics import observe_channels

        observe_channels(telemetry.meter_provider(), hub)
    if not (telemetry.tracing and telemetry.channels):
        return backend
    from tether.telemetry.channels import TracedBackend

    return TracedBackend(backend, telemetry, hub)
