"""Glob patterns and path escaping for folder names (pure logic, no server).

The navigation tests run the same patterns against real folder trees; these pin down the pattern
language on its own, with property tests over arbitrary folder names.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchangelib.folders.navigation import _parse_glob, glob_escape, path_escape

names = st.text(min_size=1, max_size=30)


def levels(pattern: str):
    anchored, segments = _parse_glob(pattern)
    return anchored, [s.kind for s in segments]


def matches(pattern: str, name: str) -> bool:
    _, segments = _parse_glob(pattern)
    assert len(segments) == 1
    return segments[0].matches(name)


@given(names)
def test_an_escaped_name_matches_itself_and_nothing_else(name):
    anchored, segments = _parse_glob(glob_escape(name))
    assert not anchored and len(segments) == 1 and segments[0].kind == "match"
    assert segments[0].matches(name)
    assert not segments[0].matches(name + "x") and not segments[0].matches("x" + name)


@given(st.lists(names, min_size=1, max_size=4))
def test_escaped_names_joined_with_slashes_give_one_level_each(parts):
    anchored, segments = _parse_glob("/".join(glob_escape(p) for p in parts))
    assert len(segments) == len(parts)
    assert all(s.matches(p) for s, p in zip(segments, parts))


@given(st.lists(names, min_size=1, max_size=4))
def test_path_escaping_is_unambiguous(parts):
    path = "/" + "/".join(path_escape(p) for p in parts)
    # Splitting on unescaped slashes and unescaping gives the names back
    out, cur, i = [], [], 1
    while i < len(path):
        if path[i] == "\\":
            cur.append(path[i + 1])
            i += 2
            continue
        if path[i] == "/":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(path[i])
        i += 1
    out.append("".join(cur))
    assert out == parts


def test_levels_of_a_pattern():
    assert levels("foo*") == (False, ["match"])
    assert levels("*/foo") == (False, ["match", "match"])
    assert levels("**/foo") == (False, ["recursive", "match"])
    assert levels("../foo") == (False, ["parent", "match"])
    assert levels("/root/x") == (True, ["match", "match"])
    assert levels("a//b/") == (False, ["match", "match"])
    assert levels("\\*\\*") == (False, ["match"]) and levels("\\..") == (False, ["match"])
    assert levels("**x") == (False, ["match"])  # '**' inside a name is just two stars


def test_wildcards():
    assert matches("foo*", "foo") and matches("foo*", "foobar") and not matches("foo*", "Foo")
    assert matches("f?o", "fao") and not matches("f?o", "fo")
    assert matches("*", "a/b") and matches("a?b", "a/b")  # wildcards match any character of a name
    assert matches("*", "line\nbreak")
    assert matches("[abc]x", "bx") and not matches("[abc]x", "dx")
    assert matches("[!abc]x", "dx") and matches("[^abc]x", "dx") and not matches("[!abc]x", "ax")
    assert matches("[a-c]", "b") and not matches("[a-c]", "d")
    assert matches("[]]", "]") and matches("[!]]", "x")
    assert matches("[[]x]", "[x]") and matches("[*]", "*") and not matches("[*]", "a")
    assert matches("[a", "[a")  # an unclosed '[' is an ordinary character
    assert matches("a.b+c(d)", "a.b+c(d)") and not matches("a.b", "axb")  # no regex leaks through
    assert matches("\\*", "*") and not matches("\\*", "x")
    assert matches("back\\\\slash", "back\\slash")
    with pytest.raises(ValueError, match="Bad range"):
        _parse_glob("[z-a]")


def test_escape_helpers():
    assert glob_escape("a/b*c?[d]\\e") == "a\\/b\\*c\\?\\[d]\\\\e"
    assert glob_escape("..") == "\\.." and glob_escape("plain name") == "plain name"
    assert path_escape("a/b\\c") == "a\\/b\\\\c"
    with pytest.raises(TypeError, match="folder name"):
        glob_escape(None)
