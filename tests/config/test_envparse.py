"""Reading JWTGATE_* variables: the parsers and ``read_environ`` (through ``Settings``' fields)."""

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import pytest

from jwtgate import ConfigurationError, Settings
from jwtgate._config.envparse import (
    parse_bool,
    parse_float,
    parse_int,
    parse_list,
    parse_str,
    read_environ,
)

FIELDS = dataclasses.fields(Settings)


@pytest.mark.parametrize(
    ("parse", "raw", "expected"),
    [
        pytest.param(parse_str, "  https://i.test/ \n", "https://i.test/", id="str-stripped"),
        pytest.param(parse_list, " a, b ,,c ", ("a", "b", "c"), id="list-items-stripped"),
        pytest.param(parse_list, " , ", (), id="list-blank"),
        pytest.param(parse_float, " 2.5", 2.5, id="float"),
        pytest.param(parse_int, "4096", 4096, id="int"),
        pytest.param(parse_bool, " TRUE ", True, id="bool-true"),
        pytest.param(parse_bool, "on", True, id="bool-on"),
        pytest.param(parse_bool, "1", True, id="bool-1"),
        pytest.param(parse_bool, "No", False, id="bool-no"),
        pytest.param(parse_bool, "off", False, id="bool-off"),
        pytest.param(parse_bool, "0", False, id="bool-0"),
    ],
)
def test_parsers_accept(parse: Callable[[str], Any], raw: str, expected: Any) -> None:
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("parse", "raw", "message"),
    [
        pytest.param(parse_float, "5s", "'5s' is not a number", id="float-unit"),
        pytest.param(parse_int, "1.5", "'1.5' is not a whole number", id="int-float"),
        pytest.param(parse_int, "1e3", "'1e3' is not a whole number", id="int-exponent"),
        pytest.param(
            parse_bool, "maybe", "'maybe' is not a boolean (use true or false)", id="bool"
        ),
        pytest.param(parse_bool, "", "'' is not a boolean (use true or false)", id="bool-empty"),
    ],
)
def test_parsers_refuse(parse: Callable[[str], Any], raw: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse(raw)
    assert str(info.value) == message


def test_read_environ_parses_known_variables_and_skips_overridden_ones() -> None:
    environ = {"JWTGATE_LEEWAY": "10", "JWTGATE_AUDIENCE": "a, b", "JWTGATE_REALM": "bad"}
    assert read_environ(FIELDS, environ, skip={"realm"}) == {"leeway": 10.0, "audience": ("a", "b")}


def test_an_overridden_variable_is_not_parsed() -> None:
    assert read_environ(FIELDS, {"JWTGATE_LEEWAY": "soon"}, skip={"leeway"}) == {}


def test_empty_optional_variables_are_left_out_but_empty_required_ones_kept() -> None:
    environ = {"JWTGATE_LEEWAY": " ", "JWTGATE_ISSUER": "", "JWTGATE_AUDIENCE": " "}
    assert read_environ(FIELDS, environ, skip=()) == {"issuer": "", "audience": ()}


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(ConfigurationError) as info:
        read_environ(FIELDS, {"JWTGATE_TOKEN_CACHE_SIZE": "many"}, skip=())
    assert info.value.setting == "JWTGATE_TOKEN_CACHE_SIZE"
    assert info.value.problem == "'many' is not a whole number"


def test_unknown_jwtgate_variables_are_warned_about_others_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = {"JWTGATE_LEEWAY_S": "1", "JWTGATEWAY": "x", "HOME": "/root"}
    with caplog.at_level(logging.WARNING, logger="jwtgate"):
        assert read_environ(FIELDS, environ, skip=()) == {}
    assert [r.getMessage() for r in caplog.records] == [
        "Ignoring unknown setting JWTGATE_LEEWAY_S (did you mean JWTGATE_LEEWAY?)"
    ]
