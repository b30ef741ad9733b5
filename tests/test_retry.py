"""The retry rules: FailFast raises at once, FaultTolerance waits as the server asks and gives up at max_wait."""
import pytest

from exchangelib.errors import ErrorServerBusy, RateLimitError, TransportError, error_for_code
from exchangelib.retry import FailFast, FaultTolerance, Retriable


def _failing(times, hint=None, error=None):
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) <= times:
            raise Retriable("busy", hint=hint, error=error)
        return "ok"

    return attempt, calls


def test_failfast_raises_the_servers_error_at_once():
    busy = error_for_code("ErrorServerBusy", message="The server cannot service this request right now.",
                          message_xml={"BackOffMilliseconds": "500"})
    attempt, calls = _failing(1, hint=0.5, error=busy)
    with pytest.raises(ErrorServerBusy) as e:
        FailFast().run(attempt, sleep=lambda s: pytest.fail("FailFast must not sleep"))
    assert e.value.back_off == 0.5
    assert len(calls) == 1


def test_fault_tolerance_waits_exactly_the_hint_then_succeeds():
    slept = []
    attempt, calls = _failing(3, hint=0.25, error=TransportError("x"))
    assert FaultTolerance(max_wait=10).run(attempt, sleep=slept.append) == "ok"
    assert slept == [0.25, 0.25, 0.25]
    assert len(calls) == 4


def test_fault_tolerance_backs_off_exponentially_without_hint():
    slept = []
    attempt, _ = _failing(4, error=TransportError("x"))
    FaultTolerance(max_wait=1000, base=1.0).run(attempt, sleep=slept.append)
    assert len(slept) == 4
    # Jitter keeps each wait within [0.5, 1] of the exponential step
    for i, s in enumerate(slept):
        assert 0.5 * 2 ** i <= s <= 2 ** i


def test_fault_tolerance_gives_up_with_rate_limit_error():
    slept = []
    attempt, calls = _failing(100, hint=4.0, error=TransportError("x"))
    with pytest.raises(RateLimitError) as e:
        FaultTolerance(max_wait=10).run(attempt, sleep=slept.append)
    assert slept == [4.0, 4.0]  # a third wait would pass max_wait
    assert e.value.max_wait == 10
    assert "max_wait" in str(e.value)


def test_fault_tolerance_rejects_bad_max_wait():
    with pytest.raises(ValueError):
        FaultTolerance(max_wait=0)
