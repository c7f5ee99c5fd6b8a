"""Cache lifetimes from response headers, and the refresh schedule: pure functions."""

import pytest

from jwtgate._keys.lifetime import RETRY_MAX, lifetime, next_refresh, retry_delay

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({}, 300, id="silent-server-uses-configured"),
        pytest.param({"cache-control": "max-age=600"}, 600, id="max-age"),
        pytest.param({"cache-control": "public, max-age=600, must-revalidate"}, 600, id="list"),
        pytest.param({"cache-control": 'max-age="600"'}, 600, id="quoted"),
        pytest.param({"cache-control": "max-age=600", "age": "100"}, 500, id="minus-age"),
        pytest.param({"cache-control": "max-age=5"}, 60, id="clamped-to-min"),
        pytest.param({"cache-control": "max-age=999999"}, 3600, id="clamped-to-max"),
        pytest.param({"cache-control": "no-store"}, 60, id="no-store-is-min"),
        pytest.param({"cache-control": "no-cache, max-age=600"}, 60, id="no-cache-is-min"),
        pytest.param({"cache-control": "max-age=soon"}, 60, id="bad-max-age-is-min"),
        pytest.param(
            {"cache-control": "max-age=600", "expires": "Tue, 14 Nov 2023 23:13:20 GMT"},
            600,
            id="max-age-beats-expires",
        ),
        pytest.param(
            {"expires": "Tue, 14 Nov 2023 22:33:20 GMT", "date": DATE}, 1200, id="expires-date"
        ),
        pytest.param({"expires": "Tue, 14 Nov 2023 22:33:20 GMT"}, 1200, id="expires-no-date"),
        pytest.param({"expires": "0"}, 60, id="bad-expires-is-min"),
        pytest.param({"expires": "Mon, 13 Nov 2023 22:13:20 GMT"}, 60, id="past-expires-is-min"),
        pytest.param({"cache-control": "private"}, 300, id="no-lifetime-directive"),
    ],
)
def test_lifetime(headers: dict[str, str], expected: float) -> None:
    assert lifetime(headers, NOW, default=300, minimum=60, maximum=3600) == expected


@pytest.mark.parametrize(
    ("jitter", "expected"),
    [pytest.param(0.0, 225.0, id="earliest"), pytest.param(0.999999, 270.0, id="latest")],
)
def test_refresh_is_ahead_of_expiry_with_jitter(jitter: float, expected: float) -> None:
    assert next_refresh(0.0, 300.0, 5.0, jitter) == pytest.approx(expected, abs=0.01)


def test_refresh_never_comes_sooner_than_the_cooldown() -> None:
    assert next_refresh(0.0, 0.0, 5.0, 0.5) == 5.0
    assert next_refresh(0.0, 0.0, 0.0, 0.5) == 0.1  # Never a busy loop.


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    delays = [retry_delay(n, 5.0, 0.0) for n in range(1, 8)]
    assert delays == [5.0, 10.0, 20.0, 40.0, RETRY_MAX, RETRY_MAX, RETRY_MAX]
    assert retry_delay(1, 5.0, 0.999) == pytest.approx(6.25, abs=0.01)  # Jitter.
    assert retry_delay(1, 0.0, 0.0) == 1.0  # A zero cooldown still waits.
    assert retry_delay(1000, 5.0, 0.0) == RETRY_MAX
