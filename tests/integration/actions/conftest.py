"""Fixtures for the outbound actions: the four vendor APIs mocked with respx (answering with
the vendor docs' samples), injected into the actions' dependencies (``deps.vendors =
VendorClients(settings, transport=..., credentials=...)``), and a way to invoke an action Lambda
through its real handler module with its ``events/`` sample."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from orderbridge.actions import runtime
from orderbridge.config import get_settings
from orderbridge.deps import Deps
from orderbridge.domain.ids import order_id_for
from orderbridge.vendors.clients import VendorClients
from orderbridge.vendors.credentials import VendorCredentials

from tests.support import samples
from tests.support.apigw import LambdaContext, handler_module
from tests.unit.vendors import bloqit_samples as bloq_docs
from tests.unit.vendors import samples as docs
from tests.unit.vendors.support import json_response

EVENTS = Path(__file__).resolve().parents[3] / "events"
BLINK = "https://api.blinkco.io"
LOGISTICS = "https://api-delivery.blinkco.io"
BLOQIT = "https://api.bloq.it/api/v1/public"
NINJA = "https://dev.dispatchninja.com/dn_api/1.1.0"

# The Blend doc sample, as the partner webhook stores it: the order every events/ sample names.
PARTNER_ORDER_ID = order_id_for("partner:demo-partner", "order_id")
BLINK_ORDER_ID = order_id_for("blink", "1236589")
NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)

# Ids in the Bloq.It doc's samples: the locker of every rent sample, and that locker's Bloq.
DOC_LOCKER_ID = "5d5a6e83d1682b7194fc5f9c"
DOC_BLOQ_ID = "5d5a6e83d1682b7194fc5f91"
DOC_RENT_ID = "5f85c02704d61b14f47c78a0"

TEST_CREDENTIALS = VendorCredentials.model_validate(
    {
        "merchant_id": "m-demo",
        "blink": {"username": "paul-bakery", "password": "dev-blink-password"},
        "blink_logistics": {"token": "dev-logistics-api-token"},
        "bloqit": {"api_key": "dev-bloqit-api-key"},
        "dispatchninja": {"api_key": "dev-ninja-api-key"},
    }
)


def doc(text: str, **changes: Any) -> dict[str, Any]:
    """A doc sample (JSON text) as a dict, with ``changes`` on top."""
    return {**json.loads(text), **changes}


def bloq(bloq_id: str = DOC_BLOQ_ID, **changes: Any) -> dict[str, Any]:
    """The doc's Bloq sample with the documented fields its collapsed parts would carry."""
    return doc(bloq_docs.BLOQ, **({"_id": bloq_id, "supports": ["store", "delivery"], "lockers": []} | changes))


def locker(locker_id: str = DOC_LOCKER_ID, bloq_id: str = DOC_BLOQ_ID, **changes: Any) -> dict[str, Any]:
    """The doc's locker sample (an active, closed, free S locker)."""
    return doc(bloq_docs.LOCKER_CLOSED, **({"_id": locker_id, "bloq": bloq_id} | changes))


def page(docs_: list[dict[str, Any]]) -> dict[str, Any]:
    return {"totalDocs": len(docs_), "page": 1, "limit": 50, "docs": docs_}


