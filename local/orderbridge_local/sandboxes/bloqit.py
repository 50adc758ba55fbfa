"""Bloq.It Partner API sandbox (vendor-docs/bloqit-partner-api.txt, API 1.35.0): bloqs and lockers,
rents (deliveries, returns), customers, webhooks with signed callbacks, and the event history.

Settings (:class:`BloqitSettings`, on top of :class:`~.base.SandboxSettings`)
---------------------------------------------------------------------------
``api_key``
    The key every vendor route needs in ``X-API-KEY`` (401 otherwise).
``partner_id`` / ``admin_id``
    The partner the customers belong to; the partner admin named as ``admin`` and
    ``actionInitiatedBy.id`` of the events caused through the API.
``signature_header`` / ``timestamp_header``
    Header names of the webhook signature and timestamp (defaults ``x-bloq-signature`` and
    ``x-bloq-timestamp``; ASSUMPTION: the doc's "Webhooks" → "Security" section does not name them,
    see docs/vendor-assumptions.md).
``webhooks``
    Webhooks registered at start-up and after every reset (``url``, ``enabledEvents``, ``secret``,
    ``description``), besides the ones created through ``POST /api/v1/public/webhooks``.
``bloqs``
    Replaces the seeded bloqs (same shape as the API's Bloq; lockers included). Default: three
    bloqs, see :func:`seed_bloqs` — two in Lisbon that accept deliveries (the first with the doc's
    sample ``_id`` ``5e5fbcebd1195468b647aa02``, the second holding the doc's sample locker
    ``5d5a6e83d1682b7194fc5f9c``), one in Porto that does not.
``auto_expire``
    Default True: a rent past its ``expiryDate`` (or, before drop-off, past its
    ``deliveryDateLimit``) expires by itself (``source: "expiration"``).
``currency``
    ``pricing.currency`` of the rents.

Vendor routes (prefix ``/api/v1/public``)
-----------------------------------------
Bloqs: ``GET /bloqs``, ``GET /bloqs/geoSearch``, ``GET /bloqs/<bloqID>``, ``PUT /bloqs/<bloqID>``,
``GET /bloqs/<bloqID>/free-lockers``, ``PUT /bloqs/<bloqID>/lockers/open`` (several),
``PUT /bloqs/<bloqID>/lockers/<lockerID>/open``, ``.../close`` (virtual), ``.../availability``,
``.../open-or-collect``.
Rents: ``GET /rents``, ``GET /rents/active``, ``GET /rents/reached-state``,
``GET /rents/external/<externalID>``, ``GET /rents/<rentID>``, ``GET /rents/<rentID>/history``,
``PUT /rents/<rentID>`` (update), ``PUT /rents/<rentID>/extend``, ``PUT /rents/<rentID>/lockers/open``,
``PUT /rents/<rentID>/cancel``, ``PUT /rents/<rentID>/collect``, ``PUT /rents/<rentID>/finish``.
Rents testing: ``PUT /rent-sims/<rentID>/lockers/keypad``, ``PUT /rent-sims/<rentID>/lockers/close``.
Deliveries: ``POST /deliveries``, ``PUT /deliveries/<rentID>/reserve``, ``.../select-locker``,
``.../make``, ``.../notify``, ``.../ready-for-pickup``, ``.../in-transit``, ``.../return``.
Returns: ``POST /returns``, ``PUT /returns/<rentID>/reserve``, ``PUT /returns/<rentID>/finish``.
Customers: ``POST /customers``, ``GET /customers``, ``GET|PUT|DELETE /customers/<customerID>``.
Webhooks: ``POST /webhooks``, ``GET /webhooks``, ``GET /webhooks/history``,
``GET|PUT|DELETE /webhooks/<webhookID>``.

Rent state machine (what the sandbox enforces; 409 ``rentStateInvalid`` otherwise)
----------------------------------------------------------------------------------
``created`` —(locker reserved: create with a locker/bloq, ``reserve``, ``select-locker``)→ ``reserved``
—(``make``, or the keypad with the drop-off code)→ ``starting`` (locker open) —(locker closed:
``rent-sims/close``, ``lockers/close``, admin ``dropoff``)→ ``in_progress`` —(``collect``, keypad
with the pick-up code)→ ``collect_item`` (locker open) —(locker closed)→ ``price_calculation`` →
``finished`` (locker freed). ``reserved`` —(admin ``offline-dropoff``)→ ``in_progress``, announced
by ``rent.offline_dropoff`` alone. ``in_progress`` —(``lockers/open``)→ ``locker_opened``
—(closed)→ ``in_progress``. ``in_progress`` → ``ready_for_pickup`` → ``in_transit`` (doc "In
Transit": it "comes after the ready for pickup action ... was picked up"; locker freed, then
``select-locker`` and ``make`` again). Expiry (past ``expiryDate``, or admin ``expire``) →
``expired``; ``cancel`` → ``cancelled``: both keep the locker until ``collect`` (then closed →
finished) or ``finish`` (doc "Cancels a Rent", "Finish a Rent": only from cancelled or expired).
``extend`` (or admin ``extend``) moves ``expiryDate`` later and sends ``rent.extended``; it
revives an expired rent. ``return`` (only from ``expired``: doc "Return a delivery", "Given
expired rentID") turns a delivery into a return, ``in_progress`` with a new expiry.

Every transition records an event (``GET /webhooks/history``, ``GET /rents/<id>/history``) and
POSTs it to every webhook subscribed to its type. The callback body is the doc's structure:
``{"_id", "admin", "customer", "rent", "bloq", "locker", "price", "codeName", "description",
"message", "title", "metadata", "actionInitiatedBy": {"role", "id", "source"}}``, serialised
compactly as Node's ``JSON.stringify`` does (no spaces, non-ASCII characters unescaped). When
the webhook has a secret, the request is signed as the doc's Security section describes: the
timestamp (unix milliseconds, as a string) in ``timestamp_header`` and, in ``signature_header``,
``jsonwebtoken.sign(`${timestamp}.${body}`, secret)`` — HS256, header ``{"alg":"HS256"}`` (no
``typ``: jsonwebtoken omits it for a string payload), payload the raw string. No secret: no
signature headers.

Admin routes
------------
``POST /_admin/rents/<rentID>/dropoff``
    The courier drops the item. From ``reserved``: ``rent.drop_off_code_check``,
    ``locker.locker_opened``, ``rent.started``, then as from ``starting``: ``locker.locker_closed``,
    ``rent.in_progress``, ``rent.drop_off_confirmation`` (+ ``rent.automatic_notification_sent``
    when the rent has ``notificationOptions``).
``POST /_admin/rents/<rentID>/pickup``
    The customer collects. From ``in_progress``/``ready_for_pickup``: ``locker.locker_opened``,
    ``rent.collect_item``, then as from ``collect_item``: ``locker.locker_closed``,
    ``rent.price_calculation``, ``rent.finished``.
``POST /_admin/rents/<rentID>/expire``
    ``rent.expired`` now (``source: "expiration"``).
``POST /_admin/rents/<rentID>/offline-dropoff``
    The courier drops the item while the Bloq is offline; on reconnecting it syncs. From
    ``reserved``: ``bloq.reconnected``, ``rent.drop_off_code_check_offline``
    (+ ``rent.waiting_offline_dropoff_sync`` with ``{"waiting_sync": true}``),
    ``rent.offline_dropoff`` (+ ``rent.automatic_notification_sent`` when the rent has
    ``notificationOptions``). The rent is then ``in_progress``; no ``rent.in_progress`` is sent.
``POST /_admin/rents/<rentID>/extend``
    Extend as from Bloq.It's backoffice (``source: "bloq_it_admin"``): ``{"expiryDate": ...}``, or
    ``{"hours": n}`` from the current expiry (or now); ``rent.extended`` as for ``extend``.
``POST /_admin/events/<eventType>``
    Sends any event: body ``{"rentID"?, "lockerID"?, "bloqID"?, "customerID"?, "message"?,
    "title"?, "description"?, "metadata"?, "actionInitiatedBy"?, "set_state"?}`` (``set_state``:
    also move the rent to the event's state).
``POST /_admin/bloqs/<bloqID>``
    Merge a patch into a bloq (e.g. ``{"active": false}`` or ``{"supports": ["store"]}`` to stop
    accepting delivery rents).
``POST /_admin/bloqs/<bloqID>/lockers``
    ``{"type": "M", "count": 8}``: that many more free lockers of that size in the bloq.
``GET /_admin/state``, ``GET /_admin/rents/<rentID>``
    Everything (webhook secrets included), or one rent as stored.

Where the doc is silent (liberties)
-----------------------------------
Each point the Orderbridge side relies on is in docs/vendor-assumptions.md ("Bloq.It").

* Paths the doc gives only as a body (no URL; its "Request samples" for these sections show only
  the JSON body): ``POST /deliveries`` ("Create Delivery Operation"), ``PUT /deliveries/<id>/return``
  ("Return a delivery"), ``POST /returns`` ("Create a Return"), ``PUT /returns/<id>/reserve``
  ("Reserve Locker"), ``PUT /rents/<id>`` ("Update Rent"), ``PUT /rents/<id>/extend`` ("Extends a
  rent expiry date"), ``PUT /bloqs/<id>`` ("Update Bloq"), ``PUT /bloqs/<id>/lockers/open`` ("Open
  several Lockers"), ``PUT /bloqs/<id>/lockers/<id>/availability`` ("Change a locker
  availability"), ``POST /customers``, ``PUT /customers/<id>`` ("Create/Update a Customer"),
  ``POST /webhooks``, ``PUT /webhooks/<id>`` ("Create/Update a Webhook") — the API's own
  CRUD/action pattern, as ``orderbridge.vendors.bloqit`` (``# path inferred``). ``PUT
  /deliveries/<id>/reserve`` has no section at all (the doc's ``rent.reserved`` mentions "the
  reserve locker endpoint"): it mirrors the returns' "Reserve Locker".
* Webhook signing (doc "Webhooks" → "Security"): the header names are settings (above); the
  timestamp is unix milliseconds (the doc's Node sample only does ``timestamp.toString()``).
* ``rent.offline_dropoff`` (doc "Event Type" table: "a user does a drop off while the locker is
  disconnected/offline ... created when the drop off information is synched with the cloud")
  names no rent state: the sandbox leaves the rent ``in_progress`` (the state a drop-off leads to)
  and announces it with ``rent.offline_dropoff`` only, so a client must read that event as the
  drop-off. The events around it (``bloq.reconnected``, ``rent.drop_off_code_check_offline``,
  ``rent.waiting_offline_dropoff_sync`` before the sync succeeds) and their order are ours.
* ``rent.extended`` ("has the expire date extended") carries the new expiry as
  ``metadata.expiryDate`` (the doc's "Callback payload samples" collapse ``metadata`` to ``{ }``;
  ``expiryDate`` is the rent's field and the "Extends a rent expiry date" body's). Extending an
  ``expired`` rent brings it back to its state before the expiry (doc silent); Orderbridge's rent
  track keeps ``expired`` (its ranks never go back).
* Cancelling an ``expired`` rent is accepted ("Cancels a Rent": "an existing rent"); Orderbridge
  does not send it (from expired, the doc's way on is collect or finish).
* "Return a delivery" keeps the rent's id, makes it ``type: "return"`` and ``in_progress`` with the
  new expiry (the doc says only "transform this delivery into a return with a given expiry
  date").
* Creates answer 201, everything else 200. Errors are ``{"code": "<camelCase>", "message": ...}``
  like the doc's one error sample (``bloqIDInvalid``): 400 invalid id/field, 401 ``apiKeyInvalid``,
  404 ``<thing>NotFound``, 409 ``rentStateInvalid`` / ``lockerNotAvailable`` / ``noLockersAvailable``
  / ``bloqNotAcceptingRents``.
* ``states`` entries are ``{"state", "timestamp"}``. Fields a rent is created with are kept at the
  top level; ``details`` holds the bloq/locker titles. ``customer``/``locker`` are ids, except in
  Retrieve (by id or external id), Extend and Return, which populate them (as the doc's samples).
* Update Rent answers the doc's sample shape: a page (``docs``/``totalDocs``/``limit``/``page``)
  holding the updated rent.
* Lists are in creation order; the event history is chronological.
* Creating a delivery with only ``bloqID`` allocates a free locker (of ``desiredLockerType``, or
  the smallest). Bloq.It rents of the sandbox cost nothing (``pricing.price`` 0).
* Not implemented (404): Bloq Locations, Printer, Store/Send operations.
* ["Create a courier authentication token"] HS256-signed by the sandbox (the doc's sample is ES512).
"""

