"""Issue 11 point 4: the ops console as a person uses it, in a real headless Chromium on the local
stack — sign in, find a failed order by its Blink id, resume it and watch it reach delivered; map
an unmapped item in place and retry; edit a branch. ``CONSOLE_SCREENSHOTS=1`` saves the screens."""

from __future__ import annotations

import os
import re
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DESKTOP, PHONE, missing, screenshot

try:
    from playwright.sync_api import Page, expect
except ImportError:  # no playwright package: skipped with the reason (conftest), failed in CI
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip(f"BROWSER TESTS SKIPPED: {missing()}", allow_module_level=True)
from tests.e2e.flow import CUSTOMER, HOME_BRANCH, Flow, new_blink_order_id

SYNC_STATUS = "/interface/v1/syncOrderStatus"
SLOW = 120_000  # ms: a workflow step on a loaded emulator


def console_url(stack: dict[str, Any]) -> str:
    return (stack.get("console") or {}).get("url") or f"{stack['api']}/console/"


def sign_in(page: Page, stack: dict[str, Any]) -> None:
    """As the dev user (stack.json's ``console``) when the stack has a user pool, else with the
    ops API key."""
    page.goto(console_url(stack))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    user = stack.get("console") or {}
    if user.get("username") and page.get_by_label("User name").count():
        page.get_by_label("User name").fill(user["username"])
        page.get_by_label("Password").fill(user["password"])
        page.get_by_role("button", name="Sign in", exact=True).click()
    else:
        page.get_by_label("Ops API key").fill(stack["ops_api_key"])
        page.get_by_role("button", name="Sign in with the key").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def ops(http: httpx.Client, stack: dict[str, Any], method: str, path: str, **kw: Any) -> httpx.Response:
    return http.request(method, f"{stack['api']}/ops{path}", headers={"X-Api-Key": stack["ops_api_key"]}, **kw)


def state_of(page: Page) -> Any:
    return page.locator("h1 [data-state]")


