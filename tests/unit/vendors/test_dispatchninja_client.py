"""DispatchNinjaClient against the doc's samples: form encoding, X-API-KEY, answer codes, Decimal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from orderbridge.config import VendorSettings
from orderbridge.models.dispatchninja import DispatchNinjaAddOrderRequest, DispatchNinjaOrderDetails
from orderbridge.vendors.credentials import DispatchNinjaCredentials, MissingVendorCredentials, VendorCredentials
from orderbridge.vendors.dispatchninja import DispatchNinjaClient
from orderbridge.vendors.http import (
    PermanentVendorError,
    RetryableVendorError,
    VendorAuthError,
    VendorNotFound,
    VendorOutcomeUnknown,
)

from . import samples
from .support import SleepRecorder, captured_logs, json_response

BASE_URL = "https://dev.dispatchninja.com/dn_api/1.1.0"
API_KEY = "ninja-KEY-do-not-log"
ORDER = DispatchNinjaAddOrderRequest(
    client_name="Test Store",
    client_address="145 Test st",
    customer_name="Test Customer",
    customer_address="150 Test st",
    customer_email="test@test.com",
    customer_phone="777 777 7777",
    comments="This is a test order",
)


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(router: respx.Router, sleep: SleepRecorder) -> DispatchNinjaClient:
    return DispatchNinjaClient.create(
        VendorSettings(dispatchninja_base_url=BASE_URL),
        DispatchNinjaCredentials(api_key=API_KEY),
        transport=httpx.MockTransport(router.handler),
        sleep=sleep,
    )


def details_answer(**changes: object) -> httpx.Response:
    body = json.loads(samples.NINJA_ORDER_DETAILS_RESPONSE)
    body["response"].update(changes)
    return httpx.Response(200, json=body)


def form(route: respx.Route) -> dict[str, list[str]]:
    return parse_qs(route.calls.last.request.content.decode())


# --- orders/add -----------------------------------------------------------------------------------------


def test_add_order_posts_a_url_encoded_form_with_the_api_key(router, client) -> None:
    # Given DispatchNINJA answering the doc's sample
    route = router.post("/orders/add").mock(return_value=json_response(samples.NINJA_ADD_ORDER_RESPONSE))

    # When an order is added
    result = client.add_order(ORDER)

    # Then it went to <base>/orders/add as a form, with X-API-KEY
    request = route.calls.last.request
    assert str(request.url) == "https://dev.dispatchninja.com/dn_api/1.1.0/orders/add"
    assert request.headers["X-API-KEY"] == API_KEY
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(route) == {
        "client_name": ["Test Store"],
        "client_address": ["145 Test st"],
        "customer_name": ["Test Customer"],
        "customer_address": ["150 Test st"],
        "customer_email": ["test@test.com"],
        "customer_phone": ["777 777 7777"],
        "comments": ["This is a test order"],
    }
    # and the answer gives the id to poll with
    assert (result.order_id, result.order_count) == ("1857", 4)
    assert result.message.startswith("Order Successfully Added")


def test_optional_fields_left_unset_are_not_sent(router, client) -> None:
    route = router.post("/orders/add").mock(return_value=json_response(samples.NINJA_ADD_ORDER_RESPONSE))

    client.add_order(ORDER.model_copy(update={"customer_email": None, "comments": None}))

    assert set(form(route)) == {"client_name", "client_address", "customer_name", "customer_address", "customer_phone"}


def test_a_trailing_slash_in_the_base_url_does_not_change_the_path(router) -> None:
    route = router.post("/orders/add").mock(return_value=json_response(samples.NINJA_ADD_ORDER_RESPONSE))
    client = DispatchNinjaClient.create(
        VendorSettings(dispatchninja_base_url=BASE_URL + "/"),
        DispatchNinjaCredentials(api_key=API_KEY),
        transport=httpx.MockTransport(router.handler),
    )

    client.add_order(ORDER)

    assert route.calls.last.request.url.path == "/dn_api/1.1.0/orders/add"


# --- orders/details ---------------------------------------------------------------------------------------


def test_order_details_posts_the_order_id_as_a_form(router, client) -> None:
    route = router.post("/orders/details").mock(return_value=json_response(samples.NINJA_ORDER_DETAILS_RESPONSE))

    client.order_details(1857)

    assert form(route) == {"order_id": ["1857"]}
    assert route.calls.last.request.headers["X-API-KEY"] == API_KEY


def test_order_details_model_every_field_of_the_doc_sample() -> None:
    documented = set(json.loads(samples.NINJA_ORDER_DETAILS_RESPONSE)["response"])
    assert documented <= set(DispatchNinjaOrderDetails.model_fields)


def test_order_details_parse_the_doc_sample_with_exact_decimals_and_utc_times(router, client) -> None:
    router.post("/orders/details").mock(return_value=json_response(samples.NINJA_ORDER_DETAILS_RESPONSE))

    details = client.order_details("1857")

    # ids, times, flags
    assert (details.id, details.created_by, details.location, details.order_number) == ("1857", "192", "21", "4")
    assert details.created == datetime(2021, 4, 23, 15, 12, 44, tzinfo=UTC)
    assert details.modified == datetime(2021, 4, 23, 15, 12, 45, tzinfo=UTC)
    assert (details.trash, details.paid, details.opened) == (False, False, True)
    assert (details.status_id, details.status) == (1, "Pending")
    # money and coordinates: Decimal with the vendor's digits
    assert (details.tip, details.price, details.grand_total) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert str(details.tip) == "0.00" and details.delivery_fee == Decimal(0)
    assert str(details.client_latitude) == "43.1722028" and str(details.client_longitude) == "-79.2522345"
    assert str(details.customer_latitude) == "42.1315155" and str(details.customer_longitude) == "-80.090805"
    assert isinstance(details.customer_latitude, Decimal)
    # nulls stay None
    assert details.canceled is None and details.completed is None and details.driver is None
    assert details.surcharge is None and details.loss_amount is None and details.pre_auth_code is None
    # texts
    assert (details.delivery_time_type, details.delivery_time) == ("asap", "asap")
    assert details.estimated_distance == "211 km" and details.tracking_hash == "ere2u7evedypada2u9u3era6ezuhu6ur"
    assert details.pool_id == "177647"
    # and the status helpers
    assert details.is_completed is False and details.is_canceled is False


def test_a_completed_delivery_is_completed(router, client) -> None:
    router.post("/orders/details").mock(
        return_value=details_answer(completed="2021-04-23 17:25:02", completed_by="7", status="Completed")
    )

    details = client.order_details("1857")

    assert details.is_completed is True and details.is_canceled is False
    assert details.completed == datetime(2021, 4, 23, 17, 25, 2, tzinfo=UTC)


def test_a_canceled_delivery_is_canceled(router, client) -> None:
    router.post("/orders/details").mock(
        return_value=details_answer(canceled="2021-04-23 16:00:00", cancelled_reason="Customer unreachable")
    )

    details = client.order_details("1857")

    assert details.is_canceled is True and details.is_completed is False
    assert details.cancelled_reason == "Customer unreachable"


def test_mysql_zero_dates_and_blanks_read_as_unset(router, client) -> None:
    router.post("/orders/details").mock(
        return_value=details_answer(completed="0000-00-00 00:00:00", canceled="", tip="", customer_latitude="")
    )

    details = client.order_details("1857")

    assert details.completed is None and details.canceled is None
    assert details.is_completed is False and details.is_canceled is False
    assert details.tip is None and details.customer_latitude is None


def test_order_details_needs_an_order_id(router, client) -> None:
    with pytest.raises(ValueError):
        client.order_details(" ")
    assert router.calls.call_count == 0


# --- answer codes (soft failures) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error_type"),
    [("401", VendorAuthError), (403, VendorAuthError), ("404", VendorNotFound), ("400", PermanentVendorError)],
)
def test_a_non_200_code_inside_an_http_200_is_a_permanent_failure_sent_once(
    router, client, sleep, code, error_type
) -> None:
    # Given DispatchNINJA answering HTTP 200 with a failure code
    route = router.post("/orders/details").mock(
        return_value=json_response({"code": code, "status": f"{code} failed", "response": {"message": "Nope"}})
    )

    # When the order is queried
    with pytest.raises(error_type) as caught:
        client.order_details("1857")

    # Then the failure carries DispatchNINJA's words and code, and was not retried
    assert caught.value.status_code == 200
    assert caught.value.vendor_code == str(code)
    assert caught.value.message == f"{code} failed: Nope"
    assert route.call_count == 1
    assert sleep.waits == []


@pytest.mark.parametrize("code", [503, "429"])
def test_a_not_acted_code_inside_an_http_200_is_retried_then_raised(router, client, sleep, code) -> None:
    route = router.post("/orders/add").mock(return_value=json_response({"code": code, "status": "server error"}))

    with pytest.raises(RetryableVendorError) as caught:
        client.add_order(ORDER)

    assert route.call_count == 4  # the settings' max_attempts
    assert len(sleep.waits) == 3
    assert caught.value.vendor_code == str(code)


@pytest.mark.parametrize(
    "answer",
    [
        json_response({"code": "500", "status": "server error"}),
        httpx.Response(502),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["code 500 in a 200", "HTTP 502", "timeout after sending", "dropped connection"],
)
def test_an_add_order_that_may_have_reached_dispatchninja_is_never_sent_again(router, client, sleep, answer) -> None:
    # Given orders/add, which DispatchNINJA offers no lookup for, failing after it was sent
    route = router.post("/orders/add").mock(side_effect=[answer, json_response(samples.NINJA_ADD_ORDER_RESPONSE)])

    # When it is called
    with pytest.raises(VendorOutcomeUnknown) as caught:
        client.add_order(ORDER)

    # Then it was sent once, and the doubt is raised as such (not retryable)
    assert route.call_count == 1
    assert sleep.waits == []
    assert not caught.value.retryable
    assert "outcome is unknown" in caught.value.message


def test_an_add_order_that_never_reached_dispatchninja_is_retried(router, client, sleep) -> None:
    # Given orders/add refused a connection once (nothing reached DispatchNINJA)
    route = router.post("/orders/add").mock(
        side_effect=[httpx.ConnectError("connection refused"), json_response(samples.NINJA_ADD_ORDER_RESPONSE)]
    )

    # Then it is sent again, and the delivery is created once
    assert client.add_order(ORDER).order_id == "1857"
    assert route.call_count == 2


def test_a_5xx_like_code_that_clears_returns_the_good_answer(router, client) -> None:
    route = router.post("/orders/add").mock(
        side_effect=[
            json_response({"code": "503", "status": "503 unavailable"}),
            json_response(samples.NINJA_ADD_ORDER_RESPONSE),
        ]
    )

    assert client.add_order(ORDER).order_id == "1857"
    assert route.call_count == 2


def test_an_answer_without_a_code_is_a_permanent_failure(router, client) -> None:
    router.post("/orders/details").mock(return_value=json_response({"response": {}}))

    with pytest.raises(PermanentVendorError, match="code"):
        client.order_details("1857")


def test_an_http_error_status_is_mapped_with_dispatchninjas_words(router, client) -> None:
    router.post("/orders/add").mock(
        return_value=json_response({"code": "401", "status": "401 Unauthorized - invalid API key"}, 401)
    )

    with pytest.raises(VendorAuthError) as caught:
        client.add_order(ORDER)

    assert caught.value.message == "401 Unauthorized - invalid API key"
    assert caught.value.status_code == 401


def test_a_timeout_is_retryable_and_retried(router, client, sleep) -> None:
    route = router.post("/orders/details").mock(
        side_effect=[httpx.ReadTimeout("slow"), json_response(samples.NINJA_ORDER_DETAILS_RESPONSE)]
    )

    assert client.order_details("1857").id == "1857"
    assert route.call_count == 2
    assert len(sleep.waits) == 1


# --- secrets, construction --------------------------------------------------------------------------------


def test_the_api_key_and_the_customer_never_reach_the_logs(router, client) -> None:
    router.post("/orders/add").mock(return_value=json_response(samples.NINJA_ADD_ORDER_RESPONSE))
    router.post("/orders/details").mock(return_value=json_response(samples.NINJA_ORDER_DETAILS_RESPONSE))

    with captured_logs() as stream:
        client.add_order(ORDER)
        client.order_details("1857")

    output = stream.getvalue()
    assert "/dn_api/1.1.0/orders/add" in output and "/dn_api/1.1.0/orders/details" in output
    for secret in (API_KEY, "777 777 7777", "test@test.com", "150 Test st", "Test Customer"):
        assert secret not in output


def test_create_reads_the_key_from_the_merchants_vendor_credentials(router) -> None:
    route = router.post("/orders/details").mock(return_value=json_response(samples.NINJA_ORDER_DETAILS_RESPONSE))
    settings = VendorSettings(dispatchninja_base_url=BASE_URL)
    credentials = VendorCredentials(merchant_id="m-1", dispatchninja=DispatchNinjaCredentials(api_key="key-m-1"))

    DispatchNinjaClient.create(settings, credentials, transport=httpx.MockTransport(router.handler)).order_details(1)

    assert route.calls.last.request.headers["X-API-KEY"] == "key-m-1"
    with pytest.raises(MissingVendorCredentials, match="dispatchninja"):
        DispatchNinjaClient.create(settings, VendorCredentials(merchant_id="m-1"))
