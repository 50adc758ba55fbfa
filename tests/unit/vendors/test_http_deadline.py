"""VendorHttpClient under the invocation's deadline: no wait and no request reaches past it.

A fake clock stands in for time: the client's sleep moves it on, and a scripted answer can take
time too. Nothing here waits for real.
"""

from __future__ import annotations

import httpx
import pytest
from orderbridge.vendors.http import (
    MIN_REQUEST_SECONDS,
    Deadline,
    RetryableVendorError,
    VendorHttpClient,
    VendorRateLimited,
    current_deadline,
    vendor_deadline,
)

from .support import ScriptedTransport, captured_logs, json_response, log_records

BASE_URL = "https://vendor.example.test/api"


class FakeClock:
    """Monotonic seconds that move only when the client sleeps or an answer takes time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def taking(self, seconds: float, response: httpx.Response):
        """A transport step whose answer arrives ``seconds`` after it was asked — or, like httpx,
        a ReadTimeout once the request's read timeout has passed without it."""

        def answer(request: httpx.Request) -> httpx.Response:
            read_timeout = request.extensions["timeout"]["read"]
            if seconds > read_timeout:
                self.now += read_timeout
                raise httpx.ReadTimeout("timed out", request=request)
            self.now += seconds
            return response

        return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(transport: ScriptedTransport, clock: FakeClock, **kwargs) -> VendorHttpClient:
    return VendorHttpClient(vendor="acme", base_url=BASE_URL, transport=transport, sleep=clock.sleep, **kwargs)


def rate_limited(seconds: int) -> httpx.Response:
    return json_response({"message": "slow down"}, 429, headers={"Retry-After": str(seconds)})


def test_a_retry_after_beyond_the_deadline_ends_the_call_at_once_with_the_retryable_error(clock) -> None:
    # Given a vendor asking us to come back in 45 s, and 27 s left before the invocation's deadline
    transport = ScriptedTransport(rate_limited(45), json_response({"ok": True}))
    client = make_client(transport, clock)

    # When we call it
    deadline = Deadline.after(27, clock=clock)
    with captured_logs() as stream, vendor_deadline(deadline), pytest.raises(RetryableVendorError) as raised:
        client.request("GET", "/things")

    # Then it asked once, did not wait, and left the retry to the workflow with the vendor's wait,
    # named for the workflow's longer rate-limited retry
    assert len(transport.requests) == 1
    assert clock.waits == []
    assert type(raised.value) is VendorRateLimited
    assert (raised.value.status_code, raised.value.retry_after) == (429, 45.0)
    assert raised.value.message == "slow down"
    left = [r for r in log_records(stream) if "retry left to the workflow" in r["message"]]
    assert len(left) == 1
    assert (left[0]["vendor"], left[0]["attempt"], left[0]["wait_seconds"], left[0]["status"]) == ("acme", 1, 30.0, 429)
    assert left[0]["seconds_left"] == 27.0


def test_without_a_deadline_the_same_answer_is_waited_for_as_before(clock) -> None:
    # Given the same vendor and no deadline (a script, a test)
    transport = ScriptedTransport(rate_limited(45), json_response({"ok": True}))

    # When we call it
    response = make_client(transport, clock).request("GET", "/things")

    # Then the client waited (capped at max_retry_after) and the retry went through
    assert response.status_code == 200
    assert clock.waits == [30.0]
    assert current_deadline() is None


def test_a_503_with_a_retry_after_beyond_the_deadline_stays_a_plain_retryable_error(clock) -> None:
    # Given a vendor in maintenance asking for 60 s, with 27 s left
    transport = ScriptedTransport(json_response({}, 503, headers={"Retry-After": "60"}))

    # When we call it under the deadline
    with vendor_deadline(Deadline.after(27, clock=clock)), pytest.raises(RetryableVendorError) as raised:
        make_client(transport, clock).request("GET", "/things")

    # Then it is left to the workflow's ordinary retry, not the rate-limited one
    assert type(raised.value) is RetryableVendorError
    assert (raised.value.status_code, raised.value.retry_after) == (503, 60.0)
    assert clock.waits == []


def test_a_429_whose_wait_fits_is_a_plain_retryable_error_once_the_attempts_are_spent(clock) -> None:
    # Given a vendor asking for 2 s every time, with plenty of time left
    transport = ScriptedTransport(rate_limited(2))

    # When the client's attempts run out
    with vendor_deadline(Deadline.after(60, clock=clock)), pytest.raises(RetryableVendorError) as raised:
        make_client(transport, clock, max_attempts=2).request("GET", "/things")

    # Then the error is the 429's own: the function could have waited
    assert type(raised.value) is RetryableVendorError
    assert clock.waits == [2.0]


