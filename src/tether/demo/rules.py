"""What the chat demo accepts from people: names, room names and message texts.

Every check runs on the server (the page checks too, but only to answer faster). A refusal is
a :class:`Refused` whose message is written for the person typing, because the page shows it
as it is.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "NAME_MAX",
    "ROOM_MAX",
    "TEXT_MAX",
    "Refused",
    "clean_name",
    "clean_room",
    "clean_text",
]

NAME_MAX = 24
ROOM_MAX = 32
TEXT_MAX = 500

# Room names become channel names (``room:<name>``), so they stay within safe ASCII.
_ROOM = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{ROOM_MAX - 1}}}$")
_SPACES = re.compile(r"\s+")


class Refused(ValueError):
    """A name, room or message the demo does not accept; ``str(exc)`` explains why."""


def _printable(text: str) -> str:
    # Control and format characters (including bidi overrides) could disguise a name.
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")


def clean_name(value: object) -> str:
    """Return the display name with whitespace collapsed; raise :class:`Refused` if unusable."""
    if not isinstance(value, str):
        raise Refused("Pick a name.")
    name = _SPACES.sub(" ", _printable(value)).strip()
    if not name:
        raise Refused("Pick a name.")
    if len(name) > NAME_MAX:
        raise Refused(f"Names are at most {NAME_MAX} characters.")
    return name


def clean_room(value: object) -> str:
    """Return the room name in lower case; raise :class:`Refused` if it is not a room name."""
    if not isinstance(value, str) or not value.strip():
        raise Refused("Pick a room.")
    room = value.strip().lower()
    if len(room) > ROOM_MAX:
        raise Refused(f"Room names are at most {ROOM_MAX} characters.")
    if not _ROOM.match(room):
        raise Refused(
            "Room names use letters a-z, digits, '-' and '_', and start with a letter or digit."
        )
    return room


def clean_text(value: object) -> str:
    """Return the message text, trimmed; raise :class:`Refused` if empty or too long."""
    if not isinstance(value, str):
        raise Refused("A message is text.")
    text = _printable(value).strip()
    if not text:
        raise Refused("Type a message first.")
    if len(text) > TEXT_MAX:
        raise Refused(f"Messages are at most {TEXT_MAX} characters (this one has {len(text)}).")
    return text
