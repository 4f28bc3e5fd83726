"""The trace-context envelope of a channel publication, and its removal on every node.

A traced hub (:mod:`tether.telemetry.channels`) prefixes the JSON text of a sampled publication
with ``"\\x1e" traceparent ["\\n" tracestate] "\\x1f"``. ``\\x1e`` can never start a JSON text
(only whitespace may precede a value, RFC 8259 section 2), so an enveloped publication is known
by its first character.

Nodes that share a broker need not agree on telemetry: every hub, traced or not, removes the
envelope from what it receives (live, from history, filling a gap) before anything else sees
it, with :func:`plain` and :func:`plain_page`. They cost one ``startswith`` per publication and
import nothing of OpenTelemetry, so a hub without telemetry stays free of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # channels sit a layer above telemetry: their types only, never an import
    from tether.channels.backends.base import HistoryPage, Publication

__all__ = ["ENVELOPE_END", "ENVELOPE_START", "open_envelope", "plain", "plain_page"]

ENVELOPE_START = "\x1e"
ENVELOPE_END = "\x1f"


def open_envelope(data: str) -> tuple[dict[str, str], str]:
    """Split a publication's data into (trace headers, the JSON text); no envelope: ``{}``."""
    if not data.startswith(ENVELOPE_START):
        return {}, data
    head, _, body = data[1:].partition(ENVELOPE_END)
    parent, _, state = head.partition("\n")
    headers = {"traceparent": parent}
    if state:
        headers["tracestate"] = state
    return headers, body


def plain(publication: Publication) -> Publication:
    """``publication`` without its envelope (the same object when it has none)."""
    if not publication.data.startswith(ENVELOPE_START):
        return publication
    return with_data(publication, open_envelope(publication.data)[1])


def plain_page(page: HistoryPage) -> HistoryPage:
    """``page`` with every publication's envelope removed (the same object when none has one)."""
    if not any(p.data.startswith(ENVELOPE_START) for p in page.publications):
        return page
    return type(page)([plain(p) for p in page.publications], page.position)


def with_data(publication: Publication, data: str) -> Publication:
    """A copy of ``publication`` carrying ``data``."""
    return type(publication)(publication.channel, publication.offset, publication.epoch, data)