def test_without_a_deadline_a_429_is_never_rate_limited_past_it(clock) -> None:
    transport = ScriptedTransport(rate_limited(45))

    with pytest.raises(RetryableVendorError) as raised:
        make_client(transport, clock, max_attempts=1).request("GET", "/things")

    assert type(raised.value) is RetryableVendorError


def test_a_retry_that_fits_before_the_deadline_is_still_made(clock) -> None:
    # Given a 503 asking for 5 s, with 27 s left
    transport = ScriptedTransport(json_response({}, 503, headers={"Retry-After": "5"}), json_response({"ok": True}))

    # When we call it under the deadline
    with vendor_deadline(Deadline.after(27, clock=clock)):
        response = make_client(transport, clock).request("GET", "/things")

    # Then the client waited and retried itself
    assert response.status_code == 200
    assert clock.waits == [5.0]
    assert len(transport.requests) == 2


def test_a_wait_that_leaves_the_next_request_too_little_time_is_not_slept(clock) -> None:
    # Given a wait that would leave the next request less than MIN_REQUEST_SECONDS
    wait = 7
    transport = ScriptedTransport(rate_limited(wait), json_response({"ok": True}))

    # When we call it with just under wait + MIN_REQUEST_SECONDS left
    deadline = Deadline.after(wait + MIN_REQUEST_SECONDS - 0.5, clock=clock)
    with vendor_deadline(deadline), pytest.raises(RetryableVendorError):
        make_client(transport, clock).request("GET", "/things")

    # Then it did not wait and asked once
    assert clock.waits == []
    assert len(transport.requests) == 1


def test_each_requests_timeouts_are_cut_to_the_time_left(clock) -> None:
    # Given a client with a 10 s read timeout and 4 s left before the deadline
    transport = ScriptedTransport(json_response({"ok": True}))
    client = make_client(transport, clock, connect_timeout=3.0, read_timeout=10.0)

    # When we call it
    with vendor_deadline(Deadline.after(4, clock=clock)):
        client.request("GET", "/things")

    # Then no timeout of that request reaches past the deadline
    timeout = transport.requests[0].extensions["timeout"]
    assert timeout == {"connect": 3.0, "read": 4.0, "write": 4.0, "pool": 4.0}


def test_with_time_to_spare_the_configured_timeouts_stand(clock) -> None:
    transport = ScriptedTransport(json_response({"ok": True}))
    client = make_client(transport, clock, connect_timeout=1.5, read_timeout=7.0)

    with vendor_deadline(Deadline.after(60, clock=clock)):
        client.request("GET", "/things")

    assert transport.requests[0].extensions["timeout"] == {"connect": 1.5, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_a_request_is_not_started_with_less_than_the_minimum_left(clock) -> None:
    # Given less than MIN_REQUEST_SECONDS left before the deadline
    transport = ScriptedTransport(json_response({"ok": True}))

    # When a call is made
    deadline = Deadline.after(MIN_REQUEST_SECONDS - 0.1, clock=clock)
    with vendor_deadline(deadline), pytest.raises(RetryableVendorError, match="not sent") as raised:
        make_client(transport, clock).request("POST", "/orders", json={"a": 1})

    # Then nothing reached the vendor, nothing was waited, and the workflow may simply retry
    assert transport.requests == []
    assert clock.waits == []
    assert raised.value.status_code is None


def test_slow_failing_answers_never_take_the_call_past_the_deadline(clock) -> None:
    # Given a vendor that answers 502 after 3 s, every time (or times out first), and 20 s left
    transport = ScriptedTransport(clock.taking(3.0, json_response({}, 502)))
    client = make_client(transport, clock, max_attempts=10)
    deadline = Deadline.after(20, clock=clock)

    # When we call it
    with vendor_deadline(deadline), pytest.raises(RetryableVendorError):
        client.request("GET", "/things")

    # Then it retried while a request still fitted, every request's read timeout ended by the
    # deadline, and the call was over before it
    assert 2 <= len(transport.requests) < 10
    assert clock.now <= deadline.at
    assert all(r.extensions["timeout"]["read"] <= 20 for r in transport.requests)


def test_the_deadline_belongs_to_the_block_not_to_the_client(clock) -> None:
    # Given one client, built once and used by two invocations in turn, and a vendor asking for 10 s
    transport = ScriptedTransport(rate_limited(10), rate_limited(10), json_response({"ok": True}))
    client = make_client(transport, clock)

    # When the first runs with 5 s left, Then its retry is left to the workflow
    with vendor_deadline(Deadline.after(5, clock=clock)) as outer:
        with pytest.raises(RetryableVendorError):
            client.request("GET", "/things")
        # (a nested block replaces it, and gives it back when it ends)
        with vendor_deadline(None):
            assert current_deadline() is None
        assert current_deadline() is outer
    # And the next, without a deadline, waits as the vendor asked
    assert current_deadline() is None
    assert client.request("GET", "/things").status_code == 200
    assert clock.waits == [10.0]
