"""Unit tests for tether.logsafe: secrets never reach a log line."""

from __future__ import annotations

import logging

from tether.logsafe import (
    SecretMaskingFilter,
    describe_scope,
    install_log_masking,
    mask_headers,
    mask_query,
    mask_text,
    mask_url,
)


def test_mask_query_keeps_shape() -> None:
    assert mask_query("room=1&token=abc&api_key=k&x=2") == "room=1&token=***&api_key=***&x=2"
    assert mask_query(b"Access_Token=abc;password=p") == "Access_Token=***;password=***"
    assert mask_query("to%6Ben=abc") == "to%6Ben=***"  # names are URL-decoded first
    assert mask_query("token=&key") == "token=&key"
    assert mask_query("") == ""


def test_mask_url() -> None:
    assert mask_url("wss://u:pw@h/ws?auth=z#f") == "wss://u:***@h/ws?auth=***#f"
    assert mask_url("/plain/path") == "/plain/path"


def test_mask_text_in_free_text() -> None:
    line = (
        '127.0.0.1 - "WebSocket /ws?room=1&token=s3cret" [accepted] Authorization: Bearer abc.def'
    )
    masked = mask_text(line)
    assert "s3cret" not in masked and "abc.def" not in masked
    assert "token=***" in masked and "Bearer ***" in masked
    assert mask_text("monkey=banana close code=1000") == "monkey=banana close code=1000"


def test_mask_headers() -> None:
    masked = dict(
        mask_headers(
            [
                (b"Authorization", b"Bearer abc"),
                (b"cookie", b"session=1; theme=dark"),
                (b"sec-websocket-protocol", b"chat, bearer.eyJhbGciOi"),
                (b"x-api-key", b"k"),
                (b"user-agent", b"test"),
                (b"proxy-authorization", b"opaque"),
            ]
        )
    )
    assert masked == {
        "authorization": "Bearer ***",
        "cookie": "session=***; theme=***",
        "sec-websocket-protocol": "***, ***",
        "x-api-key": "***",
        "user-agent": "test",
        "proxy-authorization": "***",
    }
    assert mask_headers({"Cookie": "a=b"}) == [("cookie", "a=***")]


def test_describe_scope() -> None:
    summary = describe_scope(
        {
            "type": "websocket",
            "scheme": "ws",
            "path": "/ws",
            "query_string": b"token=t",
            "client": ("1.2.3.4", 5),
            "headers": [(b"cookie", b"sid=x")],
        }
    )
    assert summary["query"] == "token=***"
    assert summary["client"] == "1.2.3.4:5"
    assert summary["headers"] == {"cookie": "sid=***"}


def test_filter_masks_message_and_args_keeping_shape() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/x?token=abc", "1.1", 200),
        None,
    )
    assert SecretMaskingFilter().filter(record)
    assert record.args == ("1.2.3.4:5", "GET", "/x?token=***", "1.1", 200)
    dict_record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "password=hunter2 %(u)s", None, None
    )
    dict_record.args = {"u": "key=v"}
    SecretMaskingFilter().filter(dict_record)
    assert dict_record.getMessage() == "password=*** key=***"


def test_install_is_idempotent() -> None:
    first = install_log_masking(["tether.test"])
    install_log_masking(["tether.test"])
    logger = logging.getLogger("tether.test")
    assert sum(isinstance(f, SecretMaskingFilter) for f in logger.filters) == 1
    logger.removeFilter(first)