class FakeVendors:
    """Blink, Blink Logistics, Bloq.It and DispatchNINJA as respx routes answering the docs' samples."""

    def __init__(self) -> None:
        r = self.router = respx.Router(assert_all_called=False)
        # Blink interface API
        self.blink_login = r.post(f"{BLINK}/interface/v1/login").mock(
            return_value=json_response(docs.BLINK_LOGIN_RESPONSE)
        )
        self.submit_order = r.post(f"{BLINK}/interface/v1/submitOrder").mock(
            return_value=json_response(docs.BLINK_SUBMIT_ORDER_RESPONSE, 201)
        )
        self.sync_status = r.post(f"{BLINK}/interface/v1/syncOrderStatus").mock(
            return_value=json_response({"success": True, "msg": "Order status updated"})
        )
        self.sync_stock = r.post(f"{BLINK}/interface/v1/syncStockAndPrice").mock(
            return_value=json_response({"success": True, "msg": "Stock and price synced"})
        )
        # Blink Logistics
        self.create_task = r.post(f"{LOGISTICS}/api/client/task").mock(
            return_value=json_response(docs.LOGISTICS_CREATE_TASK_RESPONSE, 201)
        )
        self.update_task = r.put(f"{LOGISTICS}/api/client/task").mock(
            return_value=json_response(docs.LOGISTICS_UPDATE_TASK_RESPONSE, 201)
        )
        # A task exists once one was created (the create action looks before it creates).
        self.task_status = r.get(f"{LOGISTICS}/api/client/task/status").mock(side_effect=self._task_status)
        # DispatchNINJA
        self.ninja_add = r.post(f"{NINJA}/orders/add").mock(return_value=json_response(docs.NINJA_ADD_ORDER_RESPONSE))
        self.ninja_details = r.post(f"{NINJA}/orders/details").mock(
            return_value=json_response(docs.NINJA_ORDER_DETAILS_RESPONSE)
        )
        # Bloq.It (routes are tried in order: the fixed paths before /bloqs/{id})
        self.geo_search = r.get(f"{BLOQIT}/bloqs/geoSearch").mock(return_value=json_response(page([bloq()])))
        self.free_lockers = r.get(url__regex=rf"^{BLOQIT}/bloqs/[^/]+/free-lockers$").mock(
            return_value=json_response([locker()])
        )
        self.get_bloq = r.get(url__regex=rf"^{BLOQIT}/bloqs/[^/?]+$").mock(return_value=json_response(bloq()))
        self.create_delivery = r.post(f"{BLOQIT}/deliveries").mock(side_effect=self._delivery_created)
        self.make = r.put(url__regex=rf"^{BLOQIT}/deliveries/[^/]+/make").mock(
            return_value=json_response(bloq_docs.DELIVERY_MADE)
        )
        self.notify = r.put(url__regex=rf"^{BLOQIT}/deliveries/[^/]+/notify$").mock(
            return_value=json_response(bloq_docs.DELIVERY_NOTIFIED)
        )
        self.select = r.put(url__regex=rf"^{BLOQIT}/deliveries/[^/]+/select-locker").mock(
            return_value=json_response(bloq_docs.DELIVERY_LOCKER_SELECTED)
        )
        self.return_ = r.put(url__regex=rf"^{BLOQIT}/deliveries/[^/]+/return$").mock(
            return_value=json_response(bloq_docs.DELIVERY_RETURNED)
        )
        # No rent of ours at Bloq.It unless a test says so (reserve looks for one left unrecorded).
        self.rent_by_external_id = r.get(url__regex=rf"^{BLOQIT}/rents/external/[^/]+$").mock(
            return_value=httpx.Response(404, json={"code": "rentNotFound", "message": "Rent not found"})
        )
        self.cancel = r.put(url__regex=rf"^{BLOQIT}/rents/[^/]+/cancel$").mock(
            return_value=json_response(bloq_docs.RENT_CANCELLED)
        )
        self.collect = r.put(url__regex=rf"^{BLOQIT}/rents/[^/]+/collect$").mock(
            return_value=json_response(bloq_docs.RENT_COLLECT)
        )
        self.finish = r.put(url__regex=rf"^{BLOQIT}/rents/[^/]+/finish$").mock(
            return_value=json_response(bloq_docs.RENT_FINISHED)
        )
        self.list_webhooks = r.get(f"{BLOQIT}/webhooks").mock(return_value=json_response(bloq_docs.WEBHOOK_LIST))
        self.create_webhook = r.post(f"{BLOQIT}/webhooks").mock(return_value=json_response(bloq_docs.WEBHOOK_CREATED))
        self.update_webhook = r.put(url__regex=rf"^{BLOQIT}/webhooks/[^/]+$").mock(
            return_value=json_response(bloq_docs.WEBHOOK)
        )
        self.courier_token = r.get(f"{BLOQIT}/couriers/courier-auth/create-token").mock(
            return_value=json_response(bloq_docs.COURIER_TOKEN)
        )

    def _task_status(self, request: httpx.Request) -> httpx.Response:
        if not self.create_task.called:
            return self._task_status_not_found(request)
        return json_response(docs.LOGISTICS_TASK_STATUS_RESPONSE)

    @staticmethod
    def _task_status_not_found(request: httpx.Request) -> httpx.Response:
        """Blink Logistics having no task for the key: the assumed answer (is_task_not_found)."""
        key = request.url.params["mappingKey"]
        return httpx.Response(
            404, json={"statusCode": 404, "message": f"No task with mappingKey {key}", "error": "Not Found"}
        )

    @staticmethod
    def _delivery_created(request: httpx.Request) -> httpx.Response:
        """The doc's Create Delivery answer, with the expiry date the request asked for."""
        body = json.loads(request.content)
        return json_response(doc(bloq_docs.DELIVERY_CREATED, expiryDate=body["expiryDate"]))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.router.handler)

    def calls(self) -> list[tuple[str, str]]:
        """Every request so far as (METHOD, host + path), the Blink login left out."""
        return [
            (c.request.method, c.request.url.host + c.request.url.path)
            for c in self.router.calls
            if not c.request.url.path.endswith("/login")
        ]


