"""Paths of spec problems stay one token, however odd the key (found by tests/spec/test_fuzz.py)."""

from __future__ import annotations

from keel.spec.errors import join_path


def test_a_key_with_a_space_is_quoted_without_the_space() -> None:
    assert join_path("environments[1]", " ") == 'environments[1]["\\u0020"]'


def test_an_already_joined_path_is_not_quoted_again() -> None:
    inner = join_path("spec", "x y")
    assert join_path("environments[edge]", inner) == 'environments[edge].spec["x\\u0020y"]'
