"""VendorHttpClient: timeouts, error mapping, declared retries, Decimal JSON, call logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest
from orderbridge.vendors.http import (
    BACKOFF_MAX_SECONDS,
    PermanentVendorError,
    RetryableVendorError,
    VendorAuthError,
    VendorConflict,
    VendorError,
    VendorHttpClient,
    VendorNotFound,
    decode_json,
    encode_json,
    parse_retry_after,
)

from .support import ScriptedTransport, SleepRecorder, captured_logs, json_response, log_records

BASE_URL = "https://vendor.example.test/api"


def make_client(transport: ScriptedTransport, sleep: SleepRecorder | None = None, **kwargs) -> VendorHttpClient:
    return VendorHttpClient(
        vendor="acme", base_url=BASE_URL, transport=transport, sleep=sleep or SleepRecorder(), **kwargs
    )


# --- success, timeouts, encoding -------------------------------------------------------------------


def test_a_2xx_answer_is_returned_after_one_request() -> None:
    # Given a vendor that answers 201
    transport = ScriptedTransport(json_response({"ok": True}, 201))
    client = make_client(transport)

    # When we call it
    response = client.request("POST", "/things", json={"a": 1})

    # Then the response comes back and exactly one request was made to base_url + path
    assert response.status_code == 201
    assert len(transport.requests) == 1
    assert str(transport.requests[0].url) == f"{BASE_URL}/things"


def test_connect_and_read_timeouts_are_set_on_every_request() -> None:
    # Given a client built with explicit timeouts
    transport = ScriptedTransport(json_response({}))
    client = make_client(transport, connect_timeout=1.5, read_timeout=7.0)

    # When a request is sent
    client.request("GET", "/things")

    # Then httpx carries exactly those timeouts
    timeout = transport.requests[0].extensions["timeout"]
    assert timeout["connect"] == 1.5
    assert timeout["read"] == 7.0


def test_decimal_in_a_json_body_is_sent_as_a_number_digit_for_digit() -> None:
    # Given a body with money as Decimal (one that float would round)
    transport = ScriptedTransport(json_response({}))
    client = make_client(transport)
    body = {"price": Decimal("7199.980"), "tax": Decimal("0.1"), "items": [{"q": 2, "p": Decimal("94.72")}]}

    # When it is sent
    client.request("POST", "/things", json=body)

    # Then the wire has the exact digits, as numbers, with a JSON content type
    sent = transport.requests[0]
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.content == b'{"price":7199.980,"tax":0.1,"items":[{"q":2,"p":94.72}]}'
    assert json.loads(sent.content, parse_float=Decimal)["price"] == Decimal("7199.980")


def test_encode_json_refuses_a_non_finite_decimal() -> None:
    with pytest.raises(ValueError):
        encode_json({"price": Decimal("NaN")})


def test_decode_json_reads_every_fraction_as_decimal_never_float() -> None:
    # Given a vendor body with fractional numbers
    response = json_response('{"price": 7199.980, "total": 53.11, "qty": 2}')

    # When it is decoded
    body = decode_json(response)

    # Then fractions are Decimal (with their trailing zeros) and integers stay int
    assert body == {"price": Decimal("7199.980"), "total": Decimal("53.11"), "qty": 2}
    assert isinstance(body["price"], Decimal)
    assert str(body["price"]) == "7199.980"


def test_decode_json_raises_a_permanent_error_on_a_non_json_body() -> None:
    # Given a 200 that is an HTML page, obtained through the client
    transport = ScriptedTransport(httpx.Response(200, content=b"<html>maintenance</html>"))
    response = make_client(transport).request("GET", "/things")

    # When / Then decoding raises a permanent error naming the vendor
    with pytest.raises(PermanentVendorError) as caught:
        decode_json(response)
    assert caught.value.vendor == "acme"
    assert caught.value.status_code == 200


def test_query_params_that_are_none_are_left_out_and_forms_are_url_encoded() -> None:
    transport = ScriptedTransport(json_response({}))
    client = make_client(transport)

    client.request("POST", "/form", params={"page": 2, "phone": None}, data={"order_id": "1857", "x": None})

    sent = transport.requests[0]
    assert dict(sent.url.params) == {"page": "2"}
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.content == b"order_id=1857"


def test_json_and_form_together_are_refused() -> None:
    client = make_client(ScriptedTransport(json_response({})))
    with pytest.raises(ValueError):
        client.request("POST", "/x", json={"a": 1}, data={"b": "2"})


# --- permanent errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, PermanentVendorError),
        (401, VendorAuthError),
        (403, VendorAuthError),
        (404, VendorNotFound),
        (409, VendorConflict),
        (422, PermanentVendorError),
    ],
)
def test_a_4xx_answer_raises_its_permanent_error_after_exactly_one_request(status, error_type) -> None:
    # Given a vendor answering a client error
    transport = ScriptedTransport(json_response({"message": "nope"}, status))
    sleep = SleepRecorder()
    client = make_client(transport, sleep)

    # When we call it
    with pytest.raises(error_type) as caught:
        client.request("GET", "/things")

    # Then it is permanent, carries the status, and was never retried
    assert isinstance(caught.value, PermanentVendorError)
    assert caught.value.retryable is False
    assert caught.value.status_code == status
    assert len(transport.requests) == 1
    assert sleep.waits == []


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        # Blink
        ({"msg": "Invalid branch", "success": False, "error": None}, "Invalid branch", None),
        (
            {"msg": "Validation failed", "error": {"customer_phone": ["is invalid"]}},
            "Validation failed: customer_phone: is invalid",
            None,
        ),
        # Bloq.It
        ({"code": "bloqIDInvalid", "message": "Invalid bloqID."}, "Invalid bloqID.", "bloqIDInvalid"),
        # DispatchNINJA
        ({"code": 401, "status": "401 Unauthorized"}, "401 Unauthorized", "401"),
    ],
)
def test_the_vendors_own_message_and_code_are_carried_by_the_error(body, message, code) -> None:
    client = make_client(ScriptedTransport(json_response(body, 400)))

    with pytest.raises(PermanentVendorError) as caught:
        client.request("GET", "/things")

    assert caught.value.message == message
    assert caught.value.vendor_code == code
    assert caught.value.vendor == "acme"


def test_a_non_json_error_page_gives_the_http_reason_as_message() -> None:
    client = make_client(ScriptedTransport(httpx.Response(404, content=b"<h1>Not here</h1>")))

    with pytest.raises(VendorNotFound) as caught:
        client.request("GET", "/things")

    assert caught.value.message == "HTTP 404 Not Found"


# --- retryable errors and the retry budget ------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_answer_is_retried_until_the_budget_is_spent(status) -> None:
    # Given a vendor that always fails with a server error
    transport = ScriptedTransport(json_response({"message": "locker not responding"}, status))
    sleep = SleepRecorder()
    client = make_client(transport, sleep, max_attempts=3)

    # When we call it
    with pytest.raises(RetryableVendorError) as caught:
        client.request("POST", "/rents", json={"x": 1})

    # Then exactly max_attempts requests were made, with a backoff wait between each
    assert len(transport.requests) == 3
    assert len(sleep.waits) == 2
    assert all(0 <= wait <= BACKOFF_MAX_SECONDS for wait in sleep.waits)
    assert caught.value.status_code == status
    assert caught.value.retryable is True
    # and the body was replayed identically on every attempt
    assert {request.content for request in transport.requests} == {b'{"x":1}'}


def test_a_retry_that_succeeds_returns_the_successful_response() -> None:
    transport = ScriptedTransport(json_response({}, 503), json_response({"ok": True}, 200))
    sleep = SleepRecorder()
    client = make_client(transport, sleep)

    response = client.request("GET", "/things")

    assert response.status_code == 200
    assert len(transport.requests) == 2
    assert len(sleep.waits) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server disconnected without sending a response"),
        httpx.ReadError("connection reset by peer"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_timeouts_and_connection_failures_are_retryable_and_retried(failure) -> None:
    # Given a vendor that cannot be reached
    transport = ScriptedTransport(failure)
    sleep = SleepRecorder()
    client = make_client(transport, sleep, max_attempts=4)

    # When we call it
    with pytest.raises(RetryableVendorError) as caught:
        client.request("GET", "/things")

    # Then every attempt of the budget was used and the error has no HTTP status
    assert len(transport.requests) == 4
    assert len(sleep.waits) == 3
    assert caught.value.status_code is None
    assert isinstance(caught.value.__cause__, type(failure))


def test_a_transport_error_that_is_our_own_bug_is_not_retried() -> None:
    transport = ScriptedTransport(httpx.UnsupportedProtocol("no such scheme"))
    client = make_client(transport)

    with pytest.raises(PermanentVendorError):
        client.request("GET", "/things")

    assert len(transport.requests) == 1


def test_retry_after_in_seconds_is_the_wait_before_the_next_attempt() -> None:
    # Given a vendor that rate-limits once, asking for 7 seconds
    transport = ScriptedTransport(json_response({}, 429, headers={"Retry-After": "7"}), json_response({}))
    sleep = SleepRecorder()
    client = make_client(transport, sleep)

    # When we call it
    client.request("GET", "/things")

    # Then we waited exactly what the vendor asked, then succeeded
    assert sleep.waits == [7.0]
    assert len(transport.requests) == 2


def test_retry_after_as_an_http_date_is_honoured() -> None:
    when = datetime.now(UTC) + timedelta(seconds=12)
    transport = ScriptedTransport(
        json_response({}, 429, headers={"Retry-After": format_datetime(when, usegmt=True)}), json_response({})
    )
    sleep = SleepRecorder()

    make_client(transport, sleep).request("GET", "/things")

    assert len(sleep.waits) == 1
    assert 9.0 <= sleep.waits[0] <= 12.0


def test_retry_after_is_capped_at_max_retry_after() -> None:
    transport = ScriptedTransport(json_response({}, 429, headers={"Retry-After": "3600"}), json_response({}))
    sleep = SleepRecorder()

    make_client(transport, sleep, max_retry_after=30.0).request("GET", "/things")

    assert sleep.waits == [30.0]


def test_a_429_that_never_clears_raises_with_the_retry_after_after_the_budget() -> None:
    transport = ScriptedTransport(json_response({"message": "slow down"}, 429, headers={"Retry-After": "2"}))
    sleep = SleepRecorder()

    with pytest.raises(RetryableVendorError) as caught:
        make_client(transport, sleep, max_attempts=2).request("GET", "/things")

    assert len(transport.requests) == 2
    assert sleep.waits == [2.0]
    assert caught.value.retry_after == 2.0
    assert caught.value.status_code == 429


def test_parse_retry_after_reads_seconds_and_dates_and_ignores_garbage() -> None:
    now = datetime(2025, 5, 22, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 22 May 2025 08:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 22 May 2025 07:00:00 GMT", now=now) == 0.0  # in the past: no wait
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_max_attempts_must_allow_at_least_one_request() -> None:
    with pytest.raises(ValueError):
        VendorHttpClient(vendor="acme", base_url=BASE_URL, max_attempts=0)


def test_every_vendor_error_shares_the_base_class_and_its_attributes() -> None:
    error = RetryableVendorError("acme", "busy", status_code=503, vendor_code="E1", retry_after=None)
    assert isinstance(error, VendorError)
    assert (error.vendor, error.status_code, error.vendor_code, error.message) == ("acme", 503, "E1", "busy")
    assert str(error) == "acme HTTP 503 [E1]: busy"


# --- call logs -----------------------------------------------------------------------------------


def test_every_attempt_is_logged_with_method_path_status_duration_and_attempt() -> None:
    # Given a vendor that fails once then succeeds
    transport = ScriptedTransport(json_response({}, 502), json_response({}))
    client = make_client(transport)

    # When we call it, capturing the logs
    with captured_logs() as stream:
        client.request("GET", "/orders", params={"order_id": "34862444"})

    # Then one line per attempt, in order, with the call's facts
    records = log_records(stream)
    calls = [record for record in records if record.get("vendor") == "acme" and "method" in record]
    assert [(c["method"], c["path"], c["status"], c["attempt"]) for c in calls] == [
        ("GET", "/api/orders", 502, 1),
        ("GET", "/api/orders", 200, 2),
    ]
    assert all(isinstance(c["duration_ms"], int | float) for c in calls)
    assert calls[0]["error"] == "RetryableVendorError"


def test_logs_never_carry_headers_tokens_query_values_or_bodies() -> None:
    # Given a call with a bearer token, a phone in the query and a customer in the body
    transport = ScriptedTransport(json_response({"customer_email": "jane@example.com"}, 400))
    client = VendorHttpClient(
        vendor="acme",
        base_url=BASE_URL,
        headers={"Authorization": "Bearer tok-SECRET-123", "X-API-KEY": "key-SECRET-456"},
        transport=transport,
        sleep=SleepRecorder(),
    )

    # When it is sent (and fails) with logs captured
    with captured_logs() as stream, pytest.raises(PermanentVendorError):
        client.request("POST", "/customers", params={"phone": "923001234567"}, json={"customer_name": "Jane Roe"})

    # Then the log has the call but none of the sensitive values
    output = stream.getvalue()
    assert '"path":"/api/customers"' in output.replace(" ", "")
    for secret in ("tok-SECRET-123", "key-SECRET-456", "923001234567", "Jane Roe", "jane@example.com"):
        assert secret not in output


# --- soft failures inside a 2xx ----------------------------------------------------------------------


def test_a_check_raising_a_retryable_soft_failure_is_retried_like_a_5xx() -> None:
    # Given a vendor that answers 200 with an error code in the body once, then succeeds
    transport = ScriptedTransport(json_response({"code": "503"}), json_response({"code": "200"}))
    sleep = SleepRecorder()

    def check(response: httpx.Response) -> None:
        if decode_json(response)["code"] != "200":
            raise RetryableVendorError("acme", "busy", status_code=response.status_code, vendor_code="503")

    # When the call is made with that check
    response = make_client(transport, sleep).request("POST", "/orders/details", data={"order_id": "1"}, check=check)

    # Then the soft failure was retried and the good answer returned
    assert decode_json(response) == {"code": "200"}
    assert len(transport.requests) == 2
    assert len(sleep.waits) == 1


def test_a_check_raising_a_permanent_soft_failure_is_not_retried_and_is_logged() -> None:
    transport = ScriptedTransport(json_response({"success": False, "msg": "bad branch"}))

    def check(response: httpx.Response) -> None:
        raise PermanentVendorError("acme", "bad branch", status_code=response.status_code)

    with captured_logs() as stream, pytest.raises(PermanentVendorError):
        make_client(transport).request("GET", "/things", check=check)

    assert len(transport.requests) == 1
    (record,) = [r for r in log_records(stream) if r.get("path") == "/api/things"]
    assert (record["status"], record["error"]) == (200, "PermanentVendorError")
