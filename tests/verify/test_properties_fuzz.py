"""The CI slice of the fuzz target: every seed in ``fuzz/corpus``, then random inputs."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"


def _target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_middleware", FUZZ / "fuzz_middleware.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def target() -> Iterator[ModuleType]:
    module = _target()
    yield module
    if module._harness is not None:
        module._harness.close()


SEEDS = sorted((FUZZ / "corpus").iterdir())


def test_corpus_has_seeds_for_every_mode() -> None:
    assert {seed.read_bytes()[0] % 4 for seed in SEEDS} == {0, 1, 2, 3}


@pytest.mark.parametrize("seed", SEEDS, ids=[seed.name for seed in SEEDS])
def test_seed(target: ModuleType, seed: Path) -> None:
    target.test_one_input(seed.read_bytes())


def test_valid_seed_is_accepted(target: ModuleType) -> None:
    """The seeds reach the far end: a validly signed token with good claims is a 200."""
    data = (FUZZ / "corpus" / "signed-valid").read_bytes()[1:]
    header, _, payload = data.partition(b"\xff")
    harness = target._get()
    token = harness.sign(header.decode(), payload.decode())
    assert harness.request([b"Bearer " + token.encode()]).status == 200


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=1024))
def test_random_inputs(target: ModuleType, data: bytes) -> None:
    target.test_one_input(data)
