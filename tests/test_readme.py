"""The README stays true: its settings table is generated from ``Settings``' own metadata.

After adding or changing a setting, rewrite the table with:

    .venv/bin/python tests/test_readme.py
"""

import dataclasses
import re
from pathlib import Path

from jwtgate import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def _default(field: dataclasses.Field[object]) -> str:
    value = field.default
    if value is dataclasses.MISSING or value is None or value == "" or value == ():
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, (tuple, list)):
        return f"`{','.join(map(str, value))}`"
    return f"`{value}`"


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field in dataclasses.fields(Settings):
        doc = field.metadata["doc"].replace("|", "\\|")
        rows.append(f"| `{field.metadata['env']}` | {_default(field)} | {doc} |")
    return "\n".join(rows)


def _block(text: str) -> str:
    match = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    assert match, f"README.md lacks the {START} ... {END} block"
    return match.group(1)


def test_readme_settings_table_matches_settings() -> None:
    assert _block(README.read_text()) == settings_table(), (
        "README's settings table is out of date: run .venv/bin/python tests/test_readme.py"
    )


def test_readme_names_every_environment_variable() -> None:
    text = README.read_text()
    for field in dataclasses.fields(Settings):
        assert f"`{field.metadata['env']}`" in text


def test_readme_shows_the_contract_commands() -> None:
    text = README.read_text()
    assert 'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]"' in text
    assert ".venv/bin/jwtgate demo" in text
    assert ".venv/bin/pytest" in text


if __name__ == "__main__":
    text = README.read_text()
    README.write_text(text.replace(_block(text), settings_table()))
    print("README.md settings table updated")
