"""The regex-free path matchers agree with the template's regex on every path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.routing.paths import compile_path, regex_matcher, segment_matcher

TEMPLATES = [
    "/ws",
    "/di/{room}",
    "/{a}",
    "/items/{id:int}",
    "/a/{x:int}/b",
    "/a/{x}/{y:int}",
    "/{x}/lit/{y}",
    "/r/{r:str}",
    "/a/b/{c}/d/",
]
PIECES = st.sampled_from([*"ab/01\n9x٣{}", "di", "lit", "items", "r", "d", "ws"])


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(TEMPLATES), st.lists(PIECES, max_size=8), st.booleans())
def test_segment_matcher_agrees_with_regex(template: str, pieces: list[str], newline: bool) -> None:
    regex, _, convertors = compile_path(template)
    general = regex_matcher(regex, convertors)
    simple = segment_matcher(template, convertors, general)
    assert simple is not None
    path = "/" + "".join(pieces) + ("\n" if newline else "")
    assert simple(path) == general(path)


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("/items/{id:int}", "/items/12", {"id": 12}),
        ("/items/{id:int}", "/items/12\n", {"id": 12}),  # the regex's "$" quirk is kept
        ("/items/{id:int}", "/items/٣", None),
        ("/di/{room}", "/di/", None),
        ("/di/{room}", "/di/a/b", None),
        ("/a/{x:int}/b", "/a/7/b", {"x": 7}),
        ("/a/{x:int}/b", "/a/7/b\n", {"x": 7}),
        ("/ws", "/ws\n", {}),
    ],
)
def test_segment_matcher_examples(template: str, path: str, expected: object) -> None:
    regex, _, convertors = compile_path(template)
    simple = segment_matcher(template, convertors, regex_matcher(regex, convertors))
    assert simple is not None
    assert simple(path) == expected


@pytest.mark.parametrize("template", ["/x{a}", "/{a:path}", "/{a:float}", "host.{sub}"])
def test_other_templates_keep_the_regex(template: str) -> None:
    regex, _, convertors = compile_path(template)
    assert segment_matcher(template, convertors, regex_matcher(regex, convertors)) is None
