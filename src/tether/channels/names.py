"""Channel names (``namespace:name``) and the options registered per namespace."""

from __future__ import annotations

import re
from collections.abc import Mapping

from tether.channels.options import ChannelOptions
from tether.exceptions import ConfigurationError

__all__ = ["InvalidChannelName", "Namespaces", "split_channel"]

# Printable ASCII without spaces keeps names safe inside Redis keys and JSON frames.
_NAME = re.compile(r"^[A-Za-z0-9_\-.]+(:[!-~]+)?$")
MAX_NAME_LENGTH = 255


class InvalidChannelName(ValueError):
    """A channel name is empty, too long or has characters outside printable ASCII."""


def split_channel(channel: str) -> tuple[str, str]:
    """Split ``"namespace:name"`` into its parts; a name without ``:`` has namespace ``""``.

    Raises :class:`InvalidChannelName` when the name is not acceptable.
    """
    if not isinstance(channel, str) or len(channel) > MAX_NAME_LENGTH or not _NAME.match(channel):
        raise InvalidChannelName(f"not a valid channel name: {channel!r}")
    namespace, sep, _ = channel.partition(":")
    return (namespace, channel) if sep else ("", channel)


class Namespaces:
    """Maps a channel name to the :class:`ChannelOptions` of its namespace.

    Lookups are cached per channel name, so the hot path does one dict lookup.
    """

    __slots__ = ("_by_namespace", "_cache", "default", "open")

    def __init__(
        self,
        namespaces: Mapping[str, ChannelOptions] | None = None,
        default: ChannelOptions | None = None,
    ) -> None:
        self.default = default or ChannelOptions()
        # Protocol clients may use unregistered namespaces only when a default was given.
        self.open = default is not None
        self._by_namespace: dict[str, ChannelOptions] = {}
        self._cache: dict[str, ChannelOptions] = {}
        for name, options in (namespaces or {}).items():
            self.add(name, options)

    def add(self, name: str, options: ChannelOptions) -> None:
        """Register ``options`` for channels ``name:*``.

        Raises :class:`ConfigurationError` on a bad namespace name or options object.
        """
        if not isinstance(options, ChannelOptions):
            raise ConfigurationError("namespace options must be a ChannelOptions instance")
        if not name or ":" in name or not _NAME.match(name):
            raise ConfigurationError(f"not a valid namespace name: {name!r}")
        self._by_namespace[name] = options
        self._cache.clear()

    def items(self) -> list[tuple[str, ChannelOptions]]:
        """Registered ``(namespace, options)`` pairs in registration order (the default excluded)."""
        return list(self._by_namespace.items())

    def options(self, channel: str) -> ChannelOptions:
        """Return the options for ``channel``; raises :class:`InvalidChannelName`."""
        found = self._cache.get(channel)
        if found is None:
            namespace, _ = split_channel(channel)
            found = self._by_namespace.get(namespace, self.default)
            if len(self._cache) > 10000:
                self._cache.clear()
            self._cache[channel] = found
        return found

    def registered(self, channel: str) -> bool:
        """True when ``channel``'s namespace was registered, or an explicit default covers it.

        Raises :class:`InvalidChannelName`.
        """
        if self.open:
            self.options(channel)
            return True
        namespace, _ = split_channel(channel)
        return namespace in self._by_namespace