from __future__ import annotations

import json
import math
import re
import time
import warnings
from datetime import datetime, timedelta
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from orderbridge_local.sandboxes.base import (
    ApiError,
    Reply,
    Sandbox,
    SandboxSettings,
    WebhookJob,
    iso_ms,
    json_body,
    parse_time,
)

API = "/api/v1/public"

# The doc's Event Type table: type → description.
EVENT_DESCRIPTIONS: dict[str, str] = {
    "locker.locker_opened": "This event will be triggered when a Locker is opened.",
    "locker.locker_closed": "This event will be triggered when a Locker is closed.",
    "locker.locker_timeout": "This event will be triggered when a request to a locker fails due to timeout in the "
    "request.",
    "locker.open_warning": "This event will be triggered when a Locker is left open for too long.",
    "locker.locker_active": "This event will be triggered when a Locker is activated.",
    "locker.locker_inactive": "This event will be triggered when a Locker is inactivated.",
    "locker.created": "This event will be triggered when a Locker is created.",
    "locker.open_locker_error": "This event will be triggered when a Locker had some problem opening or closing the "
    "door.",
    "locker.spontaneous_locker_opening": "This event will be triggered when a Locker was open spontaneously, outside "
    "the scope of any request",
    "locker.maintenance_status_update": "This event will be triggered when there is a change in the Locker "
    "maintenance status.",
    "rent.created": "This event will be triggered when a rent (store, send or delivery) is created - transits to "
    "the created state.",
    "rent.started": "This event will be triggered when a rent (store, send or delivery) starts - transits to the "
    "starting state.",
    "rent.in_progress": "This event will be triggered when a rent (store, send or delivery) transits to the "
    "in_progress state.",
    "rent.locker_opened": "This event will be triggered when a rent (store, send or delivery) transits to the "
    "locker_opened state.",
    "rent.collect_item": "This event will be triggered when a rent (store, send or delivery) transits to the "
    "collect_item state.",
    "rent.price_calculation": "This event will be triggered when a rent (store, send or delivery) transits to the "
    "price_calculation state.",
    "rent.finished": "This event will be triggered when a rent (store, send or delivery) transits to the finished "
    "state.",
    "rent.reserved": "This event will be triggered when a delivery transits to the reserved state.",
    "rent.cancelled": "This event will be triggered when a rent (store, send or delivery) transits to the cancelled "
    "state.",
    "rent.expired": "This event will be triggered when a rent (store, send or delivery) transits to the expired state.",
    "rent.extended": "This event will be triggered when a rent (store, send or delivery) has the expire date extended.",
    "rent.in_transit": "This event will be triggered when a rent (store, send or delivery) transits to the "
    "in_transit state.",
    "rent.ready_for_pickup": "This event will be triggered when a rent (store, send or delivery) transits to the "
    "ready_for_pickup state.",
    "rent.automatic_notification_sent": "This event will be triggered when the notification is sent to the customer.",
    "rent.drop_off_confirmation": "This event will be triggered when the drop off process on the Bloq finishes.",
    "rent.drop_off_cancellation": "This event will be triggered when a client, during the drop off process on the "
    "Bloq, decides that it wants to cancel it.",
    "rent.drop_off_code_check": "This event will be triggered when a client starts the drop off process on the Bloq.",
    "rent.drop_off_code_check_offline": "This event will be triggered when a client tries to start the drop off "
    "process on an offline Bloq.",
    "rent.pin_attempt": "This event will be triggered when a client tries to open a locker using a wrong pin.",
    "rent.offline_dropoff": "This event will be triggered when a user does a drop off while the locker is "
    "disconnected/offline.",
    "rent.waiting_offline_dropoff_sync": "This event will be triggered when a user does a drop off while the locker "
    "is disconnected/offline and the cloud could not update the locker with the rent info.",
    "bloq.label_printed": "This event will be triggered when a client asks to print a label in the Bloq.",
    "bloq.print_label_error": "This event will be triggered when an error occured when printing a label.",
    "bloq.reconnected": "This event will be triggered when a bloq becomes online after being offline.",
    "bloq.created": "This event will be triggered when a Bloq is created",
    "bloq.active": "This event will be triggered when a Bloq is enabled",
    "bloq.inactive": "This event will be triggered when a Bloq is disabled",
    "bloq.courier_authentication": "This event will be triggered when there is courier log in attempt in the bloq.",
    "bloq.courier_logout": "This event will be triggered when a couriers logs out.",
    "customer.customer_created": "This event will be triggered when a customer is created.",
    "customer.customer_updated": "This event will be triggered when a customer is updated.",
    "customer.customer_deleted": "This event will be triggered when a customer is deleted.",
}
EVENT_TYPES = tuple(EVENT_DESCRIPTIONS)

STATE_EVENTS = {
    "created": "rent.created",
    "reserved": "rent.reserved",
    "starting": "rent.started",
    "in_progress": "rent.in_progress",
    "locker_opened": "rent.locker_opened",
    "collect_item": "rent.collect_item",
    "price_calculation": "rent.price_calculation",
    "finished": "rent.finished",
    "cancelled": "rent.cancelled",
    "expired": "rent.expired",
    "in_transit": "rent.in_transit",
    "ready_for_pickup": "rent.ready_for_pickup",
}
EVENT_STATES = {event: state for state, event in STATE_EVENTS.items()}
# An offline drop-off leaves the rent holding the item: in_progress (the doc names no state for it).
EVENT_STATES["rent.offline_dropoff"] = "in_progress"
RENT_STATES = (*STATE_EVENTS, "payment_attempt")
LOCKER_TYPES = ("XS", "S", "M", "L", "XL")
RENT_TYPES = ("store", "send", "delivery", "return")
COLLECTED = ("collect_item", "price_calculation", "finished")
EXPIRABLE = ("created", "reserved", "in_progress", "locker_opened", "ready_for_pickup")
CANCELLABLE = ("created", "reserved", "starting", "in_progress", "locker_opened", "ready_for_pickup", "in_transit",
               "expired")  # fmt: skip

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")

API_SOURCE = "public_api"


class WebhookSpec(BaseModel):
    """A webhook registered when the sandbox starts (and after each reset)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    url: str
    enabled_events: list[str] = Field(default_factory=lambda: list(EVENT_TYPES), alias="enabledEvents")
    secret: str | None = None
    description: str | None = None


class BloqitSettings(SandboxSettings):
    api_key: str = "bloqit-sandbox-api-key"
    partner_id: str = "6169a0a732452574e5e247ea"
    admin_id: str = "5f7dc9fc04d61b14f47c6a01"
    signature_header: str = "x-bloq-signature"
    timestamp_header: str = "x-bloq-timestamp"
    webhooks: list[WebhookSpec] = Field(default_factory=list)
    bloqs: list[dict[str, Any]] | None = None
    auto_expire: bool = True
    currency: str = "EUR"


def _locker(bloq_id: str, locker_id: str, title: str, size: str) -> dict[str, Any]:
    return {
        "_id": locker_id,
        "rent": None,
        "charger": True,
        "objectDetection": False,
        "isOpen": False,
        "lastDoorOpeningTimestamp": None,
        "lockerTitle": title,
        "bloq": bloq_id,
        "type": size,
        "active": True,
    }


def _bloq(bloq_id: str, code: str, title: str, address: str, city: str, postal_code: str, lat: float, lng: float,
          supports: list[str], locker_ids: list[str]) -> dict[str, Any]:  # fmt: skip
    sizes = ("XS", "S", "S", "M", "M", "L", "XL")
    titles = ("A1", "A2", "A3", "B1", "B2", "C1", "D1")
    return {
        "_id": bloq_id,
        "active": True,
        "details": {"title": title, "address": address, "city": city, "country": "PT", "postalCode": postal_code},
        "code": code,
        "createdAt": "2020-03-04T14:36:27.826Z",
        "updatedAt": "2020-04-28T13:38:50.339Z",
        "maxRentTimeHour": 2,
        "maxRentDeliveryTimeHour": 48,
        "maxRentCollectTimeHour": 72,
        "supports": supports,
        "location": {"type": "Point", "coordinates": [lng, lat]},
        "price": {"currency": "EUR", "amount": 0},
        "lockersMeasures": {
            "XS": {"height": 9, "width": 42, "depth": 60},
            "S": {"height": 19, "width": 42, "depth": 60},
            "M": {"height": 39, "width": 42, "depth": 60},
            "L": {"height": 59, "width": 42, "depth": 60},
            "XL": {"height": 79, "width": 42, "depth": 60},
        },
        "status": {"online": True},
        "lockers": [
            _locker(bloq_id, locker_id, title_, size)
            for locker_id, title_, size in zip(locker_ids, titles, sizes, strict=True)
        ],
        "metadata": {},
    }


def seed_bloqs() -> list[dict[str, Any]]:
    """Two Lisbon bloqs that take deliveries, one in Porto that does not."""

    def ids(prefix: str, first: int) -> list[str]:
        return [f"{prefix}{first + n:04x}" for n in range(7)]

    lisbon_b_lockers = ids("5d5a6e83d1682b7194fc", 0x5F9C)
    return [
        _bloq("5e5fbcebd1195468b647aa02", "T1", "Supermarket Locker 01", "Street 123, 1100-123 Lisbon", "Lisbon",
              "1100-123", 38.707163, -9.135517, list(RENT_TYPES), ids("5e5fbcebd1195468b647", 0xB001)),
        _bloq("5d5a6e83d1682b7194fc5f91", "T2", "Station Locker 02", "Avenida da Liberdade 200, 1250-147 Lisbon",
              "Lisbon", "1250-147", 38.720530, -9.145630, list(RENT_TYPES), lisbon_b_lockers),
        _bloq("60c72b2f9b1d8e3a4c5f6a01", "P1", "Porto Locker 01", "Rua de Santa Catarina 10, 4000-447 Porto",
              "Porto", "4000-447", 41.147300, -8.606100, ["store", "send"], ids("60c72b2f9b1d8e3a4c5f", 0x7001)),
    ]  # fmt: skip


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat, dlng = rlat2 - rlat1, math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlng / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def compact_json(body: Any) -> str:
    """What Node's ``JSON.stringify`` gives: no spaces, non-ASCII characters as they are."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def sign(text: str, secret: str) -> str:
    """``jsonwebtoken.sign(text, secret)`` for a string payload: HS256, header ``{"alg":"HS256"}``."""
    with warnings.catch_warnings():
        # Partners' secrets may be shorter than PyJWT's recommended HMAC key length.
        warnings.simplefilter("ignore")
        return jwt.api_jws.encode(text.encode("utf-8"), secret, algorithm="HS256", headers={"typ": None})


