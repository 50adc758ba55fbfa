"""The catalog and the stock and price push on the local stack: a menu change in the Blink sandbox
reaches the catalog, its history and the mapping flags (SyncCatalogFunction, fired now); a stock
change set through the ops API reaches the Blink sandbox (PushStockAndPriceFunction)."""

from __future__ import annotations

import uuid
from typing import Any

from orderbridge.models.config import ItemMapping
from orderbridge.store.config import ConfigStore
from orderbridge_local.seed import DEMO_MERCHANT, DEMO_PARTNER

from tests.e2e.flow import Flow


def test_a_menu_change_reaches_the_catalog_and_a_stock_change_reaches_blink(flow: Flow, aws: Any) -> None:
    # Given an item of our own on Blink's menu, and a partner mapping to it
    item_id = f"e2e-{uuid.uuid4().hex[:10]}"
    flow.admin("blink", "POST", "/_admin/menu", json={"id": item_id, "name": "E2E Latte", "price": "100.000"})
    ConfigStore(aws("dynamodb"), flow.stack["seeded"]["config_table"]).put(
        ItemMapping(
            partner_id=DEMO_PARTNER,
            merchant_id=DEMO_MERCHANT,
            kind="item",
            partner_item_id=f"p-{item_id}",
            product_id="prod-latte",
            blink_id=item_id,
        )
    )

    def catalog_item(include: str = "") -> dict[str, Any] | None:
        answer = flow.ops("GET", f"/catalog/{DEMO_MERCHANT}", params={"include": include} if include else None)
        assert answer.status_code == 200, answer.text
        return next((e for e in answer.json()["items"] if e["item"]["item_id"] == item_id), None)

    def history() -> list[tuple[str, str | None]]:
        answer = flow.ops("GET", f"/catalog/{DEMO_MERCHANT}/history", params={"item_id": item_id})
        return [(c["kind"], (c.get("after") or {}).get("price")) for c in answer.json()["changes"]]

    # When the catalog sync runs, then the item is in the catalog
    flow.fire_until("SyncCatalogFunction", catalog_item, "the item in the catalog")

    # When its price changes in Blink, then the catalog's history shows the change
    flow.admin("blink", "PATCH", f"/_admin/menu/{item_id}", json={"price": "120.000"})
    flow.fire_until("SyncCatalogFunction", lambda: ("changed", "120.000") in history(), "the price change")

    # When a person sets its stock at branch 12345 through the ops API
    answer = flow.ops(
        "PUT", f"/catalog/{DEMO_MERCHANT}/items/{item_id}", json={"branch_id": "12345", "stock_quantity": 7}
    )
    assert answer.status_code == 202, answer.text
    bad = flow.ops(
        "PUT", f"/catalog/{DEMO_MERCHANT}/items/{item_id}", json={"branch_id": "12345", "stock_quantity": -2}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "stock_quantity"

    # Then the push brings it to Blink, and it is no longer pending
    def in_blink() -> list[dict[str, Any]] | None:
        menu = {item["id"]: item for item in flow.admin("blink", "GET", "/_admin/menu")}
        return menu[item_id]["branches"] or None

    assert flow.fire_until("PushStockAndPriceFunction", in_blink, "the stock in Blink") == [
        {"id": "12345", "stock_quantity": 7}
    ]
    menu = {item["id"]: item for item in flow.admin("blink", "GET", "/_admin/menu")}
    assert menu[item_id]["price"] == "120.000"  # the push sent the price the catalog had seen
    pending = flow.ops("GET", f"/catalog/{DEMO_MERCHANT}").json()["pending"]
    assert [p for p in pending if p["item_id"] == item_id] == []

    # When the item is removed from Blink's menu
    flow.admin("blink", "DELETE", f"/_admin/menu/{item_id}")

    # Then the catalog shows it removed, and the mapping to it is flagged
    def flagged() -> list[dict[str, Any]]:
        flags = flow.ops("GET", f"/catalog/{DEMO_MERCHANT}/flags").json()["flags"]
        return [f for f in flags if f["partner_item_id"] == f"p-{item_id}" and f["reason"] == "item_missing"]

    flow.fire_until("SyncCatalogFunction", flagged, "the flag on the mapping")
    assert catalog_item() is None and (catalog_item("removed") or {}).get("removed") is True
    assert [kind for kind, _ in history()] == ["added", "changed", "removed"]
