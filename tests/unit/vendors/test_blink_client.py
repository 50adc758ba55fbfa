"""BlinkClient against the doc's samples: token auth, pagination, soft failures, Decimal, logs."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import jwt
import pytest
import respx
from orderbridge.config import VendorSettings
from orderbridge.models.blink import (
    BlinkBranchStockPrice,
    BlinkProductStockPrice,
    BlinkStockAndPriceSync,
    BlinkSubmitOrderRequest,
)
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.vendors.blink import TOKEN_FALLBACK_TTL_SECONDS, BlinkClient
from orderbridge.vendors.credentials import BlinkCredentials, MissingVendorCredentials, VendorCredentials
from orderbridge.vendors.http import (
    PermanentVendorError,
    RetryableVendorError,
    VendorAuthError,
    VendorOutcomeUnknown,
)

from . import samples
from .support import SleepRecorder, captured_logs, json_response

BASE_URL = "https://api.blinkco.io"
PASSWORD = "blink-PASSWORD-do-not-log"
CREDENTIALS = BlinkCredentials(username="paul-bakery", password=PASSWORD)
SIGNING_KEY = "test-only-signing-key-of-32-bytes!!"
NOW = 1_800_000_000.0


def make_token(*, exp: float | None, sub: str = "paul-bakery") -> str:
    claims: dict[str, object] = {"sub": sub}
    if exp is not None:
        claims["exp"] = int(exp)
    return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BlinkSandbox:
    """A respx router standing in for Blink, with a login route that hands out given tokens."""

    def __init__(self, *tokens: str) -> None:
        self.router = respx.Router(base_url=BASE_URL, assert_all_called=False)
        self.tokens = list(tokens) or [make_token(exp=NOW + 3600)]
        self.login = self.router.post("/interface/v1/login").mock(side_effect=self._login)
        self.sleep = SleepRecorder()
        self.clock = Clock()
        self._issued = 0

    def _login(self, request: httpx.Request) -> httpx.Response:
        token = self.tokens[min(self._issued, len(self.tokens) - 1)]
        self._issued += 1
        return json_response({"token_type": "Bearer", "access_token": token})

    def client(self) -> BlinkClient:
        return BlinkClient.create(
            VendorSettings(blink_base_url=BASE_URL),
            CREDENTIALS,
            transport=httpx.MockTransport(self.router.handler),
            sleep=self.sleep,
            clock=self.clock,
        )


def bearer(call: respx.models.Call) -> str | None:
    return call.request.headers.get("Authorization")


class Answers:
    """A route side effect that answers in turn and notes the Authorization header as sent.

    (The auth flow replays a refused request with a new header, as httpx auth flows do, so the
    header must be read when the request arrives, not from the recorded request afterwards.)
    """

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.bearers: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bearers.append(request.headers.get("Authorization"))
        return self.responses[min(len(self.bearers), len(self.responses)) - 1]


def sent_json(call: respx.models.Call) -> object:
    return json.loads(call.request.content, parse_float=Decimal)


def page_param(call: respx.models.Call) -> str | None:
    return call.request.url.params.get("page")


# --- authorization -----------------------------------------------------------------------------------


def test_login_posts_the_credentials_and_parses_the_doc_sample_answer() -> None:
    # Given Blink answering the doc's sample login response
    sandbox = BlinkSandbox()
    sandbox.login.mock(return_value=json_response(samples.BLINK_LOGIN_RESPONSE))

    # When we log in
    answer = sandbox.client().login()

    # Then the doc's request shape was sent and the token came back (as a secret)
    assert sent_json(sandbox.login.calls.last) == {"username": "paul-bakery", "password": PASSWORD}
    assert answer.token_type == "Bearer"
    assert answer.access_token.get_secret_value() == json.loads(samples.BLINK_LOGIN_RESPONSE)["access_token"]
    assert "eyJ0eXAi" not in repr(answer)


def test_the_token_is_fetched_once_and_reused_across_calls() -> None:
    # Given a token valid for an hour
    token = make_token(exp=NOW + 3600)
    sandbox = BlinkSandbox(token)
    branches = sandbox.router.get("/interface/v1/branches").mock(
        return_value=json_response(samples.BLINK_BRANCHES_RESPONSE)
    )
    client = sandbox.client()

    # When three calls are made
    for _ in range(3):
        client.branches()

    # Then one login served all three, each with the bearer token
    assert sandbox.login.call_count == 1
    assert branches.call_count == 3
    assert {bearer(call) for call in branches.calls} == {f"Bearer {token}"}


def test_an_explicit_login_primes_the_cache_for_the_next_call() -> None:
    sandbox = BlinkSandbox()
    branches = sandbox.router.get("/interface/v1/branches").mock(
        return_value=json_response(samples.BLINK_BRANCHES_RESPONSE)
    )
    client = sandbox.client()

    client.login()
    client.branches()

    assert sandbox.login.call_count == 1
    assert branches.call_count == 1


def test_the_token_is_renewed_once_it_is_within_a_minute_of_its_exp() -> None:
    # Given a first token expiring in an hour and a second one after it
    first, second = make_token(exp=NOW + 3600), make_token(exp=NOW + 7200, sub="again")
    sandbox = BlinkSandbox(first, second)
    branches = sandbox.router.get("/interface/v1/branches").mock(
        return_value=json_response(samples.BLINK_BRANCHES_RESPONSE)
    )
    client = sandbox.client()
    client.branches()

    # When time moves to 61 s before exp, the cached token is still used
    sandbox.clock.now = NOW + 3600 - 61
    client.branches()
    assert sandbox.login.call_count == 1

    # When it moves within the last minute, a new login happens before the call
    sandbox.clock.now = NOW + 3600 - 59
    client.branches()
    assert sandbox.login.call_count == 2
    assert bearer(branches.calls.last) == f"Bearer {second}"


def test_a_token_that_is_not_a_jwt_is_kept_for_the_fallback_ttl() -> None:
    # Given Blink handing out an opaque (non-JWT) token
    sandbox = BlinkSandbox("opaque-token-1", "opaque-token-2")
    branches = sandbox.router.get("/interface/v1/branches").mock(
        return_value=json_response(samples.BLINK_BRANCHES_RESPONSE)
    )
    client = sandbox.client()
    client.branches()

    # When calls are made just before and just after the fallback TTL
    sandbox.clock.now = NOW + TOKEN_FALLBACK_TTL_SECONDS - 1
    client.branches()
    logins_before_ttl = sandbox.login.call_count
    sandbox.clock.now = NOW + TOKEN_FALLBACK_TTL_SECONDS + 1
    client.branches()

    # Then the token was reused until the TTL, then renewed
    assert logins_before_ttl == 1
    assert sandbox.login.call_count == 2
    assert bearer(branches.calls.last) == "Bearer opaque-token-2"


def test_a_401_logs_in_again_exactly_once_and_replays_the_call_once() -> None:
    # Given a cached token that Blink then refuses once
    old, new = make_token(exp=NOW + 3600), make_token(exp=NOW + 3600, sub="renewed")
    sandbox = BlinkSandbox(old, new)
    answers = Answers(
        json_response(samples.BLINK_BRANCHES_RESPONSE),
        json_response({"msg": "Unauthenticated."}, 401),
        json_response(samples.BLINK_BRANCHES_RESPONSE),
    )
    branches = sandbox.router.get("/interface/v1/branches").mock(side_effect=answers)
    client = sandbox.client()
    client.branches()

    # When the next call meets the 401
    result = client.branches()

    # Then exactly one more login happened and the call was replayed once with the new token
    assert [branch.id for branch in result] == ["63", "64"]
    assert sandbox.login.call_count == 2
    assert branches.call_count == 3
    assert answers.bearers == [f"Bearer {old}", f"Bearer {old}", f"Bearer {new}"]
    assert sandbox.sleep.waits == []  # a refresh, not a retry
    # and the new token is cached for what follows
    client.branches()
    assert sandbox.login.call_count == 2


def test_a_second_401_raises_an_auth_error_without_further_attempts() -> None:
    # Given Blink refusing every token
    sandbox = BlinkSandbox()
    branches = sandbox.router.get("/interface/v1/branches").mock(
        return_value=json_response({"msg": "Unauthenticated.", "success": False}, 401)
    )

    # When a call is made
    with pytest.raises(VendorAuthError) as caught:
        sandbox.client().branches()

    # Then: login, call, login again, call again, and stop
    assert sandbox.login.call_count == 2
    assert branches.call_count == 2
    assert caught.value.status_code == 401
    assert caught.value.message == "Unauthenticated."
    assert sandbox.sleep.waits == []


def test_refused_credentials_raise_an_auth_error_and_no_api_call_is_made() -> None:
    sandbox = BlinkSandbox()
    sandbox.login.mock(return_value=json_response({"msg": "Invalid credentials", "success": False}, 401))
    branches = sandbox.router.get("/interface/v1/branches").mock(return_value=json_response({}))

    with pytest.raises(VendorAuthError) as caught:
        sandbox.client().branches()

    assert caught.value.message == "Invalid credentials"
    assert sandbox.login.call_count == 1
    assert branches.call_count == 0


def test_a_login_answered_200_with_success_false_is_an_auth_error() -> None:
    sandbox = BlinkSandbox()
    sandbox.login.mock(return_value=json_response({"msg": "Account disabled", "success": False, "error": None}))

    with pytest.raises(VendorAuthError) as caught:
        sandbox.client().login()

    assert caught.value.message == "Account disabled"


def test_a_5xx_is_retried_with_the_cached_token_and_no_new_login() -> None:
    sandbox = BlinkSandbox()
    branches = sandbox.router.get("/interface/v1/branches").mock(
        side_effect=[json_response({}, 503), json_response(samples.BLINK_BRANCHES_RESPONSE)]
    )

    sandbox.client().branches()

    assert branches.call_count == 2
    assert sandbox.login.call_count == 1
    assert len(sandbox.sleep.waits) == 1


def test_a_login_that_keeps_failing_with_5xx_stays_within_the_call_retry_budget() -> None:
    # Given Blink's login down (503) and max_attempts = 4
    sandbox = BlinkSandbox()
    sandbox.login.mock(return_value=json_response({}, 503))

    # When a call needs a token
    with pytest.raises(RetryableVendorError):
        sandbox.client().branches()

    # Then the login was tried once per attempt of the call: 4 in all, not 4 x 4
    assert sandbox.login.call_count == 4


def test_concurrent_calls_share_one_cached_token() -> None:
    # Given a client whose token is cached
    sandbox = BlinkSandbox()
    branches = sandbox.router.get("/interface/v1/branches").mock(
        return_value=json_response(samples.BLINK_BRANCHES_RESPONSE)
    )
    client = sandbox.client()
    client.login()

    # When 16 threads call at once
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.branches()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then all succeeded on the one token
    assert errors == []
    assert branches.call_count == 16
    assert sandbox.login.call_count == 1
    assert len({bearer(call) for call in branches.calls}) == 1


def test_credentials_and_tokens_never_reach_the_logs() -> None:
    # Given a flow with a login, a refused token and a re-login
    old, new = make_token(exp=NOW + 3600), make_token(exp=NOW + 3600, sub="renewed")
    sandbox = BlinkSandbox(old, new)
    sandbox.router.get("/interface/v1/customers").mock(
        side_effect=[json_response({"msg": "Unauthenticated."}, 401), json_response(samples.BLINK_CUSTOMERS_RESPONSE)]
    )

    # When it runs with logs captured
    with captured_logs() as stream:
        list(sandbox.client().customers(phone="923001234567"))

    # Then the calls are logged but no password, token or phone
    output = stream.getvalue()
    assert "vendor login" in output and "/interface/v1/customers" in output
    for secret in (PASSWORD, old, new, "923001234567", "+9233XXXXXXX"):
        assert secret not in output


# --- menu, stock and price -----------------------------------------------------------------------------


def menu_page(current: int, last: int, next_path: str | None, names: list[str]) -> httpx.Response:
    body = json.loads(samples.BLINK_FETCH_MENU_RESPONSE, parse_float=Decimal)
    template = body["data"][0]
    body.update(current_page=current, last_page=last, next_page_path=next_path)
    body["data"] = [{**template, "name": name} for name in names]
    return httpx.Response(200, json=json.loads(json.dumps(body, default=str)))


def test_fetch_menu_parses_the_doc_sample_with_exact_decimal_prices() -> None:
    sandbox = BlinkSandbox()
    sandbox.router.get("/interface/v1/fetchMenu").mock(return_value=json_response(samples.BLINK_FETCH_MENU_RESPONSE))

    page = sandbox.client().fetch_menu_page(2)

    assert (page.total_items, page.last_page, page.current_page, page.per_page) == (9, 5, 2, 2)
    sandwich, baguette = page.data
    assert sandwich.id == "" and sandwich.price == Decimal("7199.980") and str(sandwich.price) == "7199.980"
    assert sandwich.category[0].id == "126873" and sandwich.category[0].code is None
    assert sandwich.branches == [] and sandwich.modifiers == []
    modifier = baguette.modifiers[0]
    assert (modifier.id, modifier.is_required, modifier.min_multi_select_count, modifier.max_multi_select_count) == (
        "1531139",
        False,
        2,
        3,
    )
    assert [option.price for option in modifier.modifier_options] == [Decimal("20.000"), Decimal("15.000")]


def test_fetch_menu_walks_every_page_and_yields_every_item() -> None:
    # Given a menu of three pages whose links point at page numbers (one at another host)
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/fetchMenu").mock(
        side_effect=[
            menu_page(1, 3, f"{BASE_URL}/interface/v1/fetchMenu?page=2", ["a", "b"]),
            menu_page(2, 3, "https://elsewhere.example/interface/v1/fetchMenu?page=3", ["c", "d"]),
            menu_page(3, 3, None, ["e"]),
        ]
    )

    # When the menu is fetched
    names = [item.name for item in sandbox.client().fetch_menu()]

    # Then every item of every page came, pages asked in order, always from Blink's own base URL
    assert names == ["a", "b", "c", "d", "e"]
    assert [page_param(call) for call in route.calls] == ["1", "2", "3"]
    assert {call.request.url.host for call in route.calls} == {"api.blinkco.io"}


def test_fetch_menu_stops_at_the_last_page_even_if_a_next_link_is_left() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/fetchMenu").mock(
        side_effect=[menu_page(1, 2, "/x?page=2", ["a"]), menu_page(2, 2, "/x?page=3", ["b"])]
    )

    assert [item.name for item in sandbox.client().fetch_menu()] == ["a", "b"]
    assert route.call_count == 2


def test_a_paginator_pointing_back_to_a_page_already_read_is_refused() -> None:
    sandbox = BlinkSandbox()
    sandbox.router.get("/interface/v1/fetchMenu").mock(
        side_effect=[menu_page(1, 5, "/x?page=2", ["a"]), menu_page(2, 5, "/x?page=1", ["b"])]
    )

    with pytest.raises(PermanentVendorError, match="pagination"):
        list(sandbox.client().fetch_menu())


def test_sync_stock_and_price_sends_the_doc_sample_payload_with_exact_numbers() -> None:
    # Given the doc's sample built as our request model
    sandbox = BlinkSandbox()
    route = sandbox.router.post("/interface/v1/syncStockAndPrice").mock(
        return_value=json_response({"success": True, "msg": "Stock updated", "error": None})
    )
    sync = BlinkStockAndPriceSync(
        products=[
            BlinkProductStockPrice(
                id="97358ecc-06aa-4a8c-8249-6113261ac5a8",
                price=Decimal("94.72"),
                discount_price=Decimal("94.72"),
                branches=[
                    BlinkBranchStockPrice(
                        id="12345",
                        is_active=True,
                        price=Decimal("94.72"),
                        discount_price=Decimal("94.72"),
                        stock_quantity=1,
                    )
                ],
            )
        ]
    )

    # When it is sent
    ack = sandbox.client().sync_stock_and_price(sync)

    # Then the body equals the doc's sample, prices as exact JSON numbers
    assert sent_json(route.calls.last) == json.loads(samples.BLINK_STOCK_AND_PRICE_PAYLOAD, parse_float=Decimal)
    assert b'"price":94.72' in route.calls.last.request.content
    assert ack.success is True and ack.msg == "Stock updated"


def test_a_stock_sync_answered_with_success_false_is_a_permanent_error_not_retried() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.post("/interface/v1/syncStockAndPrice").mock(
        return_value=json_response({"success": False, "msg": "Product not found", "error": "id: 97358ecc"})
    )
    sync = BlinkStockAndPriceSync(products=[BlinkProductStockPrice(id="p-1", price=Decimal("1"), branches=[])])

    with pytest.raises(PermanentVendorError) as caught:
        sandbox.client().sync_stock_and_price(sync)

    assert caught.value.message == "Product not found: id: 97358ecc"
    assert caught.value.status_code == 200
    assert route.call_count == 1


# --- branches and customers ----------------------------------------------------------------------------


def test_branches_parse_the_doc_sample() -> None:
    sandbox = BlinkSandbox()
    sandbox.router.get("/interface/v1/branches").mock(return_value=json_response(samples.BLINK_BRANCHES_RESPONSE))

    branches = sandbox.client().branches()

    assert [(b.id, b.blink_id, b.branch, b.is_live, b.is_active) for b in branches] == [
        ("63", "60001", "Clifton-Block 4", True, True),
        ("64", "60002", "SMCHS-12", True, True),
    ]
    assert branches[1].branch_address == "Plot#212 Rae Avenue road"


def customers_page(current: int, last: int, next_url: str | None, names: list[str]) -> httpx.Response:
    body = json.loads(samples.BLINK_CUSTOMERS_RESPONSE)
    template = body["data"]["data"][0]
    body["data"].update(current_page=current, last_page=last, next_page_url=next_url)
    body["data"]["data"] = [{**template, "full_name": name} for name in names]
    return httpx.Response(200, json=body)


def test_customers_parse_the_doc_sample() -> None:
    sandbox = BlinkSandbox()
    sandbox.router.get("/interface/v1/customers").mock(return_value=json_response(samples.BLINK_CUSTOMERS_RESPONSE))

    (customer,) = list(sandbox.client().customers())

    assert customer.full_name == "John Doe"
    assert customer.date_of_birth.isoformat() == "1990-01-01"
    assert customer.created_at == datetime(2023, 1, 1, tzinfo=UTC)
    assert customer.wallet_balance == Decimal("23") and customer.loyalty_points == Decimal("100")
    assert customer.email == json.loads(samples.BLINK_CUSTOMERS_RESPONSE)["data"]["data"][0]["email"]


def test_customers_walk_next_page_url_and_keep_the_filters_on_every_page() -> None:
    # Given two pages, Laravel-style: the next link has only the page number
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/customers").mock(
        side_effect=[
            customers_page(1, 2, "URL/interface/v1/customers?page=2", ["Ann", "Bob"]),
            customers_page(2, 2, None, ["Cy"]),
        ]
    )
    since = datetime(2025, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5)))

    # When customers created since a date are listed
    names = [c.full_name for c in sandbox.client().customers(phone="923001234567", created_at=since)]

    # Then both pages were read, each with the filters (created_at in UTC)
    assert names == ["Ann", "Bob", "Cy"]
    for call, page in zip(route.calls, ["1", "2"], strict=True):
        params = call.request.url.params
        assert (params["page"], params["phone"], params["created_at"]) == (page, "923001234567", "2025-01-01 00:30:00")


def test_customers_refuse_a_naive_created_at() -> None:
    sandbox = BlinkSandbox()
    with pytest.raises(ValueError, match="timezone"):
        list(sandbox.client().customers(created_at=datetime(2025, 1, 1)))
    assert sandbox.login.call_count == 0


# --- orders --------------------------------------------------------------------------------------------


def test_submit_order_sends_the_doc_sample_and_returns_blinks_id() -> None:
    # Given the doc's sample payload as our request model, answered by the doc's 201
    sandbox = BlinkSandbox()
    route = sandbox.router.post("/interface/v1/submitOrder").mock(
        return_value=json_response(samples.BLINK_SUBMIT_ORDER_RESPONSE, 201)
    )
    order = BlinkSubmitOrderRequest.model_validate(json.loads(samples.BLINK_SUBMIT_ORDER_PAYLOAD, parse_float=Decimal))

    # When it is submitted
    submitted = sandbox.client().submit_order(order)

    # Then the wire body equals the sample (string money stays string, coordinates exact numbers)
    assert sent_json(route.calls.last) == json.loads(samples.BLINK_SUBMIT_ORDER_PAYLOAD, parse_float=Decimal)
    assert b'"total":"132"' in route.calls.last.request.content
    assert b'"latitude":24.918682' in route.calls.last.request.content
    assert (submitted.id, submitted.unique_code) == ("988278", "2349-JLMD3")


def test_a_submission_whose_answer_is_lost_is_not_sent_again() -> None:
    # Given submitOrder (no lookup by our reference) timing out after the request was sent
    sandbox = BlinkSandbox()
    route = sandbox.router.post("/interface/v1/submitOrder").mock(
        side_effect=[httpx.ReadTimeout("read timed out"), json_response(samples.BLINK_SUBMIT_ORDER_RESPONSE, 201)]
    )
    order = BlinkSubmitOrderRequest.model_validate(json.loads(samples.BLINK_SUBMIT_ORDER_PAYLOAD, parse_float=Decimal))

    # When it is submitted
    with pytest.raises(VendorOutcomeUnknown):
        sandbox.client().submit_order(order)

    # Then Blink got it once: a second order in Blink is worse than a person checking
    assert route.call_count == 1


def test_a_submission_refused_a_connection_is_sent_again() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.post("/interface/v1/submitOrder").mock(
        side_effect=[httpx.ConnectError("connection refused"), json_response(samples.BLINK_SUBMIT_ORDER_RESPONSE, 201)]
    )
    order = BlinkSubmitOrderRequest.model_validate(json.loads(samples.BLINK_SUBMIT_ORDER_PAYLOAD, parse_float=Decimal))

    assert sandbox.client().submit_order(order).id == "988278"
    assert route.call_count == 2


def test_a_delivery_order_without_an_address_is_refused_locally() -> None:
    payload = json.loads(samples.BLINK_SUBMIT_ORDER_PAYLOAD)
    del payload["delivery"]
    with pytest.raises(ValueError, match="delivery address"):
        BlinkSubmitOrderRequest.model_validate(payload)


def test_get_order_parses_the_doc_sample() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/getOrder").mock(
        return_value=json_response(samples.BLINK_GET_ORDER_RESPONSE, 201)
    )

    order = sandbox.client().get_order(988309, unique_code="1T4I-C7WC1")

    params = route.calls.last.request.url.params
    assert (params["order_id"], params["unique_code"]) == ("988309", "1T4I-C7WC1")
    assert (order.id, order.unique_code, order.status, order.order_status) == (
        "988309",
        "1T4I-C7WC1",
        "ACCEPTED",
        BlinkOrderStatus.ACCEPTED,
    )
    assert (order.subtotal, order.total, order.delivery_charges) == (Decimal(90), Decimal(132), Decimal(30))
    assert order.latitude == Decimal("24.918682") and order.delivery_eta == 45
    assert order.ordertime == datetime(2025, 5, 22, 8, 2, 10, tzinfo=UTC)
    assert order.promo_code == "" and order.promo_discount == Decimal(0) and order.reject_reason == ""
    (item,) = order.items
    assert (item.item_id, item.quantity, item.price, item.actual_price) == ("257327", 2, Decimal(90), Decimal(115))


def test_an_answer_off_the_documented_shape_is_a_permanent_error_that_echoes_no_values() -> None:
    sandbox = BlinkSandbox()
    broken = {"success": True, "data": {"customer_phone": "+923332222222", "items": []}}  # no id
    sandbox.router.get("/interface/v1/getOrder").mock(return_value=json_response(broken))

    with pytest.raises(PermanentVendorError) as caught:
        sandbox.client().get_order("1")

    assert "data.id" in caught.value.message
    assert "+923332222222" not in str(caught.value)


def order_list_page(current: int, has_more: bool, ids: list[int]) -> httpx.Response:
    body = json.loads(samples.BLINK_ORDER_LIST_RESPONSE)
    template = body["data"][0]
    body["data"] = [{**template, "id": order_id} for order_id in ids]
    body["pagination"].update(current_page=current, has_more=has_more)
    return httpx.Response(200, json=body)


def test_get_order_list_parses_the_doc_sample_with_exact_money() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/getOrderList").mock(
        side_effect=[json_response(samples.BLINK_ORDER_LIST_RESPONSE), order_list_page(2, False, [])]
    )

    orders = list(sandbox.client().get_order_list(34862444))

    (order,) = orders
    assert route.calls[0].request.url.params["order_id"] == "34862444"
    assert (order.id, order.status, order.order_status) == ("34862445", "REJECTED", BlinkOrderStatus.REJECTED)
    assert order.total == Decimal("53.11") and str(order.total) == "53.11"
    assert order.delivery_charges == Decimal(0)
    assert order.items[0].notes is None and order.items[0].details == "Chicken Bites 8 Pcs"


def test_get_order_list_walks_pages_while_has_more() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/getOrderList").mock(
        side_effect=[
            order_list_page(1, True, [101, 102]),
            order_list_page(2, True, [103]),
            order_list_page(3, False, [104]),
        ]
    )

    ids = [order.id for order in sandbox.client().get_order_list("100")]

    assert ids == ["101", "102", "103", "104"]
    assert [page_param(call) for call in route.calls] == ["1", "2", "3"]
    assert {call.request.url.params["order_id"] for call in route.calls} == {"100"}


def carts_page(current: int, has_more: bool) -> httpx.Response:
    body = json.loads(samples.BLINK_ABANDONED_CARTS_RESPONSE)
    body["pagination"].update(current_page=current, has_more=has_more)
    body["data"]["current_page"] = current
    return httpx.Response(200, json=body)


def test_get_abandoned_carts_parses_the_doc_sample() -> None:
    sandbox = BlinkSandbox()
    sandbox.router.get("/interface/v1/getAbandonedCarts").mock(side_effect=[carts_page(1, False)])

    (cart,) = list(
        sandbox.client().get_abandoned_carts(datetime(2026, 2, 9, 0, 0, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC))
    )

    assert cart.order_id is None and cart.branch_id is None
    assert cart.customer.name == "Test User" and cart.customer.latitude is None
    assert cart.notification.status == "SENT"
    assert cart.notification.sent_at == datetime(2026, 2, 9, 8, 34, 4, tzinfo=UTC)
    assert cart.cart_value == Decimal(744)
    (item,) = cart.cart_items
    assert (item.dish_id, item.quantity, item.unit_price, item.total_price) == (
        "722688",
        1,
        Decimal("142.000"),
        Decimal("344.0"),
    )
    assert item.selected_suboption_ids == []
    assert [option.name for option in item.options] == ["Variation", "Sauce"]
    assert item.options[1].suboptions[0].actual_price == Decimal("200.000")


def test_get_abandoned_carts_sends_the_range_in_utc_minutes_and_walks_pages() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/getAbandonedCarts").mock(
        side_effect=[carts_page(1, True), carts_page(2, False)]
    )
    karachi = timezone(timedelta(hours=5))

    carts = list(
        sandbox.client().get_abandoned_carts(
            datetime(2026, 2, 9, 13, 0, 59, tzinfo=karachi), datetime(2026, 2, 9, 15, 30, tzinfo=karachi)
        )
    )

    assert len(carts) == 2
    for call, page in zip(route.calls, ["1", "2"], strict=True):
        params = call.request.url.params
        assert (params["start_date"], params["end_date"], params["page"]) == (
            "2026-02-09 08:00",
            "2026-02-09 10:30",
            page,
        )


def test_get_abandoned_carts_refuses_naive_or_reversed_ranges_before_calling() -> None:
    sandbox = BlinkSandbox()
    client = sandbox.client()
    with pytest.raises(ValueError):
        list(client.get_abandoned_carts(datetime(2026, 2, 9), datetime(2026, 2, 10)))
    with pytest.raises(ValueError):
        list(client.get_abandoned_carts(datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 2, 9, tzinfo=UTC)))
    assert sandbox.login.call_count == 0


def test_sync_order_status_sends_the_doc_samples_for_accept_and_reject() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.post("/interface/v1/syncOrderStatus").mock(
        return_value=json_response({"success": True, "msg": "Status updated"})
    )
    client = sandbox.client()

    client.sync_order_status("123456", BlinkOrderStatus.ACCEPTED)
    client.sync_order_status(123456, 4, comment="Delivery area is too far")

    assert sent_json(route.calls[0]) == json.loads(samples.BLINK_ACCEPT_ORDER_PAYLOAD)
    assert sent_json(route.calls[1]) == json.loads(samples.BLINK_REJECT_ORDER_PAYLOAD)


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_rejecting_without_a_comment_is_refused_before_any_request(comment) -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.post("/interface/v1/syncOrderStatus").mock(return_value=json_response({"success": True}))

    with pytest.raises(ValueError, match="comment"):
        sandbox.client().sync_order_status("123456", BlinkOrderStatus.REJECTED, comment=comment)

    assert route.call_count == 0
    assert sandbox.login.call_count == 0


def test_an_unknown_status_is_refused_before_any_request() -> None:
    sandbox = BlinkSandbox()
    with pytest.raises(ValueError):
        sandbox.client().sync_order_status("123456", 5)
    assert sandbox.login.call_count == 0


# --- construction ----------------------------------------------------------------------------------------


def test_create_takes_the_merchants_vendor_credentials_and_requires_a_blink_section() -> None:
    sandbox = BlinkSandbox()
    sandbox.router.get("/interface/v1/branches").mock(return_value=json_response(samples.BLINK_BRANCHES_RESPONSE))
    settings = VendorSettings(blink_base_url=BASE_URL)

    client = BlinkClient.create(
        settings,
        VendorCredentials(merchant_id="m-1", blink=CREDENTIALS),
        transport=httpx.MockTransport(sandbox.router.handler),
    )
    assert len(client.branches()) == 2
    assert sent_json(sandbox.login.calls.last) == {"username": "paul-bakery", "password": PASSWORD}

    with pytest.raises(MissingVendorCredentials, match="m-1"):
        BlinkClient.create(settings, VendorCredentials(merchant_id="m-1"))


def test_create_applies_the_settings_timeouts() -> None:
    sandbox = BlinkSandbox()
    route = sandbox.router.get("/interface/v1/branches").mock(
        return_value=json_response(samples.BLINK_BRANCHES_RESPONSE)
    )
    settings = VendorSettings(blink_base_url=BASE_URL, connect_timeout_seconds=1.25, read_timeout_seconds=4.5)

    BlinkClient.create(settings, CREDENTIALS, transport=httpx.MockTransport(sandbox.router.handler)).branches()

    timeout = route.calls.last.request.extensions["timeout"]
    assert (timeout["connect"], timeout["read"]) == (1.25, 4.5)


def test_the_clock_defaults_to_real_time() -> None:
    # A token whose exp is in the past by real time is not cached: each call logs in again.
    sandbox = BlinkSandbox(make_token(exp=time.time() - 10))
    sandbox.router.get("/interface/v1/branches").mock(return_value=json_response(samples.BLINK_BRANCHES_RESPONSE))
    client = BlinkClient.create(
        VendorSettings(blink_base_url=BASE_URL), CREDENTIALS, transport=httpx.MockTransport(sandbox.router.handler)
    )

    client.branches()
    client.branches()

    assert sandbox.login.call_count == 2
