"""Path convertors: regexes, conversion, round-trips, user registration."""

from __future__ import annotations

import uuid

import pytest

from tether.convertors import CONVERTOR_TYPES, Convertor, register_url_convertor
from tether.requests import Request
from tether.responses import PlainTextResponse
from tether.routing import Route, Router, compile_path
from tether.testclient import TestClient


def test_builtin_types_convert() -> None:
    assert CONVERTOR_TYPES["int"].convert("42") == 42
    assert CONVERTOR_TYPES["float"].convert("2.5") == 2.5
    assert CONVERTOR_TYPES["path"].convert("a/b") == "a/b"
    value = "6b2cc0f4-6b5e-4b6a-9d6e-3b2e3f9b0c11"
    assert CONVERTOR_TYPES["uuid"].convert(value) == uuid.UUID(value)


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [("float", 25.5, "25.5"), ("float", 2.0, "2"), ("float", 0.00001, "0.00001"), ("int", 7, "7")],
)
def test_to_string(kind: str, value: object, text: str) -> None:
    assert CONVERTOR_TYPES[kind].to_string(value) == text


@pytest.mark.parametrize(
    ("kind", "value"),
    [("str", "a/b"), ("str", ""), ("int", -1), ("float", -1.0), ("float", float("nan"))],
)
def test_to_string_refuses_values_that_would_not_route_back(kind: str, value: object) -> None:
    with pytest.raises(AssertionError):
        CONVERTOR_TYPES[kind].to_string(value)


def test_uuid_regex_accepts_no_dashes_and_upper_case() -> None:
    regex, _, _ = compile_path("/{id:uuid}")
    assert regex.match("/6B2CC0F46B5E4B6A9D6E3B2E3F9B0C11")
    assert not regex.match("/not-a-uuid")


class TwoLetters(Convertor[str]):
    regex = "[a-z]{2}"

    def convert(self, value: str) -> str:
        return value.upper()

    def to_string(self, value: str) -> str:
        return value.lower()


def test_registered_convertor_is_used_for_matching_and_urls() -> None:
    register_url_convertor("lang", TwoLetters())

    def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["lang"])

    router = Router([Route("/{lang:lang}/page", page, name="page")])
    client = TestClient(router)
    assert client.get("/fr/page").text == "FR"
    assert client.get("/fra/page").status_code == 404
    assert router.url_path_for("page", lang="DE") == "/de/page"