def test_a_failed_order_found_by_its_blink_id_is_resumed_and_reaches_delivered(page: Page, stack, flow: Flow):
    # Given a home delivery whose acceptance Blink refused until the workflow gave up (failed)
    customer = f"Dn{new_blink_order_id()}"  # one word: DispatchNINJA's form body carries it as it is
    placed = flow.place(
        branch_id=HOME_BRANCH, blink_branch_id="60001", type="DELIVERY", **{**CUSTOMER, "customer_name": customer}
    )
    outage = f"browser-accept-{placed.order_id}"
    flow.outage("blink", outage, [SYNC_STATUS], f'"blink_order_id":"{placed.blink_order_id}"', '"status":1')
    try:
        flow.wait_order(placed, lambda o: o["state"] == "failed", "failed at accept", timeout=120)
    finally:
        flow.end_outage("blink", outage)
    flow.wait_execution_end(placed)

    # When a person signs in and searches its Blink id
    sign_in(page, stack)
    page.get_by_label("Search any id").fill(placed.blink_order_id)
    page.get_by_role("button", name="Apply").click()
    row = page.locator(f'tr[data-order="{placed.order_id}"]')
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "failed")
    expect(page.locator("tr[data-order]")).to_have_count(1)
    # and opens it: the failure says where and why, and Resume is offered
    row.click()
    expect(state_of(page)).to_have_attribute("data-state", "failed")
    expect(page.locator("[data-test=failure]")).to_contain_text(re.compile("blink", re.IGNORECASE))
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#notice")).to_contain_text("Resume: done")

    # Then the order moves on by itself (the page polls) while DispatchNINJA carries it
    expect(state_of(page)).to_have_attribute("data-state", "in_progress", timeout=SLOW)
    order = flow.wait_order(placed, lambda o: o["order"].get("dispatchninja_order_id"), "a DispatchNINJA order", 60)
    courier = order["order"]["dispatchninja_order_id"]
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{courier}/advance", json={"to": "Picked Up"})
    expect(page.locator('[data-track="status"]')).to_have_text("dispatched", timeout=SLOW)
    flow.admin("dispatchninja", "POST", f"/_admin/orders/{courier}/advance", json={"to": "Completed"})
    # and reaches delivered, its timeline holding every vendor's part with the raw exchanges
    expect(state_of(page)).to_have_attribute("data-state", "delivered", timeout=SLOW)
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)
    timeline = page.get_by_role("list", name="Timeline")
    for kind in ("order_received", "workflow"):
        expect(timeline.locator(f'li[data-kind="{kind}"]').first).to_be_visible()
    timeline.locator('li[data-kind="order_received"]').get_by_role("button", name="raw").click()
    expect(page.locator("pre[data-test=raw]").first).to_contain_text(placed.blink_order_id)
    screenshot(page, "order")

    # and the day's list shows it delivered, counted with the others
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator(f'tr[data-order="{placed.order_id}"] [data-state]')).to_have_attribute(
        "data-state", "delivered"
    )
    expect(page.locator('[data-count="delivered"] b')).not_to_have_text("0")
    # and on a phone-sized screen too, nothing off its side
    page.set_viewport_size(PHONE)
    expect(page.locator(f'tr[data-order="{placed.order_id}"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)


def test_an_unmapped_item_is_mapped_in_place_then_the_order_is_retried(page: Page, stack, flow: Flow, http):
    # Given a partner order with an item nobody mapped: it needs attention
    item = f"new-{new_blink_order_id()}"
    line = {"id": item, "quantity": 1, "price": 25, "note": "", "options": []}
    placed = flow.partner_order(payload={"items": [line]})
    flow.wait_order(placed, lambda o: o["state"] == "needs_attention", "needs attention", timeout=60)

    # When a person opens Needs attention, maps the item there and retries
    sign_in(page, stack)
    page.get_by_role("link", name="Needs attention").click()
    card = page.locator(f'form[aria-label="Map the items of {placed.order_id}"]')
    expect(card.locator(f'[data-unmapped="item:{item}"]')).to_be_visible(timeout=SLOW)
    card.get_by_label("Our product id").fill("prod-burger")
    card.get_by_label("Blink item id").fill("257327")
    card.get_by_label("Name", exact=True).fill("Burger (new id)")
    screenshot(page, "needs-attention")
    card.get_by_role("button", name="Save mappings and retry").click()
    expect(page.locator("#notice")).to_contain_text("retried")

    # Then the mapping is in the configuration (through the config API) and the order goes to Blink
    mapping = ops(http, stack, "GET", f"/config/mappings/demo-partner:m-demo:item:{item}")
    assert mapping.status_code == 200, mapping.text
    assert (mapping.json()["product_id"], mapping.json()["blink_id"]) == ("prod-burger", "257327")
    order = flow.wait_order(placed, lambda o: o["order"].get("blink_order_id"), "the order in Blink", timeout=90)
    assert order["state"] not in ("needs_attention", "failed"), order["failure"]
    expect(page.locator(f'form[aria-label="Map the items of {placed.order_id}"]')).to_have_count(0, timeout=SLOW)


def test_a_branch_is_edited_and_the_change_is_audited(page: Page, stack, http):
    # Given branch 63 as configured
    before = ops(http, stack, "GET", "/config/branches/63")
    assert before.status_code == 200, before.text
    address = f"Rua Nova {new_blink_order_id()}, Lisboa"
    try:
        # When a person signs in (the day's orders: the other tests' ones) and edits the branch's
        # address on the Configuration screen
        sign_in(page, stack)
        expect(page.get_by_text("Live · updated")).to_be_visible()
        expect(page.locator("[data-count]")).to_have_count(9)
        screenshot(page, "orders")
        page.set_viewport_size(PHONE)
        screenshot(page, "orders-phone")
        page.set_viewport_size(DESKTOP)
        page.get_by_role("link", name="Configuration").click()
        row = page.locator('tr[data-record="63"]')
        expect(row).to_be_visible()
        screenshot(page, "configuration")
        row.get_by_role("link", name="Edit").click()
        form = page.get_by_role("form", name="Edit branches")
        expect(form.get_by_label("branch_id")).to_have_value("63")
        form.get_by_label("address", exact=True).fill(address)
        form.get_by_role("button", name="Save").click()
        expect(page.locator("#notice")).to_contain_text("Saved branch 63: address changed")

        # Then the configuration holds it, the other fields as they were
        after = ops(http, stack, "GET", "/config/branches/63").json()
        assert after == {**before.json(), "address": address}
        # and the audit trail says who changed what
        page.get_by_role("link", name="Audit trail").click()
        audited = page.get_by_role("table", name="Audit trail").locator("tr", has_text=address).first
        expect(audited).to_contain_text("branches")
    finally:
        restored = ops(http, stack, "PUT", "/config/branches/63", json=before.json())
        assert restored.status_code == 200, restored.text


def test_an_order_waiting_for_its_drop_off_is_cancelled_with_a_reason(page: Page, stack, flow: Flow):
    # Given a locker delivery waiting for the courier to drop it off
    placed = flow.place()
    order = flow.wait_courier_task(placed)
    flow.advance_task(order["order"]["blink_logistics_task_id"], to=26)  # TASK_STARTED
    flow.wait_order(placed, lambda o: o["step"] == "dropoff", "waiting for the drop-off", timeout=60)
    reason = "Customer called: ordered twice"

    # When a person opens it and cancels it, giving the reason the console asks for
    sign_in(page, stack)
    page.goto(f"{console_url(stack)}#/orders/{placed.order_id}")
    expect(state_of(page)).to_have_attribute("data-state", "in_progress")
    page.get_by_role("button", name="Cancel order").click()
    page.get_by_label("Why is it cancelled?").fill(reason)
    page.get_by_role("button", name="Cancel the order").click()
    expect(page.locator("#notice")).to_contain_text("Cancel order: done")

    # Then the order ends cancelled, Blink got the reason, and no action is offered any more
    expect(state_of(page)).to_have_attribute("data-state", "cancelled", timeout=SLOW)
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    expect(page.get_by_role("list", name="Timeline")).to_contain_text(reason)
    rejections = [e for e in flow.blink_history(placed.blink_order_id) if e["status"] == 4]
    assert [e.get("comment") for e in rejections] == [reason]
