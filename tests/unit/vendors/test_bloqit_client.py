"""BloqitClient against a scripted transport: every endpoint, pagination, errors, retries, secrets.

No network: each test gives the client an ``httpx.MockTransport`` that records the requests and
answers with the doc's own response samples (``bloqit_samples``), verbatim.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import islice
from typing import Any

import httpx
import pytest
from orderbridge.config import VendorSettings
from orderbridge.models.bloqit import (
    Bloq,
    BloqActiveFilter,
    BloqitEvent,
    BloqLocationCreate,
    BloqLocationState,
    BloqLocationUpdate,
    BloqUpdate,
    Customer,
    CustomerInput,
    CustomersWithActiveRents,
    DeliveryCreate,
    Locker,
    LockerType,
    NotificationOption,
    Page,
    Rent,
    RentType,
    RentUpdate,
    ReturnCreate,
    Webhook,
)
from orderbridge.models.states import RentState
from orderbridge.vendors.bloqit import API_PREFIX, BloqitClient
from orderbridge.vendors.credentials import BloqitCredentials
from orderbridge.vendors.http import (
    PermanentVendorError,
    RetryableVendorError,
    VendorAuthError,
    VendorConflict,
    VendorNotFound,
)
from pydantic import SecretStr, ValidationError

from . import bloqit_samples as samples
from .support import ScriptedTransport, SleepRecorder, captured_logs, json_response

BASE_URL = "https://api.demo.bloq.it"
API_KEY = "bq-test-3f9c1e7a-SECRET-d41d8cd9"
RENT_ID = "5f85c02704d61b14f47c78a0"
T0 = datetime(2019, 8, 24, 14, 15, 22, tzinfo=UTC)
MAX_ITEMS = 50  # bound on iterations, so a pagination bug fails a test instead of hanging it


def make_client(*steps: Any, max_attempts: int = 4) -> tuple[BloqitClient, ScriptedTransport, SleepRecorder]:
    transport = ScriptedTransport(*steps)
    sleep = SleepRecorder()
    client = BloqitClient.create(
        VendorSettings(bloqit_base_url=BASE_URL, max_attempts=max_attempts),
        BloqitCredentials(api_key=SecretStr(API_KEY)),
        transport=transport,
        sleep=sleep,
    )
    return client, transport, sleep


def query_of(request: httpx.Request) -> dict[str, list[str]]:
    params = request.url.params
    return {key: params.get_list(key) for key in params}


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def page_body(docs: list[dict[str, Any]], *, page: int, limit: int, total: int) -> dict[str, Any]:
    return {"docs": docs, "page": page, "limit": limit, "totalDocs": total}


def rent_doc(n: int) -> dict[str, Any]:
    return {"_id": f"rent-{n}", "type": "delivery", "state": "in_progress", "externalID": f"order-{n}"}


# --------------------------------------------------------------------------------------------------
# Every endpoint: method, path, query, body, and the doc's response sample parsed
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    call: Callable[[BloqitClient], Any]
    method: str
    path: str
    sample: str
    check: Callable[[Any], bool]
    query: dict[str, list[str]] | None = None
    body: Any = None


def _is_rent(state: RentState) -> Callable[[Any], bool]:
    return lambda r: isinstance(r, Rent) and r.id == RENT_ID and r.state is state


ENDPOINTS: dict[str, Endpoint] = {
    # Bloqs
    "list bloqs": Endpoint(
        lambda c: c.list_bloqs(
            page=2, limit=5, active=BloqActiveFilter.ACTIVE, locker_type=LockerType.M, rent_type=RentType.DELIVERY
        ),
        "GET",
        "/bloqs",
        samples.BLOQ_LIST,
        lambda r: isinstance(r, Page) and r.total_docs == 2 and r.limit == 10 and r.docs == [],
        query={"page": ["2"], "limit": ["5"], "active": ["active"], "lockerType": ["M"], "rentType": ["delivery"]},
    ),
    "retrieve a bloq": Endpoint(
        lambda c: c.get_bloq("5e5fbcebd1195468b647aa02"),
        "GET",
        "/bloqs/5e5fbcebd1195468b647aa02",
        samples.BLOQ,
        lambda r: (
            isinstance(r, Bloq)
            and r.code == "T1"
            and r.max_rent_time_hour == 2
            and r.created_at == datetime(2020, 3, 4, 14, 36, 27, 826000, tzinfo=UTC)
        ),
    ),
    "get free lockers": Endpoint(
        lambda c: c.get_free_lockers("b1"),
        "GET",
        "/bloqs/b1/free-lockers",
        samples.FREE_LOCKERS,
        lambda r: len(r) == 1 and isinstance(r[0], Locker),
    ),
    "get bloqs by location": Endpoint(
        lambda c: c.search_bloqs_near(
            latitude=Decimal("6.166201"),
            longitude=Decimal("46.661362"),
            max_distance=500,
            rent_type=RentType.DELIVERY,
        ),
        "GET",
        "/bloqs/geoSearch",
        samples.BLOQ_GEOSEARCH,
        lambda r: isinstance(r, Page) and r.total_docs == 2,
        query={
            "latitude": ["6.166201"],
            "longitude": ["46.661362"],
            "maxDistance": ["500"],
            "page": ["1"],
            "limit": ["10"],
            "rentType": ["delivery"],
        },
    ),
    "update bloq": Endpoint(
        lambda c: c.update_bloq("b1", BloqUpdate(active=True, title="Discriptive title", max_rent_time_hour=2)),
        "PUT",
        "/bloqs/b1",
        samples.BLOQ_UPDATED,
        lambda r: isinstance(r, Bloq) and r.id == "5e5fbcebd1195468b647aa02",
        body={"active": True, "title": "Discriptive title", "maxRentTimeHour": 2},
    ),
    # Lockers
    "open a locker": Endpoint(
        lambda c: c.open_locker("b1", "l1"),
        "PUT",
        "/bloqs/b1/lockers/l1/open",
        samples.LOCKER_OPENED,
        lambda r: (
            isinstance(r, Locker)
            and r.is_open is True
            and r.locker_title == "A1"
            and r.last_door_opening_timestamp is None
            and r.rent is None
        ),
    ),
    "open several lockers": Endpoint(
        lambda c: c.open_lockers("b1", ["5d5a6e83d1682b7194fc5f9c", "5d5a6e83d1682b7194fc5f7g"]),
        "PUT",
        "/bloqs/b1/lockers/open",
        samples.LOCKERS_OPENED,
        lambda r: r == ["5d5a6e83d1682b7194fc5f9c", "5d5a6e83d1682b7194fc5f7g"],
        body={"lockers": ["5d5a6e83d1682b7194fc5f9c", "5d5a6e83d1682b7194fc5f7g"]},
    ),
    "close a locker (virtual)": Endpoint(
        lambda c: c.close_locker("b1", "l1"),
        "PUT",
        "/bloqs/b1/lockers/l1/close",
        samples.LOCKER_CLOSED,
        lambda r: isinstance(r, Locker) and r.is_open is False,
    ),
    "change a locker availability": Endpoint(
        lambda c: c.set_locker_availability("b1", "l1", active=False),
        "PUT",
        "/bloqs/b1/lockers/l1/availability",
        samples.LOCKER_AVAILABILITY,
        lambda r: isinstance(r, Locker) and r.active is True,
        body={"active": False},
    ),
    "open or collect": Endpoint(
        lambda c: c.open_or_collect("b1", "l1"),
        "PUT",
        "/bloqs/b1/lockers/l1/open-or-collect",
        samples.LOCKER_OPEN_OR_COLLECT,
        lambda r: isinstance(r, Locker) and r.is_open is True,
    ),
    # Bloq Locations
    "create bloq location": Endpoint(
        lambda c: c.create_bloq_location(
            BloqLocationCreate(
                address="Street 123, 1100-123 Lisbon",
                latitude=Decimal("38.707163"),
                longitude=Decimal("-9.135517"),
                external_id="externalID-1",
                name="Supermarket Locker 01",
                metadata={},
            )
        ),
        "POST",
        "/bloq-locations",
        samples.BLOQ_LOCATION_CREATED,
        lambda r: r.state is BloqLocationState.CREATED and r.external_id == "externalID-1",
        body=json.loads(samples.REQ_BLOQ_LOCATION_CREATE),
    ),
    "list bloq locations": Endpoint(
        lambda c: c.list_bloq_locations(
            limit=15, external_id="externalID-1", name="Supermarket", address="Street", state=BloqLocationState.DEPLOYED
        ),
        "GET",
        "/bloq-locations",
        samples.BLOQ_LOCATION_LIST,
        lambda r: r.total_docs == 2 and r.limit == 15,
        query={
            "page": ["1"],
            "limit": ["15"],
            "externalID": ["externalID-1"],
            "name": ["Supermarket"],
            "address": ["Street"],
            "state": ["deployed"],
        },
    ),
    "get bloq location": Endpoint(
        lambda c: c.get_bloq_location("loc1"),
        "GET",
        "/bloq-locations/loc1",
        samples.BLOQ_LOCATION,
        lambda r: r.name == "Supermarket Locker 01",
    ),
    "update bloq location": Endpoint(
        lambda c: c.update_bloq_location("loc1", BloqLocationUpdate(name="Renamed", state="churned")),
        "PUT",
        "/bloq-locations/loc1",
        samples.BLOQ_LOCATION_UPDATED,
        lambda r: r.address == "Street 123, 1100-123 Lisbon",
        body={"name": "Renamed", "state": "churned"},
    ),
    "get bloq location by external id": Endpoint(
        lambda c: c.get_bloq_location_by_external_id("externalID-1"),
        "GET",
        "/bloq-locations/external-id/externalID-1",
        samples.BLOQ_LOCATION_BY_EXTERNAL_ID,
        lambda r: r.external_id == "externalID-1",
    ),
    "update bloq location by external id": Endpoint(
        lambda c: c.update_bloq_location_by_external_id(
            "externalID-1", BloqLocationUpdate(latitude=Decimal("38.707163"), longitude=Decimal("-9.135517"))
        ),
        "PUT",
        "/bloq-locations/external-id/externalID-1",
        samples.BLOQ_LOCATION_UPDATED_BY_EXTERNAL_ID,
        lambda r: r.state is BloqLocationState.CREATED,
        body={"latitude": 38.707163, "longitude": -9.135517},
    ),
    # Printer
    "labels available (bulk)": Endpoint(
        lambda c: c.list_labels_available(page=0, limit=0),
        "GET",
        "/bloqs/labels-amount-available",
        samples.LABELS_BULK,
        lambda r: r.total_docs == 2,
        query={"page": ["0"], "limit": ["0"]},
    ),
    "labels available": Endpoint(
        lambda c: c.get_labels_available("b1"),
        "GET",
        "/bloqs/b1/labels-amount-available",
        samples.LABELS,
        lambda r: r.remaining_labels == 120,
    ),
    "print a label": Endpoint(
        lambda c: c.print_label("b1", template_id="tpl-1", content={"orderId": "42"}),
        "PUT",
        "/bloqs/b1/print-label",
        samples.PRINT_LABEL,
        lambda r: isinstance(r, Locker) and r.id == "5d5a6e83d1682b7194fc5f9c",
        query={"templateID": ["tpl-1"]},
        body={"content": {"orderId": "42"}},
    ),
    "notify labels roll replacement": Endpoint(
        lambda c: c.notify_label_roll_replacement("b1"),
        "PUT",
        "/bloqs/b1/notify-label-replacement",
        samples.NOTIFY_LABEL_REPLACEMENT,
        lambda r: r.code == "bloqIDInvalid" and r.message.startswith("Invalid bloqID"),
    ),
    # Rents
    "list all rents": Endpoint(
        lambda c: c.list_rents(
            page=3,
            limit=10,
            customer_id="c1",
            bloq_id="b1",
            rent_type=RentType.DELIVERY,
            rent_states=[RentState.EXPIRED, RentState.CANCELLED],
            customer_query="+351912345678",
            start_date=datetime(2024, 1, 1, tzinfo=UTC),
            end_date=datetime(2024, 1, 2, 12, 30, tzinfo=timezone(timedelta(hours=1))),
            external_id="order-42",
        ),
        "GET",
        "/rents",
        samples.RENT_LIST,
        lambda r: r.total_docs == 50 and r.page == 1,
        query={
            "page": ["3"],
            "limit": ["10"],
            "customerID": ["c1"],
            "bloqID": ["b1"],
            "rentType": ["delivery"],
            "rentStates": ["expired", "cancelled"],
            "customerQuery": ["+351912345678"],
            "startDate": ["2024-01-01T00:00:00Z"],
            "endDate": ["2024-01-02T11:30:00Z"],
            "externalID": ["order-42"],
        },
    ),
    "list all active rents": Endpoint(
        lambda c: c.list_active_rents(rent_type=RentType.DELIVERY, rent_states=[RentState.EXPIRED]),
        "GET",
        "/rents/active",
        samples.RENT_ACTIVE_LIST,
        lambda r: r.total_docs == 50,
        query={"page": ["1"], "limit": ["10"], "rentType": ["delivery"], "rentStates": ["expired"]},
    ),
    "list all rents with state": Endpoint(
        lambda c: c.list_rents_with_state(
            RentState.EXPIRED,
            reached_from=datetime(2024, 1, 1, tzinfo=UTC),
            reached_until=datetime(2024, 1, 1, 23, 59, 59, 500000, tzinfo=UTC),
        ),
        "GET",
        "/rents/reached-state",
        samples.RENT_REACHED_STATE_LIST,
        lambda r: r.total_docs == 50,
        query={
            "page": ["1"],
            "limit": ["10"],
            "state": ["expired"],
            "from": ["2024-01-01T00:00:00Z"],
            "until": ["2024-01-01T23:59:59.500Z"],
        },
    ),
    "retrieve a rent by external id": Endpoint(
        lambda c: c.get_rent_by_external_id("order-42"),
        "GET",
        "/rents/external/order-42",
        samples.RENT_BY_EXTERNAL_ID,
        lambda r: r.state is RentState.FINISHED and isinstance(r.customer, Customer) and isinstance(r.locker, Locker),
    ),
    "rent history": Endpoint(
        lambda c: c.get_rent_history(RENT_ID),
        "GET",
        f"/rents/{RENT_ID}/history",
        samples.RENT_HISTORY,
        lambda r: len(r) == 3 and all(isinstance(e, BloqitEvent) for e in r),
        query={"rentID": [RENT_ID]},
    ),
    "retrieve a rent": Endpoint(
        lambda c: c.get_rent(RENT_ID),
        "GET",
        f"/rents/{RENT_ID}",
        samples.RENT,
        lambda r: r.type is RentType.DELIVERY and r.end_date == datetime(2020, 10, 13, 14, 57, 47, 7000, tzinfo=UTC),
    ),
    "update rent": Endpoint(
        lambda c: c.update_rent(
            RENT_ID, RentUpdate(expiry_date=T0, external_id="order-42", pick_up_codes={"user": "2121"})
        ),
        "PUT",
        f"/rents/{RENT_ID}",
        samples.RENT,
        _is_rent(RentState.FINISHED),
        body={"expiryDate": "2019-08-24T14:15:22Z", "externalID": "order-42", "pickUpCodes": {"user": "2121"}},
    ),
    "extend a rent expiry date": Endpoint(
        lambda c: c.extend_rent_expiry(RENT_ID, T0),
        "PUT",
        f"/rents/{RENT_ID}/extend",
        samples.RENT_EXTENDED,
        _is_rent(RentState.FINISHED),
        body=json.loads(samples.REQ_RENT_EXTEND),
    ),
    "open a rent's locker": Endpoint(
        lambda c: c.open_rent_locker(RENT_ID),
        "PUT",
        f"/rents/{RENT_ID}/lockers/open",
        samples.RENT_LOCKER_OPENED,
        lambda r: (
            r.state is RentState.LOCKER_OPENED
            and r.customer_id == "5f7dc9fc04d61b14f47c6f00"
            and r.locker_id == "5d5a6e83d1682b7194fc5f9c"
        ),
    ),
    "cancel a rent": Endpoint(
        lambda c: c.cancel_rent(RENT_ID),
        "PUT",
        f"/rents/{RENT_ID}/cancel",
        samples.RENT_CANCELLED,
        _is_rent(RentState.CANCELLED),
    ),
    "collect an item": Endpoint(
        lambda c: c.collect_item(RENT_ID),
        "PUT",
        f"/rents/{RENT_ID}/collect",
        samples.RENT_COLLECT,
        _is_rent(RentState.COLLECT_ITEM),
    ),
    "finish a rent": Endpoint(
        lambda c: c.finish_rent(RENT_ID),
        "PUT",
        f"/rents/{RENT_ID}/finish",
        samples.RENT_FINISHED,
        _is_rent(RentState.FINISHED),
    ),
    # Rents testing
    "simulate open with keypad": Endpoint(
        lambda c: c.simulate_keypad_open(RENT_ID),
        "PUT",
        f"/rent-sims/{RENT_ID}/lockers/keypad",
        samples.SIM_KEYPAD,
        _is_rent(RentState.COLLECT_ITEM),
    ),
    "simulate closing a locker": Endpoint(
        lambda c: c.simulate_locker_close(RENT_ID),
        "PUT",
        f"/rent-sims/{RENT_ID}/lockers/close",
        samples.SIM_CLOSE,
        _is_rent(RentState.IN_PROGRESS),
    ),
    # Store and Send
    "start a store": Endpoint(
        lambda c: c.start_store("l1", customer_id="c1", pick_up_codes={"user": "2121"}),
        "POST",
        "/stores",
        samples.STORE_STARTED,
        lambda r: (
            r.type is RentType.STORE
            and r.state is RentState.STARTING
            and r.expiry_date == datetime(2019, 8, 19, 11, 40, 19, 343000, tzinfo=UTC)
        ),
        query={"lockerID": ["l1"], "customerID": ["c1"]},
        body={"pickUpCodes": {"user": "2121"}},
    ),
    "end a store": Endpoint(
        lambda c: c.end_store(RENT_ID, open_locker=True),
        "PUT",
        f"/stores/{RENT_ID}/end",
        samples.STORE_ENDED,
        _is_rent(RentState.FINISHED),
        body={"openLocker": True},
    ),
    "start a send": Endpoint(
        lambda c: c.start_send("l1", phone_number="+351919090909"),
        "POST",
        "/sends",
        samples.SEND_STARTED,
        lambda r: r.type is RentType.SEND and r.state is RentState.STARTING,
        query={"lockerID": ["l1"]},
        body={"phoneNumber": "+351919090909"},
    ),
    # Deliveries
    "create delivery": Endpoint(
        lambda c: c.create_delivery(
            DeliveryCreate(
                external_id="order-42",
                expiry_date=T0,
                pick_up_codes={"user": "2121"},
                desired_locker_type=LockerType.S,
                notification_options=[NotificationOption.SMS],
            ),
            bloq_id="b1",
            customer_id="c1",
        ),
        "POST",
        "/deliveries",
        samples.DELIVERY_CREATED,
        lambda r: r.state is RentState.RESERVED and r.notification_options == [],
        query={"bloqID": ["b1"], "customerID": ["c1"]},
        body={
            "externalID": "order-42",
            "expiryDate": "2019-08-24T14:15:22Z",
            "pickUpCodes": {"user": "2121"},
            "desiredLockerType": "S",
            "notificationOptions": ["sms"],
        },
    ),
    "make delivery": Endpoint(
        lambda c: c.make_delivery(RENT_ID, locker_id="l2"),
        "PUT",
        f"/deliveries/{RENT_ID}/make",
        samples.DELIVERY_MADE,
        _is_rent(RentState.STARTING),
        query={"lockerID": ["l2"]},
    ),
    "notify client": Endpoint(
        lambda c: c.notify_delivery_client(RENT_ID),
        "PUT",
        f"/deliveries/{RENT_ID}/notify",
        samples.DELIVERY_NOTIFIED,
        _is_rent(RentState.IN_PROGRESS),
    ),
    "ready for pickup": Endpoint(
        lambda c: c.mark_delivery_ready_for_pickup(RENT_ID),
        "PUT",
        f"/deliveries/{RENT_ID}/ready-for-pickup",
        samples.DELIVERY_READY_FOR_PICKUP,
        _is_rent(RentState.READY_FOR_PICKUP),
    ),
    "in transit": Endpoint(
        lambda c: c.mark_delivery_in_transit(RENT_ID),
        "PUT",
        f"/deliveries/{RENT_ID}/in-transit",
        samples.DELIVERY_IN_TRANSIT,
        _is_rent(RentState.IN_TRANSIT),
    ),
    "select locker": Endpoint(
        lambda c: c.select_delivery_locker(RENT_ID, bloq_id="b1", locker_type=LockerType.M),
        "PUT",
        f"/deliveries/{RENT_ID}/select-locker",
        samples.DELIVERY_LOCKER_SELECTED,
        _is_rent(RentState.IN_TRANSIT),
        query={"bloqID": ["b1"], "lockerType": ["M"]},
    ),
    "return a delivery": Endpoint(
        lambda c: c.return_delivery(RENT_ID, expiry_date=T0),
        "PUT",
        f"/deliveries/{RENT_ID}/return",
        samples.DELIVERY_RETURNED,
        _is_rent(RentState.FINISHED),
        body=json.loads(samples.REQ_DELIVERY_RETURN),
    ),
    # Returns
    "create a return": Endpoint(
        lambda c: c.create_return(
            ReturnCreate(external_id="return-7", collect_time_limit=T0),
            bloq_id="b1",
            locker_type=LockerType.L,
            previous_rent_id="r0",
        ),
        "POST",
        "/returns",
        samples.RETURN_CREATED,
        lambda r: r.type is RentType.RETURN and r.state is RentState.RESERVED,
        query={"bloqID": ["b1"], "lockerType": ["L"], "rentID": ["r0"]},
        body={"externalID": "return-7", "collectTimeLimit": "2019-08-24T14:15:22Z"},
    ),
    "reserve a return locker": Endpoint(
        lambda c: c.reserve_return_locker(
            RENT_ID, bloq_id="b1", locker_id="l1", customer=CustomerInput(name="John Doe")
        ),
        "PUT",
        f"/returns/{RENT_ID}/reserve",
        samples.RETURN_RESERVED,
        _is_rent(RentState.RESERVED),
        query={"bloqID": ["b1"], "lockerID": ["l1"]},
        body={"customer": {"name": "John Doe"}},
    ),
    "finish a return": Endpoint(
        lambda c: c.finish_return(RENT_ID),
        "PUT",
        f"/returns/{RENT_ID}/finish",
        samples.RETURN_FINISHED,
        _is_rent(RentState.RESERVED),
    ),
    # Customers
    "create a customer": Endpoint(
        lambda c: c.create_customer(name="John Doe", email="happy_user9236@gmail.com", phone_number="+351912345678"),
        "POST",
        "/customers",
        samples.CUSTOMER_CREATED,
        lambda r: isinstance(r, Customer) and r.id == "23d4bcebd23c5468b647bd42" and r.phone_number == "+351912345678",
        body=json.loads(samples.REQ_CUSTOMER_CREATE),
    ),
    "list customers": Endpoint(
        lambda c: c.list_customers(page=2, with_active_rents=CustomersWithActiveRents.WITH),
        "GET",
        "/customers",
        samples.CUSTOMER_LIST,
        lambda r: r.total_docs == 2,
        query={"page": ["2"], "limit": ["10"], "withActiveRents": ["with"]},
    ),
    "retrieve a customer": Endpoint(
        lambda c: c.get_customer("c1"),
        "GET",
        "/customers/c1",
        samples.CUSTOMER,
        lambda r: (
            r.external_id == "externalID" and r.created_at == datetime(2022, 3, 30, 17, 8, 48, 812000, tzinfo=UTC)
        ),
    ),
    "update a customer": Endpoint(
        lambda c: c.update_customer("c1", email="happy_customer325@company.com"),
        "PUT",
        "/customers/c1",
        samples.CUSTOMER_UPDATED,
        lambda r: r.email == "happy_customer325@company.com",
        body={"email": "happy_customer325@company.com"},
    ),
    "delete a customer": Endpoint(
        lambda c: c.delete_customer("c1"),
        "DELETE",
        "/customers/c1",
        samples.CUSTOMER_DELETED,
        lambda r: r.id == "23d4bcebd23c5468b647bd42",
    ),
    # Couriers
    "get courier auth token": Endpoint(
        lambda c: c.create_courier_auth_token(
            "DRIVERID1", expires_in="7d", bloq_ids=["b1", "b2"], metadata={"vehicle": "van"}
        ),
        "GET",
        "/couriers/courier-auth/create-token",
        samples.COURIER_TOKEN,
        lambda r: r.token.get_secret_value().startswith("eyJhbGciOiJFUzUxMiIs") and "eyJ" not in repr(r),
        query={
            "courierID": ["DRIVERID1"],
            "expirationDate": ["7d"],
            "bloqIDs": ["b1", "b2"],
            "metadata[vehicle]": ["van"],
        },
    ),
    # Webhooks
    "create a webhook": Endpoint(
        lambda c: c.create_webhook(
            "/ourPartner/receiveWebhook",
            ["locker.locker_opened", "locker.locker_closed"],
            "Is called when a locker is opened or closed",
            "Y2No6tuPrX",
        ),
        "POST",
        "/webhooks",
        samples.WEBHOOK_CREATED,
        lambda r: (
            isinstance(r, Webhook)
            and r.id == "23d4bcebd23c54bba647df6a"
            and r.updated_at == datetime(2020, 10, 27, 10, 35, 24, 557000, tzinfo=UTC)
        ),
        body={
            "url": "/ourPartner/receiveWebhook",
            "enabledEvents": ["locker.locker_opened", "locker.locker_closed"],
            "description": "Is called when a locker is opened or closed",
            "secret": "Y2No6tuPrX",
        },
    ),
    "list webhooks": Endpoint(
        lambda c: c.list_webhooks(
            limit=15,
            event_type="rent.created",
            start_date=datetime(2024, 5, 1, tzinfo=UTC),
            end_date=datetime(2024, 5, 2, tzinfo=UTC),
        ),
        "GET",
        "/webhooks",
        samples.WEBHOOK_LIST,
        lambda r: r.total_docs == 2 and r.limit == 15,
        query={
            "page": ["1"],
            "limit": ["15"],
            "eventType": ["rent.created"],
            "startDate": ["2024-05-01T00:00:00Z"],
            "endDate": ["2024-05-02T00:00:00Z"],
        },
    ),
    "retrieve a webhook": Endpoint(
        lambda c: c.get_webhook("w1"),
        "GET",
        "/webhooks/w1",
        samples.WEBHOOK,
        lambda r: r.url == "/ourPartner/receiveWebhook" and r.enabled_events == [],
    ),
    "update a webhook": Endpoint(
        lambda c: c.update_webhook("w1", enabled_events=["rent.expired"], secret=SecretStr("n3w-s3cret")),
        "PUT",
        "/webhooks/w1",
        samples.WEBHOOK_UPDATED,
        lambda r: isinstance(r, Webhook),
        body={"enabledEvents": ["rent.expired"], "secret": "n3w-s3cret"},
    ),
    "delete a webhook": Endpoint(
        lambda c: c.delete_webhook("w1"),
        "DELETE",
        "/webhooks/w1",
        samples.WEBHOOK_DELETED,
        lambda r: r.id == "23d4bcebd23c54bba647df6a",
    ),
    "event history": Endpoint(
        lambda c: c.get_event_history(
            event_types=["rent.created", "rent.expired"], start_date=datetime(2024, 5, 1, tzinfo=UTC)
        ),
        "GET",
        "/webhooks/history",
        samples.EVENT_HISTORY,
        lambda r: r.total_docs == 2 and r.docs == [],
        query={"eventTypes": ["rent.created", "rent.expired"], "startDate": ["2024-05-01T00:00:00Z"]},
    ),
}


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_each_endpoint_sends_the_documented_request_and_parses_the_docs_sample(name: str) -> None:
    # Given Bloq.It answers with the doc's response sample for this endpoint
    endpoint = ENDPOINTS[name]
    client, transport, _ = make_client(json_response(endpoint.sample))

    # When the client method is called
    result = endpoint.call(client)

    # Then exactly one request went out, with the doc's method, path, query and body
    assert len(transport.requests) == 1
    request = transport.requests[0]
    assert request.method == endpoint.method
    assert request.url.host == "api.demo.bloq.it"
    assert request.url.path == API_PREFIX + endpoint.path
    assert query_of(request) == (endpoint.query or {})
    assert body_of(request) == endpoint.body
    if endpoint.body is not None:
        assert request.headers["Content-Type"] == "application/json"
    # And the answer is a typed model built from the doc's sample
    assert endpoint.check(result)


def test_the_endpoint_table_covers_every_public_method_of_the_client() -> None:
    # Given the client's public methods; the iterators and the delivery helper have their own tests
    public = {name for name in dir(BloqitClient) if not name.startswith("_") and name not in {"create", "close"}}
    own_tests = {name for name in public if name.startswith("iter_")} | {"create_order_delivery"}

    # When every endpoint case is run against a recording client
    called: set[str] = set()

    class Spy:
        def __getattr__(self, attr: str) -> Any:
            called.add(attr)
            return lambda *a, **k: None

    for endpoint in ENDPOINTS.values():
        endpoint.call(Spy())  # type: ignore[arg-type]

    # Then each endpoint method is exercised by the table
    assert public - own_tests == called


# --------------------------------------------------------------------------------------------------
# The doc's samples and our models
# --------------------------------------------------------------------------------------------------


REQUEST_MODELS = {
    "REQ_BLOQ_UPDATE": BloqUpdate,
    "REQ_BLOQ_LOCATION_CREATE": BloqLocationCreate,
    "REQ_BLOQ_LOCATION_UPDATE": BloqLocationUpdate,
    "REQ_BLOQ_LOCATION_UPDATE_BY_EXTERNAL_ID": BloqLocationUpdate,
    "REQ_RENT_UPDATE": RentUpdate,
    "REQ_DELIVERY_CREATE": DeliveryCreate,
    "REQ_RETURN_CREATE": ReturnCreate,
    "REQ_CUSTOMER_CREATE": CustomerInput,
    "REQ_CUSTOMER_UPDATE": CustomerInput,
}


@pytest.mark.parametrize("sample_name", sorted(REQUEST_MODELS))
def test_request_models_know_every_field_name_of_the_docs_request_samples(sample_name: str) -> None:
    # Given a request sample of the doc
    fields = set(json.loads(getattr(samples, sample_name)))

    # When compared with the wire names (aliases) of our request model
    model = REQUEST_MODELS[sample_name]
    wire_names = {info.alias or name for name, info in model.model_fields.items()}

    # Then every field the doc sends is one our model can send
    assert fields <= wire_names


def test_every_response_sample_of_the_doc_is_exercised_by_an_endpoint_case() -> None:
    # Given every response sample of the doc
    response_samples = {getattr(samples, n) for n in dir(samples) if n.isupper() and not n.startswith("REQ_")}

    # When compared with the samples the endpoint cases answer with (update rent's page: own test)
    exercised = {endpoint.sample for endpoint in ENDPOINTS.values()} | {samples.RENT_UPDATED}

    # Then none is left unparsed
    assert response_samples <= exercised


# --------------------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------------------


def test_iter_rents_walks_every_page_and_stops_when_page_times_limit_reaches_total_docs() -> None:
    # Given 5 rents served 2 per page
    client, transport, _ = make_client(
        json_response(page_body([rent_doc(1), rent_doc(2)], page=1, limit=2, total=5)),
        json_response(page_body([rent_doc(3), rent_doc(4)], page=2, limit=2, total=5)),
        json_response(page_body([rent_doc(5)], page=3, limit=2, total=5)),
        json_response(page_body([rent_doc(99)], page=4, limit=2, total=5)),  # must never be asked for
    )

    # When every rent is iterated
    rents = list(islice(client.iter_rents(limit=2, rent_type=RentType.DELIVERY), MAX_ITEMS))

    # Then all 5 come back in order, from exactly 3 requests for pages 1, 2, 3 with the filters kept
    assert [r.external_id for r in rents] == [f"order-{n}" for n in range(1, 6)]
    assert [query_of(r)["page"] for r in transport.requests] == [["1"], ["2"], ["3"]]
    assert all(query_of(r)["limit"] == ["2"] and query_of(r)["rentType"] == ["delivery"] for r in transport.requests)


def test_iteration_stops_on_an_empty_page_even_if_total_docs_promises_more() -> None:
    # Given a server whose totalDocs overstates what it has
    client, transport, _ = make_client(
        json_response(page_body([rent_doc(1), rent_doc(2)], page=1, limit=2, total=10)),
        json_response(page_body([], page=2, limit=2, total=10)),
        json_response(page_body([rent_doc(99)], page=3, limit=2, total=10)),
    )

    # When every active rent is iterated
    rents = list(islice(client.iter_active_rents(limit=2), MAX_ITEMS))

    # Then the walk ends at the empty page
    assert [r.id for r in rents] == ["rent-1", "rent-2"]
    assert len(transport.requests) == 2


def test_iteration_ends_even_if_the_server_ignores_the_page_parameter() -> None:
    # Given a server that always answers page 1
    client, transport, _ = make_client(
        json_response(page_body([rent_doc(1), rent_doc(2)], page=1, limit=2, total=4)),
    )

    # When iterated
    rents = list(islice(client.iter_rents(limit=2), MAX_ITEMS))

    # Then it stops after the pages the total needs (2 x 2 >= 4), instead of looping forever
    assert len(transport.requests) == 2
    assert len(rents) == 4


def test_iteration_follows_the_limit_the_server_applied_when_it_caps_ours() -> None:
    # Given we ask for 100 per page but the server caps pages at 2 documents, 3 in total
    client, transport, _ = make_client(
        json_response(page_body([rent_doc(1), rent_doc(2)], page=1, limit=2, total=3)),
        json_response(page_body([rent_doc(3)], page=2, limit=2, total=3)),
    )

    # When iterated
    rents = list(islice(client.iter_rents(limit=100), MAX_ITEMS))

    # Then the second page is fetched too
    assert [r.id for r in rents] == ["rent-1", "rent-2", "rent-3"]
    assert len(transport.requests) == 2


ITERATORS: dict[str, tuple[Callable[[BloqitClient], Any], str, dict[str, Any]]] = {
    "bloqs": (lambda c: c.iter_bloqs(limit=1), "/bloqs", {"_id": "b"}),
    "bloqs near": (
        lambda c: c.iter_bloqs_near(latitude=Decimal("38.7"), longitude=Decimal("-9.1"), max_distance=900, limit=1),
        "/bloqs/geoSearch",
        {"_id": "b"},
    ),
    "bloq locations": (lambda c: c.iter_bloq_locations(limit=1), "/bloq-locations", {"name": "x"}),
    "labels available": (
        lambda c: c.iter_labels_available(limit=1),
        "/bloqs/labels-amount-available",
        {"bloq": "b", "remainingLabels": "3"},
    ),
    "rents": (lambda c: c.iter_rents(limit=1), "/rents", rent_doc(1)),
    "active rents": (lambda c: c.iter_active_rents(limit=1), "/rents/active", rent_doc(1)),
    "rents with state": (
        lambda c: c.iter_rents_with_state(
            RentState.EXPIRED, reached_from=T0, reached_until=T0 + timedelta(days=1), limit=1
        ),
        "/rents/reached-state",
        rent_doc(1),
    ),
    "customers": (lambda c: c.iter_customers(limit=1), "/customers", {"_id": "c"}),
    "webhooks": (lambda c: c.iter_webhooks(limit=1), "/webhooks", {"_id": "w"}),
    "event history": (
        lambda c: c.iter_event_history(limit=1),
        "/webhooks/history",
        {"_id": "e", "codeName": "rent.expired"},
    ),
}


@pytest.mark.parametrize("name", list(ITERATORS))
def test_each_list_endpoint_has_an_iterator_that_walks_all_its_pages(name: str) -> None:
    # Given a list of 2 documents served one per page
    call, path, doc = ITERATORS[name]
    client, transport, _ = make_client(
        json_response(page_body([doc], page=1, limit=1, total=2)),
        json_response(page_body([doc], page=2, limit=1, total=2)),
    )

    # When iterated
    items = list(islice(call(client), MAX_ITEMS))

    # Then both pages of that endpoint were asked for, and both documents came back typed
    assert len(items) == 2 and all(not isinstance(i, dict) for i in items)
    assert [r.url.path for r in transport.requests] == [API_PREFIX + path] * 2
    assert [query_of(r)["page"] for r in transport.requests] == [["1"], ["2"]]


# --------------------------------------------------------------------------------------------------
# Authentication, errors and retries
# --------------------------------------------------------------------------------------------------


def test_every_request_carries_the_api_key_in_the_x_api_key_header() -> None:
    # Given a client built from the merchant's Bloq.It credentials
    client, transport, _ = make_client(json_response(samples.RENT))

    # When two calls are made
    client.get_rent(RENT_ID)
    client.cancel_rent(RENT_ID)

    # Then both carry the key, and no other credential header
    assert [r.headers["X-API-KEY"] for r in transport.requests] == [API_KEY, API_KEY]
    assert all("authorization" not in r.headers for r in transport.requests)


def test_404_raises_vendor_not_found_with_bloqits_code_and_message_without_retrying() -> None:
    # Given Bloq.It does not know the rent
    client, transport, sleep = make_client(
        json_response({"code": "rentNotFound", "message": "Rent not found"}, status_code=404)
    )

    # When the rent is asked for
    with pytest.raises(VendorNotFound) as caught:
        client.get_rent_by_external_id("order-404")

    # Then Bloq.It's own code and message are on the error, after a single request
    assert caught.value.status_code == 404
    assert caught.value.vendor_code == "rentNotFound"
    assert caught.value.message == "Rent not found"
    assert len(transport.requests) == 1 and sleep.waits == []


def test_409_raises_vendor_conflict_after_exactly_one_request() -> None:
    # Given the rent's state does not allow cancelling
    client, transport, sleep = make_client(
        json_response({"code": "invalidRentState", "message": "Rent can not be cancelled"}, status_code=409)
    )

    # When it is cancelled
    with pytest.raises(VendorConflict) as caught:
        client.cancel_rent(RENT_ID)

    # Then it is not retried
    assert caught.value.vendor_code == "invalidRentState"
    assert len(transport.requests) == 1 and sleep.waits == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, PermanentVendorError), (401, VendorAuthError), (403, VendorAuthError)],
)
def test_other_documented_client_errors_are_permanent_and_not_retried(status: int, error: type) -> None:
    # Given Bloq.It refuses the request
    client, transport, _ = make_client(
        json_response({"code": "bloqIDInvalid", "message": "Invalid bloqID."}, status_code=status)
    )

    # When a Bloq is asked for
    with pytest.raises(error) as caught:
        client.get_bloq("nope")

    # Then the error is permanent, carries Bloq.It's code, and one request was made
    assert not caught.value.retryable
    assert caught.value.vendor_code == "bloqIDInvalid"
    assert len(transport.requests) == 1


@pytest.mark.parametrize("status", [502, 504])
def test_locker_gateway_errors_are_retried_up_to_max_attempts_then_raised(status: int) -> None:
    # Given the locker keeps failing (502) or not answering (504)
    client, transport, sleep = make_client(
        json_response({"code": "lockerError", "message": "Locker did not respond"}, status_code=status),
        max_attempts=3,
    )

    # When the rent's locker is opened
    with pytest.raises(RetryableVendorError) as caught:
        client.open_rent_locker(RENT_ID)

    # Then it was tried max_attempts times, waiting (without sleeping for real) between attempts
    assert len(transport.requests) == 3
    assert len(sleep.waits) == 2
    assert caught.value.status_code == status and caught.value.vendor_code == "lockerError"


def test_a_retried_call_that_then_succeeds_returns_the_parsed_answer() -> None:
    # Given one 502 then the locker answers
    client, transport, _ = make_client(
        json_response({"message": "Bad gateway"}, status_code=502), json_response(samples.LOCKER_OPENED)
    )

    # When the locker is opened
    locker = client.open_locker("b1", "l1")

    # Then the second attempt's answer is returned
    assert locker.is_open is True
    assert len(transport.requests) == 2


def test_429_waits_what_retry_after_asks_before_the_next_attempt() -> None:
    # Given a rate limit asking for 7 seconds
    client, transport, sleep = make_client(
        json_response({"message": "Too many requests"}, status_code=429, headers={"Retry-After": "7"}),
        json_response(samples.RENT),
    )

    # When a rent is read
    client.get_rent(RENT_ID)

    # Then the wait was the one asked for
    assert sleep.waits == [7.0]
    assert len(transport.requests) == 2


def test_an_answer_of_an_undocumented_shape_is_a_permanent_error_that_does_not_quote_the_data() -> None:
    # Given an answer without the rent's id and state, holding a customer's phone
    client, _, _ = make_client(json_response({"phoneNumber": "+351912345678"}))

    # When it is parsed
    with pytest.raises(PermanentVendorError) as caught:
        client.get_rent(RENT_ID)

    # Then the error names the fields, not the values
    assert "_id" in str(caught.value) and "state" in str(caught.value)
    assert "+351912345678" not in str(caught.value)


# --------------------------------------------------------------------------------------------------
# Decimal, datetimes, path safety
# --------------------------------------------------------------------------------------------------


def test_prices_and_coordinates_in_answers_stay_decimal() -> None:
    # Given a rent with a price and a Bloq with GeoJSON coordinates, as decimals with trailing zeros
    rent = '{"_id": "r1", "state": "finished", "pricing": {"price": 2.50, "extraHours": [0.10]}}'
    bloq = '{"_id": "b1", "location": {"type": "Point", "coordinates": [-9.135517, 38.707160]}}'
    client, _, _ = make_client(json_response(rent), json_response(bloq))

    # When they are read
    parsed_rent = client.get_rent("r1")
    parsed_bloq = client.get_bloq("b1")

    # Then no number went through float
    assert parsed_rent.pricing is not None
    assert parsed_rent.pricing.model_extra == {"price": Decimal("2.50"), "extraHours": [Decimal("0.10")]}
    assert str(parsed_rent.pricing.model_extra["price"]) == "2.50"
    assert parsed_bloq.location is not None
    assert parsed_bloq.location.coordinates == [Decimal("-9.135517"), Decimal("38.707160")]


def test_coordinates_are_sent_as_json_numbers_digit_for_digit() -> None:
    # Given a location with decimal coordinates
    client, transport, _ = make_client(json_response(samples.BLOQ_LOCATION_CREATED))

    # When it is created
    client.create_bloq_location(
        BloqLocationCreate(address="Street 123", latitude=Decimal("38.707163"), longitude=Decimal("-9.135517"))
    )

    # Then the body carries numbers, not strings
    assert b'"latitude":38.707163' in transport.requests[0].content
    assert b'"longitude":-9.135517' in transport.requests[0].content


def test_naive_datetimes_are_refused_before_anything_is_sent() -> None:
    # Given a client
    client, transport, _ = make_client(json_response(samples.RENT_LIST))

    # When a naive datetime is given as a filter or in a body
    with pytest.raises(ValueError, match="timezone-aware"):
        client.list_rents(start_date=datetime(2024, 1, 1))
    with pytest.raises(ValidationError):
        client.extend_rent_expiry(RENT_ID, datetime(2024, 1, 1))

    # Then nothing went out
    assert transport.requests == []


def test_ids_are_percent_encoded_so_they_cannot_change_the_path() -> None:
    # Given an external id with path and query characters
    client, transport, _ = make_client(json_response(samples.RENT))

    # When the rent is looked up by it
    client.get_rent_by_external_id("order/42?x=1")

    # Then it stays one path segment
    assert transport.requests[0].url.raw_path == f"{API_PREFIX}/rents/external/order%2F42%3Fx%3D1".encode()


# --------------------------------------------------------------------------------------------------
# Our delivery rent
# --------------------------------------------------------------------------------------------------


def test_create_order_delivery_creates_a_last_mile_delivery_keyed_by_our_order_id() -> None:
    # Given a Bloq with a free S locker and an order with a customer
    client, transport, _ = make_client(json_response(samples.DELIVERY_CREATED))
    expiry = datetime(2024, 6, 1, 20, 0, tzinfo=timezone(timedelta(hours=1)))

    # When the order's delivery rent is created
    rent = client.create_order_delivery(
        "ORD-1001",
        expiry_date=expiry,
        bloq_id="b1",
        desired_locker_type=LockerType.S,
        customer=CustomerInput(name="John Doe", phone_number="+351912345678"),
        pick_up_codes={"customer": "483920"},
        drop_off_code="771204",
        notification_options=[NotificationOption.SMS],
    )

    # Then Bloq.It gets the doc's field names, our order id as externalID and a UTC expiry with Z
    request = transport.requests[0]
    assert (request.method, request.url.path) == ("POST", f"{API_PREFIX}/deliveries")
    assert query_of(request) == {"bloqID": ["b1"]}
    assert body_of(request) == {
        "externalID": "ORD-1001",
        "expiryDate": "2024-06-01T19:00:00Z",
        "customer": {"name": "John Doe", "phoneNumber": "+351912345678"},
        "pickUpCodes": {"customer": "483920"},
        "dropOffCode": "771204",
        "desiredLockerType": "S",
        "notificationOptions": ["sms"],
        "operationType": "lastMile",
    }
    # And the reserved rent comes back
    assert rent.state is RentState.RESERVED and rent.type is RentType.DELIVERY


def test_create_order_delivery_refuses_both_a_pick_up_code_and_pick_up_codes() -> None:
    # Given a client
    client, transport, _ = make_client(json_response(samples.DELIVERY_CREATED))

    # When both kinds of pick-up code are given (Bloq.It answers 400 to that)
    with pytest.raises(ValidationError, match="pickUpCode or pickUpCodes"):
        client.create_order_delivery(
            "ORD-1", expiry_date=T0, bloq_id="b1", pick_up_code="1234", pick_up_codes={"user": "1234"}
        )

    # Then nothing was sent
    assert transport.requests == []


def test_create_order_delivery_refuses_a_pick_up_code_longer_than_14_characters() -> None:
    client, transport, _ = make_client(json_response(samples.DELIVERY_CREATED))

    with pytest.raises(ValidationError):
        client.create_order_delivery("ORD-1", expiry_date=T0, bloq_id="b1", pick_up_code="1" * 15)

    assert transport.requests == []


def test_a_delivery_without_a_bloq_needs_an_expiry_or_a_delivery_date_limit() -> None:
    # Given a delivery with neither a Bloq nor a time limit (it would stay pending forever)
    client, transport, _ = make_client(json_response(samples.DELIVERY_CREATED))

    # When it is created
    with pytest.raises(ValueError, match="expiryDate or a deliveryDateLimit"):
        client.create_delivery(DeliveryCreate(external_id="ORD-1"))

    # Then nothing was sent
    assert transport.requests == []


def test_update_rent_accepts_the_docs_page_shaped_answer_by_reading_the_rent_back() -> None:
    # Given Bloq.It answers the update with a page (the doc's sample) and the rent on a second read
    client, transport, _ = make_client(json_response(samples.RENT_UPDATED), json_response(samples.RENT))

    # When the rent is updated
    rent = client.update_rent(RENT_ID, RentUpdate(external_id="ORD-1001"))

    # Then the updated rent is returned, read back with a GET
    assert rent.id == RENT_ID
    assert [(r.method, r.url.path) for r in transport.requests] == [
        ("PUT", f"{API_PREFIX}/rents/{RENT_ID}"),
        ("GET", f"{API_PREFIX}/rents/{RENT_ID}"),
    ]


def test_select_locker_needs_a_locker_id_or_a_locker_type() -> None:
    client, transport, _ = make_client(json_response(samples.DELIVERY_LOCKER_SELECTED))

    with pytest.raises(ValueError, match="locker_id or by locker_type"):
        client.select_delivery_locker(RENT_ID, bloq_id="b1")

    assert transport.requests == []


def test_courier_token_expiry_given_as_timedelta_is_sent_in_milliseconds() -> None:
    client, transport, _ = make_client(json_response(samples.COURIER_TOKEN))

    client.create_courier_auth_token("DRIVERID1", expires_in=timedelta(hours=2))

    assert query_of(transport.requests[0]) == {"courierID": ["DRIVERID1"], "expirationDate": ["7200000"]}


# --------------------------------------------------------------------------------------------------
# Secrets stay out of logs
# --------------------------------------------------------------------------------------------------


def test_neither_the_api_key_nor_the_webhook_secret_appears_in_logs_or_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given every logger recording at DEBUG (httpx included), a success, retries, then a refusal
    caplog.set_level(logging.DEBUG)
    client, _, _ = make_client(
        json_response(samples.WEBHOOK_CREATED),
        json_response({"message": "Bad gateway"}, status_code=502),
        json_response({"code": "apiKeyInvalid", "message": "Invalid API key"}, status_code=401),
    )

    # When calls are made and fail
    with captured_logs() as stream:
        client.create_webhook("https://hooks.example.com/bloqit", ["rent.expired"], secret="whsec-TOPSECRET-42")
        with pytest.raises(VendorAuthError) as caught:
            client.get_rent(RENT_ID)

    # Then the calls were logged, but no secret is in any log line or in the error
    logged = stream.getvalue() + caplog.text
    assert "vendor call" in logged
    assert API_KEY not in logged and "whsec-TOPSECRET-42" not in logged
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)
