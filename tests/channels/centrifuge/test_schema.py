"""The committed Protobuf module matches tether_centrifuge.proto, and the field numbers are
the published schema's (checked on messages every SDK sends)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tether.channels.centrifuge import tether_centrifuge_pb2 as pb

SOURCE = Path(pb.__file__).resolve().parent


def test_generated_module_is_current(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{SOURCE}", f"--python_out={tmp_path}",
         "tether_centrifuge.proto"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    fresh = (tmp_path / "tether_centrifuge_pb2.py").read_text()
    committed = (SOURCE / "tether_centrifuge_pb2.py").read_text()
    # The serialized descriptor is what matters; the header names protoc's version.
    assert fresh.split("DESCRIPTOR =")[1] == committed.split("DESCRIPTOR =")[1]


def test_field_numbers_of_the_schema() -> None:
    numbers = {
        "Command": {"id": 1, "connect": 4, "subscribe": 5, "publish": 7, "rpc": 13, "refresh": 14,
                    "sub_refresh": 15, "presence_stats": 9, "history": 10, "send": 12},
        "Reply": {"id": 1, "error": 2, "push": 4, "connect": 5, "subscribe": 6, "rpc": 13},
        "Push": {"channel": 2, "pub": 4, "join": 5, "leave": 6, "unsubscribe": 7, "subscribe": 9},
        "Publication": {"data": 4, "info": 5, "offset": 6, "tags": 7},
        "SubscribeRequest": {"channel": 1, "token": 2, "recover": 3, "epoch": 6, "offset": 7,
                             "join_leave": 11},
        "SubscribeResult": {"expires": 1, "ttl": 2, "recoverable": 3, "epoch": 6,
                            "publications": 7, "recovered": 8, "offset": 9, "positioned": 10,
                            "was_recovering": 12},
        "ConnectResult": {"client": 1, "version": 2, "expires": 3, "ttl": 4, "ping": 7, "pong": 8},
        "HistoryRequest": {"channel": 1, "limit": 7, "since": 8, "reverse": 9},
        "Unsubscribe": {"code": 2, "reason": 3},
    }  # fmt: skip
    for message, fields in numbers.items():
        descriptor = getattr(pb, message).DESCRIPTOR
        assert {name: descriptor.fields_by_name[name].number for name in fields} == fields
