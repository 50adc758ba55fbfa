"""Fault injection, logs and reset (common to every sandbox), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.blink import BlinkSandbox, BlinkSettings
from orderbridge_local.sandboxes.dispatchninja import DispatchNinjaSandbox, DispatchNinjaSettings

KEY = {"X-API-KEY": "dispatchninja-sandbox-public-key"}
ADD = "/dn_api/1.1.0/orders/add"
DETAILS = "/dn_api/1.1.0/orders/details"
ORDER = {
    "client_name": "Test Store",
    "client_address": "145 Test st",
    "customer_name": "Test Customer",
    "customer_address": "150 Test st",
    "customer_phone": "777 777 7777",
}


@pytest.fixture
def ninja() -> Iterator[ServerHandle]:
    handle = DispatchNinjaSandbox(DispatchNinjaSettings(fault_timeout_seconds=0.3)).serve()
    try:
        yield handle
    finally:
        handle.stop()


def add(http: httpx.Client, handle: ServerHandle) -> httpx.Response:
    return http.post(f"{handle.url}{ADD}", data=ORDER, headers=KEY)


@pytest.mark.parametrize("status_code", [503, 500, 429])
def test_an_error_rate_of_one_answers_the_configured_status(
    ninja: ServerHandle, http: httpx.Client, status_code: int
) -> None:
    # Given every request fails with the configured status
    http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 1.0, "status_code": status_code}).raise_for_status()

    # When we add orders
    answers = [add(http, ninja) for _ in range(3)]

    # Then every answer is that status, in the vendor's error shape, and nothing was created
    assert [a.status_code for a in answers] == [status_code] * 3
    assert answers[0].json()["code"] == str(status_code)
    assert answers[0].headers["X-Sandbox-Fault"] == "error"
    assert http.get(f"{ninja.url}/_admin/orders").json() == []  # admin routes are never faulted
    log = http.get(f"{ninja.url}/_admin/requests").json()
    assert [(entry["status"], entry["fault"]) for entry in log] == [(status_code, "error")] * 3


def test_faults_can_be_limited_to_path_prefixes(ninja: ServerHandle, http: httpx.Client) -> None:
    order_id = add(http, ninja).json()["response"]["order_id"]
    http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 1.0, "paths": [ADD]}).raise_for_status()

    faulted = add(http, ninja)
    untouched = http.post(f"{ninja.url}{DETAILS}", data={"order_id": order_id}, headers=KEY)

    assert (faulted.status_code, untouched.status_code) == (503, 200)


def test_an_injected_429_can_carry_a_retry_after_header_on_the_paths_it_is_limited_to(
    ninja: ServerHandle, http: httpx.Client
) -> None:
    # Given faults answering 429 with "Retry-After: 45", limited to orders/add
    order_id = add(http, ninja).json()["response"]["order_id"]
    faults = {"error_rate": 1.0, "status_code": 429, "retry_after_seconds": 45, "paths": [ADD]}
    assert http.post(f"{ninja.url}/_admin/faults", json=faults).json()["retry_after_seconds"] == 45

    # When both routes are called
    faulted = add(http, ninja)
    untouched = http.post(f"{ninja.url}{DETAILS}", data={"order_id": order_id}, headers=KEY)

    # Then only the faulted answer is the 429 with the header; the other route answers as usual
    assert (faulted.status_code, faulted.headers.get("Retry-After")) == (429, "45")
    assert (untouched.status_code, untouched.headers.get("Retry-After")) == (200, None)


def test_an_injected_error_has_no_retry_after_unless_asked(ninja: ServerHandle, http: httpx.Client) -> None:
    http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 1.0, "status_code": 429}).raise_for_status()

    answer = add(http, ninja)

    assert answer.status_code == 429 and "Retry-After" not in answer.headers


def test_a_negative_retry_after_is_refused(ninja: ServerHandle, http: httpx.Client) -> None:
    answer = http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 1.0, "retry_after_seconds": -1})

    assert answer.status_code == 400
    assert http.get(f"{ninja.url}/_admin/faults").json()["retry_after_seconds"] is None


def test_a_partial_error_rate_is_deterministic_for_a_seed(ninja: ServerHandle, http: httpx.Client) -> None:
    def run() -> list[int]:
        http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 0.5}).raise_for_status()
        return [add(http, ninja).status_code for _ in range(20)]

    first = run()
    http.post(f"{ninja.url}/_admin/reset").raise_for_status()
    second = run()

    assert first == second
    assert {200, 503} == set(first)


def test_latency_delays_the_answer(ninja: ServerHandle, http: httpx.Client) -> None:
    http.post(f"{ninja.url}/_admin/faults", json={"latency_ms": 250}).raise_for_status()

    started = time.monotonic()
    answer = add(http, ninja)
    elapsed = time.monotonic() - started

    assert answer.status_code == 200
    assert elapsed >= 0.25


def test_timeout_holds_the_request_then_answers_504_without_processing(ninja: ServerHandle, http: httpx.Client) -> None:
    http.post(f"{ninja.url}/_admin/faults", json={"timeout": True}).raise_for_status()

    # A client with a shorter read timeout than the hold gives up
    with pytest.raises(httpx.ReadTimeout):
        http.post(f"{ninja.url}{ADD}", data=ORDER, headers=KEY, timeout=httpx.Timeout(5, read=0.1))
    # A patient one gets a 504 after the hold
    started = time.monotonic()
    patient = add(http, ninja)

    assert patient.status_code == 504 and time.monotonic() - started >= 0.3
    assert http.get(f"{ninja.url}/_admin/orders").json() == []


def test_a_lost_answer_processes_the_request_then_times_out(ninja: ServerHandle, http: httpx.Client) -> None:
    http.post(f"{ninja.url}/_admin/faults", json={"timeout": True, "process_before_timeout": True}).raise_for_status()

    answer = add(http, ninja)

    assert answer.status_code == 504
    assert len(http.get(f"{ninja.url}/_admin/orders").json()) == 1  # created although the answer was lost


def test_reset_clears_faults_logs_and_state(ninja: ServerHandle, http: httpx.Client) -> None:
    add(http, ninja).raise_for_status()
    http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 1.0}).raise_for_status()
    assert add(http, ninja).status_code == 503

    http.post(f"{ninja.url}/_admin/reset").raise_for_status()

    assert http.get(f"{ninja.url}/_admin/faults").json()["error_rate"] == 0
    assert http.get(f"{ninja.url}/_admin/requests").json() == []
    assert http.get(f"{ninja.url}/_admin/orders").json() == []
    again = add(http, ninja)
    assert again.status_code == 200 and again.json()["response"]["order_id"] == "1857"


def test_delete_faults_clears_them(ninja: ServerHandle, http: httpx.Client) -> None:
    http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 1.0}).raise_for_status()

    http.delete(f"{ninja.url}/_admin/faults").raise_for_status()

    assert add(http, ninja).status_code == 200


def test_invalid_faults_are_refused(ninja: ServerHandle, http: httpx.Client) -> None:
    answer = http.post(f"{ninja.url}/_admin/faults", json={"error_rate": 2})

    assert answer.status_code == 400


def test_dropped_webhooks_are_recorded_and_the_order_is_still_kept(receiver, http: httpx.Client) -> None:
    # Given Blink drops its webhooks
    settings = BlinkSettings(webhook_mode="sync", order_webhook_url=f"{receiver.url}/orders")
    handle = BlinkSandbox(settings).serve()
    try:
        http.post(f"{handle.url}/_admin/faults", json={"drop_webhooks": True}).raise_for_status()

        # When an order is placed
        placed = http.post(f"{handle.url}/_admin/place-order", json={}).json()
        log = http.get(f"{handle.url}/_admin/webhooks").json()
        token = handle.sandbox.issue_token()
        listed = http.get(
            f"{handle.url}/interface/v1/getOrderList",
            params={"order_id": 0},
            headers={"Authorization": f"Bearer {token}"},
        ).json()

        # And after a reset the webhooks flow again
        http.post(f"{handle.url}/_admin/reset").raise_for_status()
        http.post(f"{handle.url}/_admin/place-order", json={}).raise_for_status()
    finally:
        handle.stop()

    # Then the webhook was not sent but recorded as dropped, and the catch-up list still has the order
    assert placed["webhooks"][0]["status"] == "dropped"
    assert [(w["label"], w["status"]) for w in log] == [("order", "dropped")]
    assert [str(o["id"]) for o in listed["data"]] == [placed["order"]["blink_order_id"]]
    assert len(receiver.received) == 1


def test_webhooks_to_non_loopback_hosts_are_refused(http: httpx.Client) -> None:
    handle = BlinkSandbox(BlinkSettings(webhook_mode="sync", order_webhook_url="http://203.0.113.7/hook")).serve()
    try:
        placed = http.post(f"{handle.url}/_admin/place-order", json={}).json()
    finally:
        handle.stop()

    assert placed["webhooks"][0]["status"] == "refused"


def test_settings_can_be_changed_at_runtime(receiver, http: httpx.Client) -> None:
    handle = BlinkSandbox(BlinkSettings(webhook_mode="sync")).serve()
    try:
        before = http.post(f"{handle.url}/_admin/place-order", json={}).json()["webhooks"][0]["status"]
        http.post(
            f"{handle.url}/_admin/settings", json={"order_webhook_url": f"{receiver.url}/late"}
        ).raise_for_status()
        bad = http.post(f"{handle.url}/_admin/settings", json={"no_such_setting": 1})
        after = http.post(f"{handle.url}/_admin/place-order", json={}).json()["webhooks"][0]["status"]
    finally:
        handle.stop()

    assert (before, after, bad.status_code) == ("refused", 200, 400)
    assert receiver.wait_for(1)[0].path == "/late"


def test_serving_is_loopback_only() -> None:
    with pytest.raises(ValueError):
        DispatchNinjaSandbox().serve(host="0.0.0.0")


def test_named_outages_fail_only_the_requests_that_carry_their_strings_until_ended(
    ninja: ServerHandle, http: httpx.Client
) -> None:
    # Given two outages of orders/add, one for each of two customers' orders
    for name, customer in (("ana", "Ana"), ("rui", "Rui")):
        answer = http.post(
            f"{ninja.url}/_admin/outages", json={"id": name, "paths": [ADD], "contains": [customer], "status_code": 502}
        )
        assert answer.status_code == 201

    # When orders of Ana, Rui and someone else are added
    def add_for(customer: str) -> httpx.Response:
        return http.post(f"{ninja.url}{ADD}", data={**ORDER, "customer_name": customer}, headers=KEY)

    # Then only Ana's and Rui's fail, each named by its outage
    answers = {c: add_for(c) for c in ("Ana", "Rui", "Eva")}
    assert {c: a.status_code for c, a in answers.items()} == {"Ana": 502, "Rui": 502, "Eva": 200}
    assert answers["Ana"].headers["X-Sandbox-Fault"] == "outage:ana"
    assert sorted(o["id"] for o in http.get(f"{ninja.url}/_admin/outages").json()) == ["ana", "rui"]

    # And once Ana's outage ends her order goes through while Rui's still fails
    assert http.delete(f"{ninja.url}/_admin/outages/ana").json() == {"ended": True}
    assert (add_for("Ana").status_code, add_for("Rui").status_code) == (200, 502)


def test_an_outage_without_paths_is_refused(ninja: ServerHandle, http: httpx.Client) -> None:
    answer = http.post(f"{ninja.url}/_admin/outages", json={"id": "x", "paths": []})
    assert answer.status_code == 400


def test_a_request_held_by_latency_is_listed_in_flight_with_its_callers_port(
    ninja: ServerHandle, http: httpx.Client
) -> None:
    # Given a latency of 1.5 s on every vendor call
    http.post(f"{ninja.url}/_admin/faults", json={"latency_ms": 1500}).raise_for_status()
    held: list[httpx.Response] = []

    # When a caller's orders/add is held, and we look while it is
    with httpx.Client(timeout=10.0, trust_env=False) as caller:
        thread = threading.Thread(target=lambda: held.append(add(caller, ninja)))
        thread.start()
        deadline = time.monotonic() + 1.0
        in_flight: list[dict[str, str]] = []
        while not in_flight and time.monotonic() < deadline:
            in_flight = http.get(f"{ninja.url}/_admin/in_flight").json()
            time.sleep(0.05)
        thread.join(5.0)

    # Then it is listed with the caller's address and port, and no longer once answered
    assert [(entry["method"], entry["path"]) for entry in in_flight] == [("POST", ADD)]
    host, port = in_flight[0]["client"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert held[0].status_code == 200
    assert http.get(f"{ninja.url}/_admin/in_flight").json() == []
