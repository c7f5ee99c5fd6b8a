"""``JWTGATE_ISSUERS`` entries that cannot be used stop the app, naming the entry and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jwtgate import ConfigurationError, Settings


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        pytest.param(["https://a.test"], "item 0 is not a JSON object", id="not-an-object"),
        pytest.param(
            [{"issuer": "https://a.test", "colour": "red"}],
            "unknown field 'colour'",
            id="unknown-field",
        ),
        pytest.param(
            [{"issuer": "https://a.test", "audience": "x", "verify_audience": "no"}],
            "verify_audience must be true or false",
            id="verify-audience-not-bool",
        ),
        pytest.param(
            [{"issuer": 7, "audience": "x"}], "issuer must be a string", id="issuer-not-string"
        ),
        pytest.param(
            [{"issuer": "https://a.test", "audience": ["x", 1]}],
            "audience must be a string or a list of strings",
            id="audience-list-with-number",
        ),
        pytest.param([{"audience": "x"}], "item 0 has no issuer", id="no-issuer"),
        pytest.param(
            [{"issuer": "https://a.test", "audience": "x", "hmac_secret_file": 3}],
            "hmac_secret_file must be a string",
            id="secret-file-not-string",
        ),
        pytest.param(
            [{"issuer": "https://a.test", "audience": "x", "hmac_secret_file": "/nonexistent/s"}],
            "cannot read hmac_secret_file",
            id="secret-file-missing",
        ),
    ],
)
def test_bad_issuer_entries_name_the_problem(entries: list[object], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"JWTGATE_ISSUERS": json.dumps(entries)})
    assert caught.value.setting.startswith("JWTGATE_ISSUERS")
    assert message in caught.value.problem


def test_a_secret_file_is_read_and_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s" * 64 + "\n")
    entries = [{"issuer": "https://a.test", "audience": "x", "hmac_secret_file": str(secret)}]
    settings = Settings.from_env({"JWTGATE_ISSUERS": json.dumps(entries)})
    assert settings.issuers[0].hmac_secret == "s" * 64