class BloqitSandbox(Sandbox):
    name = "bloqit"
    settings_model = BloqitSettings
    settings: BloqitSettings

    # ------------------------------------------------------------------ state

    def reset_state(self) -> None:
        bloqs = self.settings.bloqs if self.settings.bloqs is not None else seed_bloqs()
        self.bloqs: dict[str, dict[str, Any]] = {b["_id"]: json.loads(json.dumps(b)) for b in bloqs}
        self.lockers: dict[str, dict[str, Any]] = {}
        for bloq in self.bloqs.values():
            for locker in bloq["lockers"]:
                self.lockers[locker["_id"]] = locker
        self.rents: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        for spec in self.settings.webhooks:
            self._add_webhook(spec.url, spec.enabled_events, spec.secret, spec.description)

    def needs_ticker(self) -> bool:
        return True

    def error_body(self, status: int, message: str, **extra: Any) -> Any:
        codes = {
            400: "badRequest",
            401: "apiKeyInvalid",
            403: "forbidden",
            404: "notFound",
            405: "methodNotAllowed",
            409: "conflict",
            429: "tooManyRequests",
            500: "internalServerError",
            502: "badGateway",
            503: "serviceUnavailable",
            504: "gatewayTimeout",
        }
        code = extra.pop("code", None) or codes.get(status, "error")
        return {"code": code, "message": message, **extra}

    def fail(self, status: int, code: str, message: str) -> ApiError:
        return ApiError(status, {"code": code, "message": message})

    def _new_id(self) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(24))

    # ------------------------------------------------------------------ routes

    def vendor_rules(self) -> list[Rule]:
        def rule(path: str, method: str, endpoint: Any) -> Rule:
            return Rule(f"{API}{path}", methods=[method], endpoint=endpoint)

        return [
            rule("/bloqs", "GET", self.list_bloqs),
            rule("/bloqs/geoSearch", "GET", self.geo_search),
            rule("/bloqs/<bloq_id>", "GET", self.get_bloq),
            rule("/bloqs/<bloq_id>", "PUT", self.update_bloq),
            rule("/bloqs/<bloq_id>/free-lockers", "GET", self.free_lockers),
            rule("/bloqs/<bloq_id>/lockers/open", "PUT", self.open_lockers),
            rule("/bloqs/<bloq_id>/lockers/<locker_id>/open", "PUT", self.open_locker),
            rule("/bloqs/<bloq_id>/lockers/<locker_id>/close", "PUT", self.close_locker),
            rule("/bloqs/<bloq_id>/lockers/<locker_id>/availability", "PUT", self.locker_availability),
            rule("/bloqs/<bloq_id>/lockers/<locker_id>/open-or-collect", "PUT", self.open_or_collect),
            rule("/rents", "GET", self.list_rents),
            rule("/rents/active", "GET", self.list_active_rents),
            rule("/rents/reached-state", "GET", self.rents_reached_state),
            rule("/rents/external/<path:external_id>", "GET", self.get_rent_by_external_id),
            rule("/rents/<rent_id>", "GET", self.get_rent),
            rule("/rents/<rent_id>", "PUT", self.update_rent),
            rule("/rents/<rent_id>/history", "GET", self.rent_history),
            rule("/rents/<rent_id>/extend", "PUT", self.extend_rent),
            rule("/rents/<rent_id>/lockers/open", "PUT", self.open_rent_locker),
            rule("/rents/<rent_id>/cancel", "PUT", self.cancel_rent),
            rule("/rents/<rent_id>/collect", "PUT", self.collect_rent),
            rule("/rents/<rent_id>/finish", "PUT", self.finish_rent),
            rule("/rent-sims/<rent_id>/lockers/keypad", "PUT", self.sim_keypad),
            rule("/rent-sims/<rent_id>/lockers/close", "PUT", self.sim_close),
            rule("/deliveries", "POST", self.create_delivery),
            rule("/deliveries/<rent_id>/reserve", "PUT", self.reserve_delivery),
            rule("/deliveries/<rent_id>/select-locker", "PUT", self.select_locker),
            rule("/deliveries/<rent_id>/make", "PUT", self.make_delivery),
            rule("/deliveries/<rent_id>/notify", "PUT", self.notify_delivery),
            rule("/deliveries/<rent_id>/ready-for-pickup", "PUT", self.ready_for_pickup),
            rule("/deliveries/<rent_id>/in-transit", "PUT", self.in_transit),
            rule("/deliveries/<rent_id>/return", "PUT", self.return_delivery),
            rule("/returns", "POST", self.create_return),
            rule("/returns/<rent_id>/reserve", "PUT", self.reserve_return),
            rule("/returns/<rent_id>/finish", "PUT", self.finish_return),
            rule("/customers", "POST", self.create_customer),
            rule("/customers", "GET", self.list_customers),
            rule("/customers/<customer_id>", "GET", self.get_customer),
            rule("/customers/<customer_id>", "PUT", self.update_customer),
            rule("/customers/<customer_id>", "DELETE", self.delete_customer),
            rule("/couriers/courier-auth/create-token", "GET", self.create_courier_token),
            rule("/webhooks", "POST", self.create_webhook),
            rule("/webhooks", "GET", self.list_webhooks),
            rule("/webhooks/history", "GET", self.event_history),
            rule("/webhooks/<webhook_id>", "GET", self.get_webhook),
            rule("/webhooks/<webhook_id>", "PUT", self.update_webhook),
            rule("/webhooks/<webhook_id>", "DELETE", self.delete_webhook),
        ]

    def admin_rules(self) -> list[Rule]:
        return [
            Rule("/_admin/state", methods=["GET"], endpoint=self.admin_state),
            Rule("/_admin/rents/<rent_id>", methods=["GET"], endpoint=self.admin_rent),
            Rule("/_admin/rents/<rent_id>/dropoff", methods=["POST"], endpoint=self.admin_dropoff),
            Rule("/_admin/rents/<rent_id>/pickup", methods=["POST"], endpoint=self.admin_pickup),
            Rule("/_admin/rents/<rent_id>/expire", methods=["POST"], endpoint=self.admin_expire),
            Rule("/_admin/rents/<rent_id>/offline-dropoff", methods=["POST"], endpoint=self.admin_offline_dropoff),
            Rule("/_admin/rents/<rent_id>/extend", methods=["POST"], endpoint=self.admin_extend),
            Rule("/_admin/events/<event_type>", methods=["POST"], endpoint=self.admin_event),
            Rule("/_admin/bloqs/<bloq_id>", methods=["POST", "PATCH"], endpoint=self.admin_patch_bloq),
            Rule("/_admin/bloqs/<bloq_id>/lockers", methods=["POST"], endpoint=self.admin_add_lockers),
        ]

    # ------------------------------------------------------------------ request helpers

    def _auth(self, request: Request) -> None:
        if request.headers.get("X-API-KEY") != self.settings.api_key:
            raise self.fail(401, "apiKeyInvalid", "Api Key is either non-existent or invalid.")

    def _body(self, request: Request) -> dict[str, Any]:
        body = json_body(request)
        if not isinstance(body, dict):
            raise self.fail(400, "bodyInvalid", "The request body must be a JSON object.")
        return body

    def _check_id(self, value: str | None, name: str) -> str:
        if not value or not _OBJECT_ID.match(value):
            raise self.fail(400, f"{name}IDInvalid", f"Invalid {name}ID. {name}ID is either missing or has a wrong "
                            "format.")  # fmt: skip
        return value

    def _bloq(self, bloq_id: str | None) -> dict[str, Any]:
        bloq = self.bloqs.get(self._check_id(bloq_id, "bloq"))
        if bloq is None:
            raise self.fail(404, "bloqNotFound", f"Bloq {bloq_id} not found.")
        return bloq

    def _locker_of(self, bloq: dict[str, Any], locker_id: str | None) -> dict[str, Any]:
        locker = self.lockers.get(self._check_id(locker_id, "locker"))
        if locker is None or locker["bloq"] != bloq["_id"]:
            raise self.fail(404, "lockerNotFound", f"Locker {locker_id} not found in bloq {bloq['_id']}.")
        return locker

    def _rent(self, rent_id: str | None) -> dict[str, Any]:
        rent = self.rents.get(self._check_id(rent_id, "rent"))
        if rent is None:
            raise self.fail(404, "rentNotFound", f"Rent {rent_id} not found.")
        return rent

    def _customer(self, customer_id: str | None) -> dict[str, Any]:
        customer = self.customers.get(self._check_id(customer_id, "customer"))
        if customer is None:
            raise self.fail(404, "customerNotFound", f"Customer {customer_id} not found.")
        return customer

    def _require_state(self, rent: dict[str, Any], allowed: tuple[str, ...], action: str) -> None:
        if rent["state"] not in allowed:
            raise self.fail(
                409,
                "rentStateInvalid",
                f"Cannot {action} a rent in the {rent['state']} state (allowed: {', '.join(allowed)}).",
            )

    def _page_args(self, request: Request) -> tuple[int, int]:
        return self.int_arg(request, "page", 1, minimum=0), self.int_arg(request, "limit", 10, minimum=0)

    def _paginate(self, items: list[Any], page: int, limit: int) -> tuple[list[Any], int, int]:
        if limit == 0:
            return items, max(page, 1), 0
        page = max(page, 1)
        return items[(page - 1) * limit : page * limit], page, limit

    def _date_arg(self, request: Request, name: str) -> datetime | None:
        raw = request.args.get(name)
        if not raw:
            return None
        moment = parse_time(raw)
        if moment is None:
            raise self.fail(400, f"{name}Invalid", f"{name} must be a date-time.")
        return moment

    def _list_arg(self, request: Request, name: str) -> list[str]:
        values = request.args.getlist(name) + request.args.getlist(f"{name}[]")
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    # ------------------------------------------------------------------ events and webhooks

    def _actor(
        self, role: str = "partner_admin", actor_id: str | None = None, source: str = API_SOURCE
    ) -> dict[str, Any]:
        if role == "partner_admin" and actor_id is None:
            actor_id = self.settings.admin_id
        return {"role": role, "id": actor_id, "source": source}

    def _event(
        self,
        code: str,
        *,
        rent: dict[str, Any] | None = None,
        locker: dict[str, Any] | None = None,
        bloq_id: str | None = None,
        customer_id: str | None = None,
        actor: dict[str, Any] | None = None,
        message: str = "",
        metadata: dict[str, Any] | None = None,
        title: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        actor = actor or self._actor()
        if rent is not None:
            customer_id = customer_id or rent["customer"]
            locker_id = locker["_id"] if locker else rent["locker"]
            bloq_id = bloq_id or rent["bloq"]
        else:
            locker_id = locker["_id"] if locker else None
            bloq_id = bloq_id or (locker["bloq"] if locker else None)
        price = None
        if rent is not None and code in ("rent.price_calculation", "rent.finished"):
            price = f"{rent['pricing']['price']:.2f}"
        category, _, what = code.partition(".")
        event = {
            "_id": self._new_id(),
            "admin": self.settings.admin_id if actor.get("source") == API_SOURCE else None,
            "customer": customer_id,
            "rent": rent["_id"] if rent is not None else None,
            "bloq": bloq_id,
            "locker": locker_id,
            "price": price,
            "codeName": code,
            "description": description or EVENT_DESCRIPTIONS.get(code, f"Event {code}."),
            "message": message,
            "title": title or f"{category.capitalize()} {what.replace('_', ' ')}".strip(),
            "metadata": metadata or {},
            "actionInitiatedBy": actor,
        }
        self.events.append({**event, "createdAt": iso_ms(self.now())})
        raw = compact_json(event)
        for webhook in self.webhooks.values():
            if code not in webhook["enabledEvents"]:
                continue
            self.emit_webhook(
                WebhookJob(
                    url=webhook["url"],
                    body=event,
                    raw=raw,
                    label=code,
                    headers_factory=self._signer(webhook["secret"]),
                )
            )
        return event

    def _signer(self, secret: str | None) -> Any:
        if not secret:
            return None
        signature_header, timestamp_header = self.settings.signature_header, self.settings.timestamp_header

        def headers(raw: str) -> dict[str, str]:
            timestamp = str(int(time.time() * 1000))
            return {signature_header: sign(f"{timestamp}.{raw}", secret), timestamp_header: timestamp}

        return headers

    def _set_state(self, rent: dict[str, Any], state: str, actor: dict[str, Any], message: str = "") -> None:
        now = iso_ms(self.now())
        if state == "expired":
            rent["_before_expiry"] = rent["state"]
        rent["state"] = state
        rent["states"].append({"state": state, "timestamp": now})
        rent["updatedAt"] = now
        if state == "finished":
            rent["endDate"] = now
            self._release_locker(rent)
        self._event(STATE_EVENTS[state], rent=rent, actor=actor, message=message)

    # ------------------------------------------------------------------ lockers

    def _is_free(self, locker: dict[str, Any]) -> bool:
        return locker["active"] and locker["rent"] is None

    def _open(self, locker: dict[str, Any], actor: dict[str, Any], rent: dict[str, Any] | None = None) -> None:
        locker["isOpen"] = True
        locker["lastDoorOpeningTimestamp"] = iso_ms(self.now())
        self._event("locker.locker_opened", rent=rent, locker=locker, actor=actor)

    def _close(self, locker: dict[str, Any], actor: dict[str, Any], rent: dict[str, Any] | None = None) -> None:
        locker["isOpen"] = False
        self._event("locker.locker_closed", rent=rent, locker=locker, actor=actor)

    def _release_locker(self, rent: dict[str, Any]) -> None:
        locker = self.lockers.get(rent["locker"] or "")
        if locker is not None and locker["rent"] == rent["_id"]:
            locker["rent"] = None

    def _allocate(self, bloq: dict[str, Any], locker_type: str | None, rent_type: str) -> dict[str, Any]:
        if not bloq["active"] or rent_type not in bloq["supports"]:
            raise self.fail(409, "bloqNotAcceptingRents", f"Bloq {bloq['_id']} does not accept {rent_type} rents.")
        if locker_type is not None and locker_type not in LOCKER_TYPES:
            raise self.fail(400, "lockerTypeInvalid", f"lockerType must be one of {', '.join(LOCKER_TYPES)}.")
        candidates = [
            locker
            for locker in bloq["lockers"]
            if self._is_free(locker) and (locker_type is None or locker["type"] == locker_type)
        ]
        if not candidates:
            raise self.fail(409, "noLockersAvailable", f"No free {locker_type or ''} locker in bloq {bloq['_id']}.")
        return min(candidates, key=lambda locker: LOCKER_TYPES.index(locker["type"]))

    def _take(self, rent: dict[str, Any], bloq: dict[str, Any], locker: dict[str, Any]) -> None:
        if not bloq["active"] or rent["type"] not in bloq["supports"]:
            raise self.fail(409, "bloqNotAcceptingRents", f"Bloq {bloq['_id']} does not accept {rent['type']} rents.")
        if locker["rent"] not in (None, rent["_id"]) or not locker["active"]:
            raise self.fail(409, "lockerNotAvailable", f"Locker {locker['_id']} is not available.")
        if rent["locker"] and rent["locker"] != locker["_id"]:
            self._release_locker(rent)
        locker["rent"] = rent["_id"]
        rent["locker"] = locker["_id"]
        rent["bloq"] = bloq["_id"]
        rent["details"].update(
            {"bloqTitle": bloq["details"]["title"], "lockerTitle": locker["lockerTitle"], "lockerType": locker["type"]}
        )
        now = self.now()
        if rent["deliveryDateLimit"] is None and rent["state"] in ("created", "reserved"):
            rent["deliveryDateLimit"] = iso_ms(now + timedelta(hours=bloq["maxRentDeliveryTimeHour"]))
        if rent["expiryDate"] is None:
            start = parse_time(rent["deliveryDateLimit"]) or now
            rent["expiryDate"] = iso_ms(start + timedelta(hours=bloq["maxRentCollectTimeHour"]))

    def _place(self, rent: dict[str, Any], request: Request, *, bloq_required: bool) -> bool:
        """Reserve a locker for the rent from ``bloqID``/``lockerID``/``lockerType`` query args."""
        bloq_id = request.args.get("bloqID") or rent["bloq"]
        locker_id = request.args.get("lockerID")
        locker_type = request.args.get("lockerType") or rent.get("desiredLockerType")
        if locker_id and not bloq_id:
            locker = self.lockers.get(self._check_id(locker_id, "locker"))
            if locker is None:
                raise self.fail(404, "lockerNotFound", f"Locker {locker_id} not found.")
            bloq_id = locker["bloq"]
        if not bloq_id:
            if bloq_required:
                raise self.fail(400, "bloqIDInvalid", "Invalid bloqID. bloqID is either missing or has a wrong format.")
            return False
        bloq = self._bloq(bloq_id)
        locker = self._locker_of(bloq, locker_id) if locker_id else self._allocate(bloq, locker_type, rent["type"])
        self._take(rent, bloq, locker)
        return True

    # ------------------------------------------------------------------ views

    def _customer_view(self, customer: dict[str, Any]) -> dict[str, Any]:
        return dict(customer)

    def _rent_view(self, rent: dict[str, Any], populate: bool = False) -> dict[str, Any]:
        view = {key: value for key, value in rent.items() if not key.startswith("_") or key == "_id"}
        view["states"] = [dict(entry) for entry in rent["states"]]
        view["details"] = dict(rent["details"])
        if populate:
            if rent["customer"] in self.customers:
                view["customer"] = self._customer_view(self.customers[rent["customer"]])
            if rent["locker"] in self.lockers:
                view["locker"] = dict(self.lockers[rent["locker"]])
        return view

    def _bloq_view(self, bloq: dict[str, Any]) -> dict[str, Any]:
        view = json.loads(json.dumps(bloq))
        view["freeLockers"] = sum(1 for locker in bloq["lockers"] if self._is_free(locker))
        view["inactiveLockers"] = sum(1 for locker in bloq["lockers"] if not locker["active"])
        return view

    # ------------------------------------------------------------------ bloqs and lockers

    def _filter_bloqs(self, request: Request, bloqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        active = request.args.get("active", "all")
        if active not in ("all", "active", "inactive"):
            raise self.fail(400, "activeInvalid", "active must be one of all, active, inactive.")
        if active != "all":
            bloqs = [bloq for bloq in bloqs if bloq["active"] == (active == "active")]
        locker_type = request.args.get("lockerType")
        if locker_type:
            if locker_type not in LOCKER_TYPES:
                raise self.fail(400, "lockerTypeInvalid", f"lockerType must be one of {', '.join(LOCKER_TYPES)}.")
            bloqs = [bloq for bloq in bloqs if any(locker["type"] == locker_type for locker in bloq["lockers"])]
        rent_type = request.args.get("rentType")
        if rent_type:
            if rent_type not in RENT_TYPES:
                raise self.fail(400, "rentTypeInvalid", f"rentType must be one of {', '.join(RENT_TYPES)}.")
            bloqs = [bloq for bloq in bloqs if rent_type in bloq["supports"]]
        return bloqs

    def _bloq_page(self, request: Request, bloqs: list[dict[str, Any]]) -> Reply:
        page, limit = self._page_args(request)
        docs, page, limit = self._paginate(bloqs, page, limit)
        return Reply(
            {"totalDocs": len(bloqs), "page": page, "limit": limit, "docs": [self._bloq_view(b) for b in docs]}
        )

    def list_bloqs(self, request: Request) -> Reply:
        self._auth(request)
        return self._bloq_page(request, self._filter_bloqs(request, list(self.bloqs.values())))

    def geo_search(self, request: Request) -> Reply:
        self._auth(request)
        values: dict[str, float] = {}
        for name in ("latitude", "longitude", "maxDistance"):
            raw = request.args.get(name)
            try:
                value = float(raw) if raw is not None else None
            except ValueError:
                value = None
            if value is None:
                raise self.fail(400, f"{name}Invalid", f"{name} is required and must be a number.")
            values[name] = value
        if values["maxDistance"] < 1:
            raise self.fail(400, "maxDistanceInvalid", "maxDistance must be >= 1.")
        near = []
        for bloq in self._filter_bloqs(request, list(self.bloqs.values())):
            lng, lat = bloq["location"]["coordinates"]
            distance = _distance_m(values["latitude"], values["longitude"], lat, lng)
            if distance <= values["maxDistance"]:
                near.append((distance, bloq))
        return self._bloq_page(request, [bloq for _, bloq in sorted(near, key=lambda pair: pair[0])])

    def get_bloq(self, request: Request, bloq_id: str) -> Reply:
        self._auth(request)
        return Reply(self._bloq_view(self._bloq(bloq_id)))

    def update_bloq(self, request: Request, bloq_id: str) -> Reply:
        self._auth(request)
        bloq = self._bloq(bloq_id)
        body = self._body(request)
        allowed = {"active", "title", "city", "code", "address", "postalCode", "country", "location",
                   "maxRentTimeHour", "maxRentDeliveryTimeHour", "maxRentCollectTimeHour", "metadata"}  # fmt: skip
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise self.fail(400, "bodyInvalid", f"Unknown field(s): {', '.join(unknown)}.")
        for key in ("maxRentTimeHour", "maxRentDeliveryTimeHour", "maxRentCollectTimeHour"):
            if key in body and (not isinstance(body[key], int) or body[key] < 1):
                raise self.fail(400, f"{key}Invalid", f"{key} must be an integer >= 1.")
        was_active = bloq["active"]
        for key, value in body.items():
            if key in ("title", "city", "address", "postalCode", "country"):
                bloq["details"][key] = value
            elif key == "location" and isinstance(value, dict):
                if "latitude" in value and "longitude" in value:
                    bloq["location"] = {"type": "Point", "coordinates": [value["longitude"], value["latitude"]]}
                elif "coordinates" in value:
                    bloq["location"] = {"type": "Point", "coordinates": list(value["coordinates"])}
            else:
                bloq[key] = value
        bloq["updatedAt"] = iso_ms(self.now())
        if bloq["active"] != was_active:
            self._event("bloq.active" if bloq["active"] else "bloq.inactive", bloq_id=bloq["_id"])
        return Reply(self._bloq_view(bloq))

    def free_lockers(self, request: Request, bloq_id: str) -> Reply:
        self._auth(request)
        bloq = self._bloq(bloq_id)
        return Reply([dict(locker) for locker in bloq["lockers"] if self._is_free(locker)])

    def open_lockers(self, request: Request, bloq_id: str) -> Reply:
        self._auth(request)
        bloq = self._bloq(bloq_id)
        ids = self._body(request).get("lockers")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise self.fail(400, "lockersInvalid", "lockers must be a non-empty array of locker ids.")
        lockers = [self._locker_of(bloq, locker_id) for locker_id in ids]
        for locker in lockers:
            if locker["rent"] is not None or locker["isOpen"]:
                raise self.fail(409, "lockerNotAvailable", f"Locker {locker['_id']} is allocated to a rent or open.")
        for locker in lockers:
            self._open(locker, self._actor())
        return Reply([locker["_id"] for locker in lockers])

    def open_locker(self, request: Request, bloq_id: str, locker_id: str) -> Reply:
        self._auth(request)
        locker = self._locker_of(self._bloq(bloq_id), locker_id)
        if locker["rent"] is not None:
            raise self.fail(
                409,
                "lockerAllocated",
                f"Locker {locker_id} is allocated to rent {locker['rent']}: use the rent endpoints.",
            )
        self._open(locker, self._actor())
        return Reply(dict(locker))

    def close_locker(self, request: Request, bloq_id: str, locker_id: str) -> Reply:
        self._auth(request)
        locker = self._locker_of(self._bloq(bloq_id), locker_id)
        rent = self.rents.get(locker["rent"] or "")
        if rent is not None and locker["isOpen"]:
            self._closed_on_rent(rent, self._actor("user", None, "locker"))
        else:
            self._close(locker, self._actor("user", None, "locker"))
        return Reply(dict(locker))

    def locker_availability(self, request: Request, bloq_id: str, locker_id: str) -> Reply:
        self._auth(request)
        locker = self._locker_of(self._bloq(bloq_id), locker_id)
        active = self._body(request).get("active")
        if not isinstance(active, bool):
            raise self.fail(400, "activeInvalid", "active is required and must be a boolean.")
        if active != locker["active"]:
            locker["active"] = active
            self._event("locker.locker_active" if active else "locker.locker_inactive", locker=locker)
        return Reply(dict(locker))

    def open_or_collect(self, request: Request, bloq_id: str, locker_id: str) -> Reply:
        self._auth(request)
        locker = self._locker_of(self._bloq(bloq_id), locker_id)
        rent = self.rents.get(locker["rent"] or "")
        if rent is None:
            self._open(locker, self._actor())
        else:
            self._collect(rent, self._actor())
        return Reply(dict(locker))

    # ------------------------------------------------------------------ rent creation

    def _new_rent(self, rent_type: str, body: dict[str, Any], customer_id: str | None) -> dict[str, Any]:
        now = iso_ms(self.now())
        pick_up_codes = body.get("pickUpCodes")
        if not pick_up_codes:
            pick_up_codes = (
                {"default": body["pickUpCode"]} if body.get("pickUpCode") else {"user": self.random_digits(6)}
            )
        rent = {
            "_id": self._new_id(),
            "type": rent_type,
            "state": "created",
            "states": [],
            "customer": customer_id,
            "bloq": None,
            "locker": None,
            "startDate": now,
            "endDate": None,
            "expiryDate": body.get("expiryDate"),
            "deliveryDateLimit": body.get("deliveryDateLimit"),
            "collectTimeLimit": body.get("collectTimeLimit"),
            "externalID": body.get("externalID"),
            "pickUpCode": body.get("pickUpCode"),
            "pickUpCodes": pick_up_codes,
            "dropOffCode": body.get("dropOffCode") or self.random_digits(6),
            "desiredLockerType": body.get("desiredLockerType"),
            "labelContent": body.get("labelContent"),
            "labelTemplateID": body.get("labelTemplateID"),
            "operationType": body.get("operationType"),
            "carrier": body.get("carrier"),
            "prePickUpActions": body.get("prePickUpActions"),
            "notificationOptions": body.get("notificationOptions") or [],
            "details": {},
            "pricing": {"price": 0, "currency": self.settings.currency},
            "createdAt": now,
            "updatedAt": now,
        }
        for key in ("expiryDate", "deliveryDateLimit"):
            if rent[key]:
                rent[key] = iso_ms(parse_time(rent[key]))  # type: ignore[arg-type]
        return rent

    def _validate_rent_body(self, body: dict[str, Any], rent_type: str) -> None:
        if "pickUpCode" in body and "pickUpCodes" in body:
            raise self.fail(400, "pickUpCodeConflict", "Send either pickUpCode or pickUpCodes, not both.")
        code = body.get("pickUpCode")
        if code is not None and (not isinstance(code, str) or len(code) > 14):
            raise self.fail(400, "pickUpCodeInvalid", "pickUpCode must be a string of at most 14 characters.")
        codes = body.get("pickUpCodes")
        if codes is not None and (
            not isinstance(codes, dict) or not all(isinstance(v, str) and v for v in codes.values())
        ):
            raise self.fail(400, "pickUpCodesInvalid", "pickUpCodes must be an object of code name → code.")
        for key in ("expiryDate", "deliveryDateLimit"):
            if body.get(key) is not None and parse_time(body[key]) is None:
                raise self.fail(400, f"{key}Invalid", f"{key} must be a date-time.")
        limit = body.get("collectTimeLimit")
        if rent_type == "delivery" and limit is not None and (not isinstance(limit, int) or limit < 0):
            raise self.fail(400, "collectTimeLimitInvalid", "collectTimeLimit must be a number of hours.")
        options = body.get("notificationOptions")
        if options is not None and (not isinstance(options, list) or any(o not in ("sms", "email") for o in options)):
            raise self.fail(400, "notificationOptionsInvalid", "notificationOptions items must be sms or email.")
        if body.get("desiredLockerType") not in (None, *LOCKER_TYPES):
            raise self.fail(
                400, "desiredLockerTypeInvalid", f"desiredLockerType must be one of {', '.join(LOCKER_TYPES)}."
            )
        if body.get("operationType") not in (None, "firstMile", "lastMile"):
            raise self.fail(400, "operationTypeInvalid", "operationType must be firstMile or lastMile.")
        if body.get("externalID") is not None and not isinstance(body["externalID"], str):
            raise self.fail(400, "externalIDInvalid", "externalID must be a string.")

    def _create_rent(self, request: Request, rent_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a rent (and reserve its locker when the query names a bloq or locker)."""
        customer_id = request.args.get("customerID")
        if customer_id:
            self._customer(customer_id)
        inline = body.get("customer")
        if inline is not None and not isinstance(inline, dict):
            raise self.fail(400, "customerInvalid", "customer must be an object.")
        rent = self._new_rent(rent_type, body, customer_id)
        self.rents[rent["_id"]] = rent
        try:
            placed = self._place(rent, request, bloq_required=False)
        except ApiError:
            del self.rents[rent["_id"]]
            raise
        if not customer_id and inline:
            rent["customer"] = self._add_customer(inline)["_id"]
        self._set_state(rent, "created", self._actor())
        if placed:
            self._set_state(rent, "reserved", self._actor())
        return rent

    def create_delivery(self, request: Request) -> Reply:
        self._auth(request)
        body = self._body(request)
        self._validate_rent_body(body, "delivery")
        has_place = bool(request.args.get("bloqID") or request.args.get("lockerID"))
        if not has_place and not body.get("expiryDate") and not body.get("deliveryDateLimit"):
            raise self.fail(
                400, "expiryDateRequired", "A delivery without a Bloq needs an expiryDate or a deliveryDateLimit."
            )
        return Reply(self._rent_view(self._create_rent(request, "delivery", body)), 201)

    def create_return(self, request: Request) -> Reply:
        self._auth(request)
        body = self._body(request)
        self._validate_rent_body(body, "return")
        previous = self._rent(request.args["rentID"]) if request.args.get("rentID") else None
        if previous is not None:
            body.setdefault("externalID", previous["externalID"])
        rent = self._create_rent(request, "return", body)
        if previous is not None:
            rent["details"]["previousRent"] = previous["_id"]
        return Reply(self._rent_view(rent), 201)

    def _reserve(self, request: Request, rent_id: str, rent_type: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        if rent["type"] != rent_type:
            raise self.fail(409, "rentTypeInvalid", f"Rent {rent_id} is a {rent['type']}, not a {rent_type}.")
        self._require_state(rent, ("created",), "reserve a locker for")
        body = json_body(request) or {}
        if not request.args.get("lockerID") and not request.args.get("lockerType") and not rent["desiredLockerType"]:
            raise self.fail(400, "lockerInvalid", "Send lockerID or lockerType.")
        customer_id = request.args.get("customerID")
        if customer_id:
            self._customer(customer_id)
        self._place(rent, request, bloq_required=True)
        if customer_id:
            rent["customer"] = customer_id
        elif isinstance(body, dict) and isinstance(body.get("customer"), dict) and body["customer"]:
            rent["customer"] = self._add_customer(body["customer"])["_id"]
        self._set_state(rent, "reserved", self._actor())
        return Reply(self._rent_view(rent))

    def reserve_delivery(self, request: Request, rent_id: str) -> Reply:
        return self._reserve(request, rent_id, "delivery")

    def reserve_return(self, request: Request, rent_id: str) -> Reply:
        return self._reserve(request, rent_id, "return")

    def select_locker(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("created", "reserved", "in_transit"), "select a locker for")
        if not request.args.get("lockerID") and not request.args.get("lockerType"):
            raise self.fail(400, "lockerInvalid", "Send lockerID or lockerType.")
        if not rent["bloq"] and not request.args.get("bloqID"):
            raise self.fail(400, "bloqIDInvalid", "Invalid bloqID. bloqID is either missing or has a wrong format.")
        self._place(rent, request, bloq_required=True)
        if rent["state"] == "created":
            self._set_state(rent, "reserved", self._actor())
        return Reply(self._rent_view(rent))

    # ------------------------------------------------------------------ delivery actions

    def make_delivery(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("created", "reserved", "in_transit"), "make")
        if request.args.get("lockerID"):
            self._place(rent, request, bloq_required=False)
        if not rent["locker"]:
            raise self.fail(400, "lockerIDInvalid", "lockerID is required: no locker was selected for this delivery.")
        if rent["state"] == "created":
            self._set_state(rent, "reserved", self._actor())
        self._start_dropoff(rent, self._actor())
        return Reply(self._rent_view(rent))

    def _start_dropoff(self, rent: dict[str, Any], actor: dict[str, Any]) -> None:
        self._open(self.lockers[rent["locker"]], actor, rent)
        self._set_state(rent, "starting", actor)

    def _closed_on_rent(self, rent: dict[str, Any], actor: dict[str, Any]) -> None:
        """The rent's locker was closed: move the rent on accordingly."""
        locker = self.lockers[rent["locker"]]
        self._close(locker, actor, rent)
        state = rent["state"]
        if state == "starting":
            self._set_state(rent, "in_progress", actor)
            hours = rent["collectTimeLimit"]
            if isinstance(hours, int) and hours > 0:
                rent["expiryDate"] = iso_ms(self.now() + timedelta(hours=hours))
            self._event("rent.drop_off_confirmation", rent=rent, actor=actor)
            if rent["notificationOptions"]:
                self._event("rent.automatic_notification_sent", rent=rent, actor=actor)
        elif state == "locker_opened":
            self._set_state(rent, "in_progress", actor)
        elif state == "collect_item":
            self._set_state(rent, "price_calculation", actor)
            self._set_state(rent, "finished", actor)

    def notify_delivery(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("in_progress",), "notify the client of")
        self._event("rent.automatic_notification_sent", rent=rent)
        return Reply(self._rent_view(rent))

    def ready_for_pickup(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("in_progress",), "signal ready for pickup")
        self._set_state(rent, "ready_for_pickup", self._actor())
        return Reply(self._rent_view(rent))

    def in_transit(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("ready_for_pickup",), "signal in transit")
        self._release_locker(rent)
        rent["locker"] = None
        self._set_state(rent, "in_transit", self._actor())
        return Reply(self._rent_view(rent))

    def return_delivery(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        if rent["type"] != "delivery":
            raise self.fail(409, "rentTypeInvalid", f"Rent {rent_id} is not a delivery.")
        self._require_state(rent, ("expired",), "return")
        body = self._body(request)
        expiry = parse_time(body.get("expiryDate")) if body.get("expiryDate") else None
        if body.get("expiryDate") and expiry is None:
            raise self.fail(400, "expiryDateInvalid", "expiryDate must be a date-time.")
        if expiry is None:
            bloq = self.bloqs.get(rent["bloq"] or "")
            expiry = self.now() + timedelta(hours=bloq["maxRentCollectTimeHour"] if bloq else 72)
        rent["type"] = "return"
        rent["expiryDate"] = iso_ms(expiry)
        self._set_state(rent, "in_progress", self._actor())
        return Reply(self._rent_view(rent, populate=True))

    def finish_return(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        if rent["type"] != "return":
            raise self.fail(409, "rentTypeInvalid", f"Rent {rent_id} is not a return.")
        self._require_state(rent, tuple(s for s in RENT_STATES if s != "finished"), "finish")
        self._set_state(rent, "finished", self._actor())
        return Reply(self._rent_view(rent))

    # ------------------------------------------------------------------ rents

    def _filter_rents(self, request: Request, rents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        customer_id = request.args.get("customerID")
        if customer_id:
            rents = [rent for rent in rents if rent["customer"] == customer_id]
        bloq_id = request.args.get("bloqID")
        if bloq_id:
            rents = [rent for rent in rents if rent["bloq"] == bloq_id]
        rent_type = request.args.get("rentType")
        if rent_type:
            rents = [rent for rent in rents if rent["type"] == rent_type]
        states = self._list_arg(request, "rentStates")
        unknown = [state for state in states if state not in RENT_STATES]
        if unknown:
            raise self.fail(400, "rentStatesInvalid", f"Unknown rent state(s): {', '.join(unknown)}.")
        if states:
            rents = [rent for rent in rents if rent["state"] in states]
        query = (request.args.get("customerQuery") or "").lower()
        if query:
            rents = [
                rent
                for rent in rents
                if rent["customer"] in self.customers
                and any(
                    query in str(self.customers[rent["customer"]].get(key) or "").lower()
                    for key in ("email", "phoneNumber")
                )
            ]
        start, end = self._date_arg(request, "startDate"), self._date_arg(request, "endDate")
        if start:
            rents = [rent for rent in rents if parse_time(rent["createdAt"]) >= start]  # type: ignore[operator]
        if end:
            rents = [rent for rent in rents if parse_time(rent["createdAt"]) <= end]  # type: ignore[operator]
        external_id = request.args.get("externalID")
        if external_id:
            rents = [rent for rent in rents if rent["externalID"] == external_id]
        return rents

    def _rent_page(self, request: Request, rents: list[dict[str, Any]]) -> Reply:
        page, limit = self._page_args(request)
        docs, page, limit = self._paginate(rents, page, limit)
        return Reply(
            {"docs": [self._rent_view(r) for r in docs], "totalDocs": len(rents), "limit": limit, "page": page}
        )

    def list_rents(self, request: Request) -> Reply:
        self._auth(request)
        return self._rent_page(request, self._filter_rents(request, list(self.rents.values())))

    def list_active_rents(self, request: Request) -> Reply:
        self._auth(request)
        active = [rent for rent in self.rents.values() if rent["state"] != "finished"]
        return self._rent_page(request, self._filter_rents(request, active))

    def rents_reached_state(self, request: Request) -> Reply:
        self._auth(request)
        state = request.args.get("state")
        if state not in RENT_STATES:
            raise self.fail(400, "stateInvalid", "state is required and must be a rent state.")
        start, end = self._date_arg(request, "from"), self._date_arg(request, "until")
        if start is None or end is None:
            raise self.fail(400, "dateRangeInvalid", "from and until are required.")
        reached = [
            rent
            for rent in self.rents.values()
            if any(
                entry["state"] == state and start <= parse_time(entry["timestamp"]) <= end  # type: ignore[operator]
                for entry in rent["states"]
            )
        ]
        return self._rent_page(request, reached)

    def get_rent_by_external_id(self, request: Request, external_id: str) -> Reply:
        self._auth(request)
        matching = [rent for rent in self.rents.values() if rent["externalID"] == external_id]
        if not matching:
            raise self.fail(404, "rentNotFound", f"No rent with externalID {external_id}.")
        return Reply(self._rent_view(matching[-1], populate=True))

    def get_rent(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        return Reply(self._rent_view(self._rent(rent_id), populate=True))

    def rent_history(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        return Reply([event for event in self.events if event["rent"] == rent["_id"]])

    def update_rent(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        body = self._body(request)
        before_dropoff = ("deliveryDateLimit", "dropOffCode", "labelTemplateID", "labelContent", "desiredLockerType",
                          "pickUpCodes")  # fmt: skip
        before_pickup = ("expiryDate", "externalID", "collectTimeLimit")
        anytime = ("operationType", "prePickUpActions", "carrier")
        unknown = sorted(set(body) - set(before_dropoff) - set(before_pickup) - set(anytime))
        if unknown:
            raise self.fail(400, "bodyInvalid", f"Unknown field(s): {', '.join(unknown)}.")
        if any(key in body for key in before_dropoff):
            self._require_state(rent, ("created", "reserved"), "update the drop-off fields of")
        if any(key in body for key in before_pickup):
            self._require_state(rent, tuple(s for s in RENT_STATES if s not in COLLECTED), "update")
        if rent["state"] == "finished":
            self._require_state(rent, tuple(s for s in RENT_STATES if s != "finished"), "update")
        self._validate_rent_body(body, rent["type"])
        for key, value in body.items():
            moment = parse_time(value) if key in ("expiryDate", "deliveryDateLimit") else None
            rent[key] = iso_ms(moment) if moment is not None else value
        rent["updatedAt"] = iso_ms(self.now())
        return Reply({"docs": [self._rent_view(rent)], "totalDocs": 1, "limit": 10, "page": 1})

    def extend_rent(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._extend(rent, parse_time(self._body(request).get("expiryDate")), self._actor())
        return Reply(self._rent_view(rent, populate=True))

    def _extend(self, rent: dict[str, Any], expiry: datetime | None, actor: dict[str, Any]) -> None:
        """Move the rent's expiry later and send ``rent.extended`` with the new expiry in
        ``metadata.expiryDate`` (an assumption: the doc collapses the event's metadata)."""
        self._require_state(rent, tuple(s for s in RENT_STATES if s not in COLLECTED), "extend")
        if expiry is None:
            raise self.fail(400, "expiryDateInvalid", "expiryDate is required and must be a date-time.")
        if expiry <= self.now():
            raise self.fail(400, "expiryDateInvalid", "expiryDate must be in the future.")
        rent["expiryDate"] = iso_ms(expiry)
        rent["updatedAt"] = iso_ms(self.now())
        self._event("rent.extended", rent=rent, actor=actor, metadata={"expiryDate": rent["expiryDate"]})
        if rent["state"] == "expired":
            self._set_state(rent, rent.pop("_before_expiry", "in_progress"), actor)

    def open_rent_locker(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("in_progress", "starting", "expired"), "open the locker of")
        actor = self._actor()
        self._open(self.lockers[rent["locker"]], actor, rent)
        if rent["state"] == "in_progress":
            self._set_state(rent, "locker_opened", actor)
        return Reply(self._rent_view(rent))

    def cancel_rent(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, CANCELLABLE, "cancel")
        self._set_state(rent, "cancelled", self._actor())
        return Reply(self._rent_view(rent))

    def _collect(self, rent: dict[str, Any], actor: dict[str, Any]) -> None:
        self._require_state(rent, ("in_progress", "expired", "cancelled"), "collect the item of")
        if not rent["locker"]:
            raise self.fail(409, "rentStateInvalid", "The rent holds no locker: finish it instead.")
        self._open(self.lockers[rent["locker"]], actor, rent)
        self._set_state(rent, "collect_item", actor)

    def collect_rent(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._collect(rent, self._actor())
        return Reply(self._rent_view(rent))

    def finish_rent(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("cancelled", "expired"), "finish")
        self._set_state(rent, "finished", self._actor())
        return Reply(self._rent_view(rent))

    # ------------------------------------------------------------------ rents testing

    def sim_keypad(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        self._require_state(rent, ("reserved", "in_progress", "ready_for_pickup"), "open with the keypad")
        if rent["state"] == "reserved":
            actor = self._actor("courier", None, "locker")
            self._event("rent.drop_off_code_check", rent=rent, actor=actor)
            self._start_dropoff(rent, actor)
        else:
            actor = self._actor("customer", rent["customer"], "locker")
            self._open(self.lockers[rent["locker"]], actor, rent)
            self._set_state(rent, "collect_item", actor)
        return Reply(self._rent_view(rent))

    def sim_close(self, request: Request, rent_id: str) -> Reply:
        self._auth(request)
        rent = self._rent(rent_id)
        locker = self.lockers.get(rent["locker"] or "")
        if locker is None or not locker["isOpen"]:
            raise self.fail(409, "lockerClosed", "The locker of this rent is not open.")
        self._closed_on_rent(rent, self._actor("user", rent["customer"], "locker"))
        return Reply(self._rent_view(rent))

    # ------------------------------------------------------------------ customers

    def _add_customer(self, data: dict[str, Any]) -> dict[str, Any]:
        for key in ("name", "email", "phoneNumber", "externalID"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise self.fail(400, f"{key}Invalid", f"{key} must be a string.")
        now = iso_ms(self.now())
        customer: dict[str, Any] = {
            "_id": self._new_id(),
            "partner": self.settings.partner_id,
            "name": data.get("name"),
            "email": data.get("email"),
            "phoneNumber": data.get("phoneNumber"),
            "externalID": data.get("externalID"),
            "createdAt": now,
            "updatedAt": now,
        }
        self.customers[customer["_id"]] = customer
        self._event("customer.customer_created", customer_id=customer["_id"])
        return customer

    def create_customer(self, request: Request) -> Reply:
        self._auth(request)
        return Reply(self._customer_view(self._add_customer(self._body(request))), 201)

    def list_customers(self, request: Request) -> Reply:
        self._auth(request)
        which = request.args.get("withActiveRents", "all")
        if which not in ("all", "with", "without"):
            raise self.fail(400, "withActiveRentsInvalid", "withActiveRents must be all, with or without.")
        busy = {rent["customer"] for rent in self.rents.values() if rent["state"] != "finished"}
        customers = [c for c in self.customers.values() if which == "all" or ((c["_id"] in busy) == (which == "with"))]
        page, limit = self._page_args(request)
        docs, page, limit = self._paginate(customers, page, limit)
        return Reply(
            {"totalDocs": len(customers), "page": page, "limit": limit, "docs": [self._customer_view(c) for c in docs]}
        )

    def get_customer(self, request: Request, customer_id: str) -> Reply:
        self._auth(request)
        return Reply(self._customer_view(self._customer(customer_id)))

    def update_customer(self, request: Request, customer_id: str) -> Reply:
        self._auth(request)
        customer = self._customer(customer_id)
        body = self._body(request)
        unknown = sorted(set(body) - {"name", "email", "phoneNumber", "externalID"})
        if unknown:
            raise self.fail(400, "bodyInvalid", f"Unknown field(s): {', '.join(unknown)}.")
        for key, value in body.items():
            if value is not None and not isinstance(value, str):
                raise self.fail(400, f"{key}Invalid", f"{key} must be a string.")
            customer[key] = value
        customer["updatedAt"] = iso_ms(self.now())
        self._event("customer.customer_updated", customer_id=customer["_id"])
        return Reply(self._customer_view(customer))

    def delete_customer(self, request: Request, customer_id: str) -> Reply:
        self._auth(request)
        customer = self._customer(customer_id)
        del self.customers[customer["_id"]]
        self._event("customer.customer_deleted", customer_id=customer["_id"])
        return Reply(self._customer_view(customer))

    # ------------------------------------------------------------------ webhooks

    def _validate_webhook(self, body: dict[str, Any], partial: bool) -> None:
        url = body.get("url")
        if (url is not None or not partial) and (not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url)):
            raise self.fail(400, "urlInvalid", "url is required and must be an absolute http(s) URL.")
        events = body.get("enabledEvents")
        if events is not None or not partial:
            if not isinstance(events, list) or not events:
                raise self.fail(400, "enabledEventsInvalid", "enabledEvents is required and must be a non-empty array.")
            unknown = [event for event in events if event not in EVENT_TYPES]
            if unknown:
                raise self.fail(400, "enabledEventsInvalid", f"Unknown event type(s): {', '.join(map(str, unknown))}.")
        for key in ("description", "secret"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise self.fail(400, f"{key}Invalid", f"{key} must be a string.")
        unknown_fields = sorted(set(body) - {"url", "enabledEvents", "description", "secret"})
        if unknown_fields:
            raise self.fail(400, "bodyInvalid", f"Unknown field(s): {', '.join(unknown_fields)}.")

    def _add_webhook(self, url: str, events: list[str], secret: str | None, description: str | None) -> dict[str, Any]:
        now = iso_ms(self.now())
        webhook: dict[str, Any] = {
            "_id": self._new_id(),
            "description": description,
            "url": url,
            "enabledEvents": list(events),
            "secret": secret,
            "createdAt": now,
            "updatedAt": now,
        }
        self.webhooks[webhook["_id"]] = webhook
        return webhook

    def _webhook_view(self, webhook: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in webhook.items() if key != "secret"}

    def _webhook(self, webhook_id: str) -> dict[str, Any]:
        webhook = self.webhooks.get(self._check_id(webhook_id, "webhook"))
        if webhook is None:
            raise self.fail(404, "webhookNotFound", f"Webhook {webhook_id} not found.")
        return webhook

    def create_courier_token(self, request: Request) -> Reply:
        """["Create a courier authentication token"]: a JWT for ``courierID``, valid for
        ``expirationDate`` ("1day" by default; a number is milliseconds; "2 days", "10h", "7d").
        Liberty: the doc's sample is ES512-signed by Bloq.It; the sandbox signs HS256 with a key of
        its own (nobody but a Bloq verifies it)."""
        self._auth(request)
        courier = (request.args.get("courierID") or "").strip()
        if not courier:
            raise self.fail(400, "validationError", "courierID is required")
        lifetime = _courier_token_lifetime(request.args.get("expirationDate") or "1day")
        if lifetime is None:
            raise self.fail(
                400, "validationError", "expirationDate: a number of milliseconds or e.g. 60, 2 days, 10h, 7d"
            )
        now = int(self.now().timestamp())
        claims: dict[str, Any] = {"courier_id": courier, "iat": now, "exp": now + int(lifetime)}
        bloqs = request.args.getlist("bloqIDs")
        if bloqs:
            claims["bloqIDs"] = bloqs
        token = jwt.encode(claims, f"courier-tokens-{self.settings.partner_id}", algorithm="HS256")
        return Reply({"token": token})

    def create_webhook(self, request: Request) -> Reply:
        self._auth(request)
        body = self._body(request)
        self._validate_webhook(body, partial=False)
        webhook = self._add_webhook(body["url"], body["enabledEvents"], body.get("secret"), body.get("description"))
        return Reply(self._webhook_view(webhook), 201)

    def list_webhooks(self, request: Request) -> Reply:
        self._auth(request)
        webhooks = list(self.webhooks.values())
        event_type = request.args.get("eventType")
        if event_type:
            webhooks = [w for w in webhooks if event_type in w["enabledEvents"]]
        start, end = self._date_arg(request, "startDate"), self._date_arg(request, "endDate")
        if start:
            webhooks = [w for w in webhooks if parse_time(w["createdAt"]) >= start]  # type: ignore[operator]
        if end:
            webhooks = [w for w in webhooks if parse_time(w["createdAt"]) <= end]  # type: ignore[operator]
        page, limit = self._page_args(request)
        docs, page, limit = self._paginate(webhooks, page, limit)
        return Reply(
            {"totalDocs": len(webhooks), "page": page, "limit": limit, "docs": [self._webhook_view(w) for w in docs]}
        )

    def get_webhook(self, request: Request, webhook_id: str) -> Reply:
        self._auth(request)
        return Reply(self._webhook_view(self._webhook(webhook_id)))

    def update_webhook(self, request: Request, webhook_id: str) -> Reply:
        self._auth(request)
        webhook = self._webhook(webhook_id)
        body = self._body(request)
        self._validate_webhook(body, partial=True)
        webhook.update(body)
        webhook["updatedAt"] = iso_ms(self.now())
        return Reply(self._webhook_view(webhook))

    def delete_webhook(self, request: Request, webhook_id: str) -> Reply:
        self._auth(request)
        webhook = self._webhook(webhook_id)
        del self.webhooks[webhook["_id"]]
        return Reply(self._webhook_view(webhook))

    def event_history(self, request: Request) -> Reply:
        self._auth(request)
        events = list(self.events)
        types = self._list_arg(request, "eventTypes")
        if types:
            events = [event for event in events if event["codeName"] in types]
        start, end = self._date_arg(request, "startDate"), self._date_arg(request, "endDate")
        if start:
            events = [event for event in events if parse_time(event["createdAt"]) >= start]  # type: ignore[operator]
        if end:
            events = [event for event in events if parse_time(event["createdAt"]) <= end]  # type: ignore[operator]
        page, limit = self._page_args(request)
        docs, page, limit = self._paginate(events, page, limit)
        return Reply({"totalDocs": len(events), "page": page, "limit": limit, "docs": docs})

    # ------------------------------------------------------------------ expiry

    def expire(self, rent: dict[str, Any]) -> None:
        self._require_state(rent, EXPIRABLE, "expire")
        self._set_state(rent, "expired", self._actor("system", None, "expiration"))

    def tick(self, now: datetime) -> None:
        if not self.settings.auto_expire:
            return
        for rent in list(self.rents.values()):
            if rent["state"] not in EXPIRABLE:
                continue
            expiry = parse_time(rent["expiryDate"])
            limit = parse_time(rent["deliveryDateLimit"]) if rent["state"] in ("created", "reserved") else None
            if (expiry is not None and expiry <= now) or (limit is not None and limit <= now):
                self.expire(rent)

    # ------------------------------------------------------------------ admin commands

    def dropoff(self, rent_id: str) -> dict[str, Any]:
        """The courier drops the item into the rent's locker. Call under the state lock."""
        rent = self._rent(rent_id)
        self._require_state(rent, ("reserved", "starting"), "drop off")
        if not rent["locker"]:
            raise self.fail(409, "rentStateInvalid", "The rent has no locker yet.")
        actor = self._actor("courier", None, "locker")
        if rent["state"] == "reserved":
            self._event("rent.drop_off_code_check", rent=rent, actor=actor)
            self._start_dropoff(rent, actor)
        self._closed_on_rent(rent, actor)
        return rent

    def pickup(self, rent_id: str) -> dict[str, Any]:
        """The customer collects the item. Call under the state lock."""
        rent = self._rent(rent_id)
        self._require_state(rent, ("in_progress", "ready_for_pickup", "collect_item"), "pick up")
        actor = self._actor("customer", rent["customer"], "locker")
        if rent["state"] != "collect_item":
            self._open(self.lockers[rent["locker"]], actor, rent)
            self._set_state(rent, "collect_item", actor)
        self._closed_on_rent(rent, actor)
        return rent

    def offline_dropoff(self, rent_id: str, *, waiting_sync: bool = False) -> dict[str, Any]:
        """The courier drops the item while the Bloq is offline; the Bloq then reconnects and syncs
        the drop-off with the cloud. Call under the state lock."""
        rent = self._rent(rent_id)
        self._require_state(rent, ("reserved",), "drop off (offline)")
        if not rent["locker"]:
            raise self.fail(409, "rentStateInvalid", "The rent has no locker yet.")
        actor = self._actor("courier", None, "locker")
        locker = self.lockers[rent["locker"]]
        locker["lastDoorOpeningTimestamp"] = iso_ms(self.now())
        self._event("bloq.reconnected", bloq_id=rent["bloq"], actor=self._actor("system", None, "locker"))
        self._event("rent.drop_off_code_check_offline", rent=rent, actor=actor)
        if waiting_sync:
            self._event("rent.waiting_offline_dropoff_sync", rent=rent, actor=actor)
        # The rent now holds the item (in_progress, in its states), but only rent.offline_dropoff
        # says so: the doc announces no rent.in_progress for an offline drop-off.
        now = iso_ms(self.now())
        rent["state"] = "in_progress"
        rent["states"].append({"state": "in_progress", "timestamp": now})
        rent["updatedAt"] = now
        hours = rent["collectTimeLimit"]
        if isinstance(hours, int) and hours > 0:
            rent["expiryDate"] = iso_ms(self.now() + timedelta(hours=hours))
        self._event("rent.offline_dropoff", rent=rent, actor=actor)
        if rent["notificationOptions"]:
            self._event("rent.automatic_notification_sent", rent=rent, actor=actor)
        return rent

    def admin_offline_dropoff(self, request: Request, rent_id: str) -> Reply:
        body = self.admin_json(request)
        waiting_sync = body.get("waiting_sync", False)
        if not isinstance(waiting_sync, bool):
            raise ApiError(400, {"error": "waiting_sync must be a boolean"})
        return Reply(
            {"rent": self._rent_view(self.offline_dropoff(rent_id, waiting_sync=waiting_sync))}, attach_webhooks=True
        )

    def admin_extend(self, request: Request, rent_id: str) -> Reply:
        """Extend a rent as from Bloq.It's backoffice: ``{"expiryDate": ...}`` or ``{"hours": n}``
        (from the rent's current expiry, or from now when it has none or it is past)."""
        rent = self._rent(rent_id)
        body = self.admin_json(request)
        hours = body.get("hours")
        if "expiryDate" in body:
            expiry = parse_time(body["expiryDate"]) if isinstance(body["expiryDate"], str) else None
        elif isinstance(hours, int | float) and not isinstance(hours, bool) and hours > 0:
            start = max(filter(None, (parse_time(rent["expiryDate"]), self.now())))
            expiry = start + timedelta(hours=hours)
        else:
            raise ApiError(400, {"error": "give expiryDate (a date-time) or hours (a positive number)"})
        self._extend(rent, expiry, self._actor("partner_admin", None, "bloq_it_admin"))
        return Reply({"rent": self._rent_view(rent)}, attach_webhooks=True)

    def admin_dropoff(self, request: Request, rent_id: str) -> Reply:
        return Reply({"rent": self._rent_view(self.dropoff(rent_id))}, attach_webhooks=True)

    def admin_pickup(self, request: Request, rent_id: str) -> Reply:
        return Reply({"rent": self._rent_view(self.pickup(rent_id))}, attach_webhooks=True)

    def admin_expire(self, request: Request, rent_id: str) -> Reply:
        rent = self._rent(rent_id)
        self.expire(rent)
        return Reply({"rent": self._rent_view(rent)}, attach_webhooks=True)

    def admin_event(self, request: Request, event_type: str) -> Reply:
        body = self.admin_json(request)
        rent = self._rent(body["rentID"]) if body.get("rentID") else None
        locker = None
        if body.get("lockerID"):
            locker = self.lockers.get(body["lockerID"])
            if locker is None:
                raise self.fail(404, "lockerNotFound", f"Locker {body['lockerID']} not found.")
        if body.get("set_state"):
            if rent is None or event_type not in EVENT_STATES:
                raise ApiError(400, {"error": "set_state needs a rentID and a rent state event"})
            rent["state"] = EVENT_STATES[event_type]
            rent["states"].append({"state": rent["state"], "timestamp": iso_ms(self.now())})
        actor = body.get("actionInitiatedBy") or self._actor("bloq_it_admin", None, "bloq_it_admin")
        event = self._event(
            event_type,
            rent=rent,
            locker=locker,
            bloq_id=body.get("bloqID"),
            customer_id=body.get("customerID"),
            actor=actor,
            message=str(body.get("message") or ""),
            metadata=body.get("metadata"),
            title=body.get("title"),
            description=body.get("description"),
        )
        return Reply({"event": event}, attach_webhooks=True)

    def admin_patch_bloq(self, request: Request, bloq_id: str) -> Reply:
        bloq = self._bloq(bloq_id)
        patch = self.admin_json(request)
        patch.pop("_id", None)
        patch.pop("lockers", None)
        bloq.update(patch)
        return Reply(self._bloq_view(bloq))

    def admin_add_lockers(self, request: Request, bloq_id: str) -> Reply:
        """``{"type": "M", "count": 8}``: the Bloq gets that many more free lockers of that size (a
        bigger Bloq for tests that need many at once)."""
        bloq = self._bloq(bloq_id)
        body = self.admin_json(request)
        size, count = body.get("type"), body.get("count", 1)
        if size not in {"XS", "S", "M", "L", "XL"} or not isinstance(count, int) or not 1 <= count <= 100:
            raise ApiError(400, {"error": "give type (XS, S, M, L, XL) and count (1 to 100)"})
        added = []
        for _ in range(count):
            locker_id = f"{len(self.lockers):024x}"
            locker = _locker(bloq["_id"], locker_id, f"E{len(bloq['lockers']) + 1}", size)
            bloq["lockers"].append(locker)
            self.lockers[locker_id] = locker
            added.append(locker_id)
        return Reply({"added": added}, 201)

    def admin_state(self, request: Request) -> Reply:
        return Reply(
            {
                "bloqs": [self._bloq_view(b) for b in self.bloqs.values()],
                "rents": [self._rent_view(r) for r in self.rents.values()],
                "customers": list(self.customers.values()),
                "webhooks": list(self.webhooks.values()),
                "events": self.events,
            }
        )

    def admin_rent(self, request: Request, rent_id: str) -> Reply:
        return Reply(self._rent_view(self._rent(rent_id)))


_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}


def _courier_token_lifetime(text: str) -> float | None:
    """Seconds from a courier token's ``expirationDate`` (the ``ms`` package's format, as the doc
    says: a bare number is milliseconds)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if found is None:
        return None
    value, unit = float(found[1]), found[2].lower()
    if not unit:
        return value / 1000
    factor = _DURATION_UNITS.get(unit)
    return None if factor is None or value <= 0 else value * factor
