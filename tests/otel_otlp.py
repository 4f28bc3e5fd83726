"""``otlp_collector()``: a real OTLP/HTTP receiver on a free port (FastAPI's helper's API).

A context manager yielding ``(base_url, received)``: every POST an exporter makes is answered
200 and appended to ``received`` as ``(path, body bytes, headers)``. The server runs in a
thread and is shut down on exit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def otlp_collector() -> Iterator[tuple[str, list[tuple[str, bytes, Any]]]]:
    received: list[tuple[str, bytes, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
            length = int(self.headers.get("content-length") or 0)
            received.append((self.path, self.rfile.read(length), self.headers))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