@pytest.fixture
def vendors() -> FakeVendors:
    return FakeVendors()


@pytest.fixture
def action_deps(seeded, vendors, monkeypatch) -> Deps:
    """The actions' dependencies: moto's DynamoDB, the mocked vendors, test credentials, a fixed
    clock; installed as the container's (``get_deps`` as the action runtime sees it) for the action
    handlers, while the webhooks keep the real clock their signatures are checked against."""
    settings = get_settings()
    # Two attempts per call: enough to show a retry, and a 503 answered "Retry-After: 0" waits nothing.
    settings = settings.model_copy(update={"vendors": settings.vendors.model_copy(update={"max_attempts": 2})})
    deps = Deps(settings, clock=lambda: NOW)
    deps.vendors = VendorClients(
        settings, transport=vendors.transport(), credentials=lambda merchant_id: TEST_CREDENTIALS
    )
    monkeypatch.setattr(runtime, "get_deps", lambda: deps)
    return deps


def event(name: str, **changes: Any) -> dict[str, Any]:
    """``events/<name>.json`` (the function's sample input), with ``changes`` on top."""
    return {**json.loads((EVENTS / f"{name}.json").read_text()), **changes}


@pytest.fixture
def act(action_deps) -> Callable[..., dict[str, Any]]:
    """Invoke an action Lambda through its handler module, as Lambda would."""

    def invoke(function_logical_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        handler = handler_module(function_logical_id).lambda_handler
        return handler(payload, LambdaContext(function_name=function_logical_id))

    return invoke


@pytest.fixture
def partner_order(hub, action_deps) -> str:
    """The Blend doc sample received from the delivery partner (fully mapped, no customer)."""
    answer = hub.partner_order(samples.text("blend_order_created.jsonc"))
    assert answer.status == 200 and answer.body["order_id"] == PARTNER_ORDER_ID
    return PARTNER_ORDER_ID


def sent_json(route: respx.Route, index: int = -1) -> Any:
    from decimal import Decimal

    return json.loads(route.calls[index].request.content, parse_float=Decimal)


def sent_form(route: respx.Route, index: int = -1) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(route.calls[index].request.content.decode()))


def timeline(deps: Deps, order_id: str) -> list[dict[str, Any]]:
    view = deps.orders.get(order_id)
    assert view is not None
    return [entry.model_dump() for entry in view.timeline]


def tracks(deps: Deps, order_id: str) -> dict[str, Any]:
    view = deps.orders.get(order_id)
    assert view is not None
    return view.tracks.model_dump()
