"""Claim rules: configuration (startup errors naming the variable and key) and matching."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate import ClaimRuleViolation, ConfigurationError, IssuerConfig, Settings
from jwtgate._config.authz_fields import claim_path
from jwtgate._verify.rules import check_rules, compile_rules

BASE = {"JWTGATE_ISSUER": "https://issuer.test", "JWTGATE_AUDIENCE": "api"}


@pytest.mark.parametrize(
    ("name", "path"),
    [
        pytest.param("tid", ("tid",), id="name"),
        pytest.param("cognito:groups", ("cognito:groups",), id="name-with-colon"),
        pytest.param("https://example.com/roles", ("https://example.com/roles",), id="url-name"),
        pytest.param("/realm_access/roles", ("realm_access", "roles"), id="pointer"),
        pytest.param("/a~1b/c~0d", ("a/b", "c~d"), id="pointer-escapes"),
        pytest.param("/~01", ("~1",), id="pointer-escape-order"),
        pytest.param("/", ("",), id="pointer-empty-key"),
    ],
)
def test_claim_paths(name: str, path: tuple[str, ...]) -> None:
    assert claim_path(name) == path


@pytest.mark.parametrize("name", ["", "/a~2", "/a~", 3])
def test_bad_claim_paths(name: Any) -> None:
    with pytest.raises(ValueError):
        claim_path(name)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("not json", "not valid JSON", id="not-json"),
        pytest.param('["tid"]', "JSON object", id="a-list"),
        pytest.param('{"tid": []}', "key 'tid': the list of values is empty", id="empty-list"),
        pytest.param('{"tid": null}', "key 'tid': NoneType", id="null"),
        pytest.param('{"tid": {"a": 1}}', "key 'tid': dict", id="object"),
        pytest.param('{"tid": [["a"]]}', "key 'tid': list", id="nested-list"),
        pytest.param('{"n": NaN}', "not valid JSON", id="nan"),
        pytest.param('{"n": Infinity}', "not valid JSON", id="infinity"),
        pytest.param('{"/a~2": "x"}', "'/a~2' is not a valid JSON Pointer", id="bad-pointer"),
        pytest.param('{"": "x"}', "key ''", id="empty-key"),
    ],
)
def test_bad_rules_stop_startup_naming_variable_and_key(value: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**BASE, "JWTGATE_CLAIM_RULES": value})
    assert caught.value.setting == "JWTGATE_CLAIM_RULES"
    assert fragment in caught.value.problem


def test_rules_in_code_are_checked_and_frozen() -> None:
    settings = Settings(issuer="https://i.test", audience=["a"], claim_rules={"tid": "x", "n": 1})
    assert dict(settings.claim_rules) == {"tid": ("x",), "n": (1,)}
    with pytest.raises(TypeError):
        settings.claim_rules["tid"] = ("y",)  # type: ignore[index]
    with pytest.raises(ConfigurationError, match=r"claim_rules: key 'n': nan is not finite"):
        Settings(issuer="https://i.test", audience=["a"], claim_rules={"n": float("nan")})


def test_issuer_rules_add_to_the_shared_ones() -> None:
    settings = Settings.from_env(
        {
            "JWTGATE_CLAIM_RULES": '{"token_use": "access"}',
            "JWTGATE_ISSUERS": '[{"issuer": "https://a.test", "audience": "x", '
            '"claim_rules": {"tid": ["t1", "t2"]}}, {"issuer": "https://b.test", "audience": "x"}]',
        }
    )
    first, second = (settings.for_issuer(c) for c in settings.issuers)
    assert dict(first.claim_rules) == {"token_use": ("access",), "tid": ("t1", "t2")}
    assert dict(second.claim_rules) == {"token_use": ("access",)}


def test_bad_issuer_rules_name_the_entry() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(
            {"JWTGATE_ISSUERS": '[{"issuer": "https://a.test", "audience": "x", '
             '"claim_rules": {"tid": []}}]'}
        )  # fmt: skip
    assert caught.value.setting == "JWTGATE_ISSUERS[0].claim_rules"
    assert "key 'tid'" in caught.value.problem
    with pytest.raises(ConfigurationError, match="claim_rules must be a JSON object"):
        Settings.from_env(
            {"JWTGATE_ISSUERS": '[{"issuer": "https://a.test", "audience": "x", "claim_rules": 1}]'}
        )
    assert IssuerConfig(issuer="x").claim_rules is None


@pytest.mark.parametrize(
    ("setting", "value"),
    [("JWTGATE_SCOPE_CLAIMS", "scope,/a~x"), ("JWTGATE_ROLE_CLAIMS", "/realm_access/~")],
)
def test_bad_claim_pointers_stop_startup(setting: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**BASE, setting: value})
    assert caught.value.setting == setting


RULES = {
    "s": ("a", "b"),
    "n": (1,),
    "f": (1.5,),
    "t": (True,),
    "/o/p": ("x",),
}

MATCHES = [
    pytest.param({"s": "a"}, True, id="string-equal"),
    pytest.param({"s": "c"}, False, id="string-other"),
    pytest.param({"s": ["c", "b"]}, True, id="list-contains"),
    pytest.param({"s": ["c"]}, False, id="list-without"),
    pytest.param({"s": []}, False, id="empty-list"),
    pytest.param({"s": "a b"}, False, id="no-splitting"),
    pytest.param({"s": {"a": 1}}, False, id="object"),
    pytest.param({"s": None}, False, id="null"),
    pytest.param({}, False, id="missing"),
    pytest.param({"n": 1}, True, id="int"),
    pytest.param({"n": 1.0}, True, id="int-as-float"),
    pytest.param({"n": True}, False, id="true-is-not-1"),
    pytest.param({"n": "1"}, False, id="string-is-not-number"),
    pytest.param({"f": 1.5}, True, id="float"),
    pytest.param({"t": True}, True, id="bool"),
    pytest.param({"t": 1}, False, id="1-is-not-true"),
    pytest.param({"t": [False, True]}, True, id="bool-in-list"),
    pytest.param({"o": {"p": "x"}}, True, id="pointer"),
    pytest.param({"o": {"p": ["y", "x"]}}, True, id="pointer-list"),
    pytest.param({"o": ["p"]}, False, id="pointer-through-list"),
    pytest.param({"o": "p"}, False, id="pointer-through-string"),
]


@pytest.mark.parametrize(("claims", "accepted"), MATCHES)
def test_rule_matching(claims: dict[str, Any], accepted: bool) -> None:
    for name, values in RULES.items():
        rules = compile_rules({name: values})
        # Each case is about the rule(s) whose claim it names; the others are absent.
        key = name.split("/")[1] if name.startswith("/") else name
        if key not in claims and not (name == "s" and claims == {}):
            continue
        if accepted:
            check_rules(claims, rules)
        else:
            with pytest.raises(ClaimRuleViolation) as caught:
                check_rules(claims, rules)
            assert caught.value.claim == name
            assert caught.value.status_code == 401
            assert caught.value.error == "invalid_token"


def test_every_rule_must_hold() -> None:
    rules = compile_rules({"a": ("1",), "b": ("2",)})
    check_rules({"a": "1", "b": "2"}, rules)
    with pytest.raises(ClaimRuleViolation, match="'b'"):
        check_rules({"a": "1", "b": "3"}, rules)


def test_settings_with_rules_stay_hashable_and_comparable() -> None:
    one = Settings(issuer="https://i.test", audience=["a"], claim_rules={"tid": "x"})
    same = Settings(issuer="https://i.test", audience=["a"], claim_rules={"tid": ["x"]})
    other = Settings(issuer="https://i.test", audience=["a"], claim_rules={"tid": "y"})
    assert one == same
    assert hash(one) == hash(same)
    assert one != other
