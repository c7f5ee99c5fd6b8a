"""Fuzz target: bytes in, one request through JWTGateMiddleware, every answer checked.

With atheris (coverage-guided, libFuzzer):

    .venv/bin/pip install atheris
    mkdir -p /tmp/jwtgate-corpus
    .venv/bin/python fuzz/fuzz_middleware.py -max_total_time=600 /tmp/jwtgate-corpus fuzz/corpus

(libFuzzer writes new inputs into the first directory; ``fuzz/corpus`` holds the seeds.)

Without atheris, the same target is driven by hypothesis:

    .venv/bin/python fuzz/fuzz_middleware.py --hypothesis 20000

A failure is any answer outside 200/400/401/403/503, a body that is not JSON, a
malformed ``WWW-Authenticate``, a token echoed back, an exception escaping the
middleware, or an answer slower than ``harness.DEADLINE`` seconds. The CI runs a
bounded slice (``tests/test_properties_fuzz.py``): the seed corpus plus a few hundred inputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from harness import Harness

_harness: Harness | None = None


def _get() -> Harness:
    global _harness  # noqa: PLW0603 (one victim per fuzzing process)
    if _harness is None:
        _harness = Harness()
    return _harness


def test_one_input(data: bytes) -> None:
    """Interpret *data* by its first byte, send it, check the answer (raises on a finding)."""
    if not data:
        return
    harness = _get()
    mode, rest = data[0] % 4, data[1:]
    path = "/items" if data[0] & 0x80 else "/whoami"
    if mode == 0:
        # The raw header value(s), NUL-separated.
        harness.request(rest.split(b"\x00")[:4], path)
    elif mode == 1:
        harness.request([b"Bearer " + rest], path)
    else:
        # Header and payload JSON text (split at the first 0xff), validly signed, so that
        # the JSON parser and every claim check see fuzzed input behind a good signature.
        header_bytes, _, payload_bytes = rest.partition(b"\xff")
        header_text = header_bytes.decode("utf-8", "replace")
        try:
            header = json.loads(header_text) if mode == 2 else None
        except ValueError:
            header = None
        if not isinstance(header, dict):
            header = header_text if mode == 2 else {"alg": "RS256", "kid": "rsa-1"}
        token = harness.sign(header, payload_bytes.decode("utf-8", "replace"))
        harness.request([b"Bearer " + token.encode()], path)


def _hypothesis(count: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=2048))
    def run(data: bytes) -> None:
        test_one_input(data)

    run()
    print(f"{count} inputs, no finding")


def main(argv: list[str]) -> None:
    if len(argv) > 1 and argv[1] == "--hypothesis":
        _hypothesis(int(argv[2]) if len(argv) > 2 else 10_000)
        return
    import atheris

    atheris.instrument_all()  # Coverage feedback from jwtgate, PyJWT and the json module.
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
