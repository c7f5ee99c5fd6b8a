"""docs/security.md stays true: every test it cites as evidence exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
CITATION = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(\[[^\]`]+\])?`|`(\[[^\]`]+\])`")


def cited() -> set[str]:
    """Node ids cited in the doc; a bare ``[row]`` continues the last test cited on its line."""
    ids: set[str] = set()
    for line in DOC.read_text().splitlines():
        last = ""  # Within one line (one table row) only.
        for path, test, row, bare in CITATION.findall(line):
            if path:
                last = f"{path}::{test}"
                ids.add(last + row)
            elif last:
                ids.add(last + bare)
    return ids


def test_every_cited_test_exists() -> None:
    ids = cited()
    files = sorted({node.split("::")[0] for node in ids})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    tests = set(collected) | {node.split("[")[0] for node in collected}
    missing = sorted(node for node in ids if node not in tests)
    assert len(ids) > 100
    assert not missing, missing
