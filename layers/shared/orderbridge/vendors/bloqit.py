"""Bloq.It Partner API client (vendor-docs/bloqit-partner-api.txt, API 1.35.0).

One method per endpoint of the doc; every method returns pydantic models from
:mod:`orderbridge.models.bloqit`. Transport, authentication header, timeouts, retries and the error
hierarchy are the shared :class:`~orderbridge.vendors.http.VendorHttpClient`'s: 400/401/403/404/409
raise permanent errors (``VendorNotFound``, ``VendorConflict``, ...) at once; 429/500/502/504 and
timeouts are retried, then raised as ``RetryableVendorError``. Bloq.It's own ``code``/``message``
travel on the error.

Paths. The doc's request samples give the URL of every endpoint without a request body; for the
endpoints with a JSON body the doc shows only the body. Those paths follow the API's own pattern
(CRUD on the resource collection, ``PUT <resource>/<id>/<action>`` for actions) and are marked
``# path inferred`` below: if Bloq.It answers 404 on one of them, that table is the place to fix.

Query encoding. Arrays (``rentStates``, ``bloqIDs``, ``eventTypes``) are sent as repeated keys
(OpenAPI's default ``form``/``explode``); the courier token ``metadata`` object as
``metadata[key]=value`` (the bracket notation a Node/``qs`` server reads back as an object).
Datetimes go out as ISO 8601 UTC with ``Z``; naive datetimes are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, Final, TypedDict, TypeVar, Unpack
from urllib.parse import quote

from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError

from orderbridge.models.bloqit import (
    Bloq,
    BloqActiveFilter,
    BloqitEvent,
    BloqitMessage,
    BloqitRequest,
    BloqLocation,
    BloqLocationCreate,
    BloqLocationState,
    BloqLocationUpdate,
    BloqUpdate,
    CourierAuthToken,
    Customer,
    CustomerInput,
    CustomersWithActiveRents,
    DeliveryCreate,
    ExpiryDateChange,
    LabelPrint,
    LabelsAvailable,
    Locker,
    LockerAvailability,
    LockersOpen,
    LockerType,
    NotificationOption,
    OperationType,
    Page,
    Rent,
    RentType,
    RentUpdate,
    ReturnCreate,
    ReturnReserve,
    SendStart,
    StoreEnd,
    StoreStart,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
    iso_z,
)
from orderbridge.models.states import RentState
from orderbridge.vendors.api_client import VendorApiClient
from orderbridge.vendors.credentials import BloqitCredentials
from orderbridge.vendors.http import PermanentVendorError, decode_json

VENDOR: Final = "bloqit"
API_PREFIX = "/api/v1/public"
DEFAULT_ITER_LIMIT = 50

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_LOCKERS = TypeAdapter(list[Locker])
_IDS = TypeAdapter(list[str])
_EVENTS = TypeAdapter(list[BloqitEvent])
_RENT = TypeAdapter(Rent)
_RENT_PAGE = TypeAdapter(Page[Rent])

QueryValue = str | int | float | Decimal | bool | datetime | Enum | Sequence[Any] | Mapping[str, Any] | None


def _segment(value: str) -> str:
    """One path segment: percent-encoded, so an id with ``/`` or ``?`` cannot change the path."""
    text = str(value).strip()
    if not text:
        raise ValueError("an id is required")
    return quote(text, safe="")


def _scalar(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("datetimes sent to Bloq.It must be timezone-aware")
        return iso_z(value)
    return str(value)


Query = dict[str, str | list[str]]


def _query(**params: QueryValue) -> Query:
    """Query parameters in the doc's names; ``None`` values are left out, lists repeat the key."""
    query: Query = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            query.update({f"{name}[{key}]": _scalar(item) for key, item in value.items() if item is not None})
        elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
            query[name] = [_scalar(item) for item in value]
        else:
            query[name] = _scalar(value)
    return query


def _doc_name(name: str) -> str:
    """The doc's name of one of our keyword filters: ``customer_id`` → ``customerID``."""
    first, *rest = name.split("_")
    return first + "".join({"id": "ID", "ids": "IDs"}.get(part, part.capitalize()) for part in rest)


def _filters(filters: Mapping[str, Any]) -> dict[str, QueryValue]:
    """Keyword filters (one of the ``*Filters`` below) under the doc's parameter names."""
    return {_doc_name(name): value for name, value in filters.items()}


class BloqFilters(TypedDict, total=False):
    """Filters of the Bloq lists (:meth:`BloqitClient.list_bloqs`, ``search_bloqs_near``)."""

    active: BloqActiveFilter | None
    locker_type: LockerType | None
    rent_type: RentType | None


class BloqLocationFilters(TypedDict, total=False):
    external_id: str | None
    name: str | None
    address: str | None
    state: BloqLocationState | None


class ActiveRentFilters(TypedDict, total=False):
    """Filters of the active rents; ``customer_query`` matches a customer's e-mail or phone."""

    customer_id: str | None
    bloq_id: str | None
    rent_type: RentType | None
    rent_states: Sequence[RentState] | None
    customer_query: str | None
    start_date: datetime | None
    external_id: str | None


class RentFilters(ActiveRentFilters, total=False):
    """Filters of all rents: those of the active rents and an ``end_date``."""

    end_date: datetime | None


class CustomerFilters(TypedDict, total=False):
    with_active_rents: CustomersWithActiveRents | None


class DateRangeFilters(TypedDict, total=False):
    start_date: datetime | None
    end_date: datetime | None


class WebhookFilters(DateRangeFilters, total=False):
    event_type: str | None


class EventHistoryFilters(DateRangeFilters, total=False):
    event_types: Sequence[str] | None


@cache
def _adapter(model: type[M]) -> TypeAdapter[M]:
    return TypeAdapter(model)


def _parse(adapter: TypeAdapter[T], data: Any) -> T:
    """Validate an answer; a shape the doc does not describe is a permanent vendor error.

    The error names the fields only: pydantic's own message quotes input values (phones, e-mails).
    """
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        fields = ", ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<root>'} ({error['type']})"
            for error in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise PermanentVendorError(VENDOR, f"unexpected answer shape: {fields}") from None


def _page_walk(fetch: Callable[[int], Page[T]], limit: int) -> Iterator[T]:
    """Yield every document of a paginated list, page by page from page 1.

    Stops on an empty page or once ``page * limit >= totalDocs`` (see :meth:`Page.is_last`).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1 to walk pages")
    page_number = 1
    while True:
        page = fetch(page_number)
        yield from page.docs
        if page.is_last(page_number, limit):
            return
        page_number += 1


class BloqitClient(VendorApiClient[BloqitCredentials]):
    """Typed client of the Bloq.It Partner API. Build it once per container with :meth:`create`."""

    _vendor = VENDOR

    # -- plumbing ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: BloqitRequest | None = None,
    ) -> Any:
        json_body = body.to_body() if body is not None else None
        response = self._http.request(method, API_PREFIX + path, params=params or None, json=json_body)
        return decode_json(response)

    def _one(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        adapter: TypeAdapter[M] = _adapter(model)
        return _parse(adapter, self._call(method, path, **kwargs))

    # -- Bloqs ---------------------------------------------------------------------------------

    def list_bloqs(self, *, page: int = 1, limit: int = 10, **filters: Unpack[BloqFilters]) -> Page[Bloq]:
        """List all Bloqs (one page)."""
        params = _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[Bloq], "GET", "/bloqs", params=params)

    def iter_bloqs(self, *, limit: int = DEFAULT_ITER_LIMIT, **filters: Unpack[BloqFilters]) -> Iterator[Bloq]:
        return _page_walk(lambda n: self.list_bloqs(page=n, limit=limit, **filters), limit)

    def get_bloq(self, bloq_id: str) -> Bloq:
        return self._one(Bloq, "GET", f"/bloqs/{_segment(bloq_id)}")

    def get_free_lockers(self, bloq_id: str) -> list[Locker]:
        """Lockers of a Bloq that are active and without a rent."""
        return _parse(_LOCKERS, self._call("GET", f"/bloqs/{_segment(bloq_id)}/free-lockers"))

    def search_bloqs_near(
        self,
        *,
        latitude: Decimal | float,
        longitude: Decimal | float,
        max_distance: int,
        page: int = 1,
        limit: int = 10,
        **filters: Unpack[BloqFilters],
    ) -> Page[Bloq]:
        """Get Bloqs by Locations: Bloqs within ``max_distance`` metres of a point (one page)."""
        if max_distance < 1:
            raise ValueError("max_distance must be at least 1 metre")
        point = _query(latitude=latitude, longitude=longitude, maxDistance=max_distance)
        params = point | _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[Bloq], "GET", "/bloqs/geoSearch", params=params)

    def iter_bloqs_near(
        self,
        *,
        latitude: Decimal | float,
        longitude: Decimal | float,
        max_distance: int,
        limit: int = DEFAULT_ITER_LIMIT,
        **filters: Unpack[BloqFilters],
    ) -> Iterator[Bloq]:
        def fetch(page: int) -> Page[Bloq]:
            return self.search_bloqs_near(
                latitude=latitude, longitude=longitude, max_distance=max_distance, page=page, limit=limit, **filters
            )

        return _page_walk(fetch, limit)

    def update_bloq(self, bloq_id: str, update: BloqUpdate) -> Bloq:
        """Update Bloq: only the fields set on ``update`` change."""
        return self._one(Bloq, "PUT", f"/bloqs/{_segment(bloq_id)}", body=update)  # path inferred

    # -- Lockers -------------------------------------------------------------------------------

    def open_locker(self, bloq_id: str, locker_id: str) -> Locker:
        """Open a locker that has no rent (a rented one opens through its rent)."""
        return self._one(Locker, "PUT", f"/bloqs/{_segment(bloq_id)}/lockers/{_segment(locker_id)}/open")

    def open_lockers(self, bloq_id: str, locker_ids: Sequence[str]) -> list[str]:
        """Open several free, closed lockers of one Bloq; returns the ids opened."""
        body = LockersOpen(lockers=list(locker_ids))
        data = self._call("PUT", f"/bloqs/{_segment(bloq_id)}/lockers/open", body=body)  # path inferred
        return _parse(_IDS, data)

    def close_locker(self, bloq_id: str, locker_id: str) -> Locker:
        """Close a Locker (virtual): simulate a door closing. For testing (demo server)."""
        return self._one(Locker, "PUT", f"/bloqs/{_segment(bloq_id)}/lockers/{_segment(locker_id)}/close")

    def set_locker_availability(self, bloq_id: str, locker_id: str, *, active: bool) -> Locker:
        """Enable (``active=True``) or disable a locker for new rents."""
        path = f"/bloqs/{_segment(bloq_id)}/lockers/{_segment(locker_id)}/availability"  # path inferred
        return self._one(Locker, "PUT", path, body=LockerAvailability(active=active))

    def open_or_collect(self, bloq_id: str, locker_id: str) -> Locker:
        """Collect the item of the locker's rent, or just open the locker when it has none."""
        path = f"/bloqs/{_segment(bloq_id)}/lockers/{_segment(locker_id)}/open-or-collect"
        return self._one(Locker, "PUT", path)

    # -- Bloq Locations ------------------------------------------------------------------------

    def create_bloq_location(self, location: BloqLocationCreate) -> BloqLocation:
        return self._one(BloqLocation, "POST", "/bloq-locations", body=location)  # path inferred

    def list_bloq_locations(
        self, *, page: int = 1, limit: int = 10, **filters: Unpack[BloqLocationFilters]
    ) -> Page[BloqLocation]:
        params = _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[BloqLocation], "GET", "/bloq-locations", params=params)

    def iter_bloq_locations(
        self, *, limit: int = DEFAULT_ITER_LIMIT, **filters: Unpack[BloqLocationFilters]
    ) -> Iterator[BloqLocation]:
        return _page_walk(lambda n: self.list_bloq_locations(page=n, limit=limit, **filters), limit)

    def get_bloq_location(self, bloq_location_id: str) -> BloqLocation:
        return self._one(BloqLocation, "GET", f"/bloq-locations/{_segment(bloq_location_id)}")

    def update_bloq_location(self, bloq_location_id: str, update: BloqLocationUpdate) -> BloqLocation:
        path = f"/bloq-locations/{_segment(bloq_location_id)}"  # path inferred
        return self._one(BloqLocation, "PUT", path, body=update)

    def get_bloq_location_by_external_id(self, external_id: str) -> BloqLocation:
        return self._one(BloqLocation, "GET", f"/bloq-locations/external-id/{_segment(external_id)}")

    def update_bloq_location_by_external_id(self, external_id: str, update: BloqLocationUpdate) -> BloqLocation:
        path = f"/bloq-locations/external-id/{_segment(external_id)}"  # path inferred
        return self._one(BloqLocation, "PUT", path, body=update)

    # -- Printer -------------------------------------------------------------------------------

    def list_labels_available(self, *, page: int = 1, limit: int = 10) -> Page[LabelsAvailable]:
        """Labels left in every Bloq's printer (one page; ``page=0, limit=0`` asks for all Bloqs)."""
        params = _query(page=page, limit=limit)
        return self._one(Page[LabelsAvailable], "GET", "/bloqs/labels-amount-available", params=params)

    def iter_labels_available(self, *, limit: int = DEFAULT_ITER_LIMIT) -> Iterator[LabelsAvailable]:
        return _page_walk(lambda n: self.list_labels_available(page=n, limit=limit), limit)

    def get_labels_available(self, bloq_id: str) -> LabelsAvailable:
        return self._one(LabelsAvailable, "GET", f"/bloqs/{_segment(bloq_id)}/labels-amount-available")

    def print_label(
        self, bloq_id: str, *, template_id: str | None = None, content: Mapping[str, Any] | None = None
    ) -> Locker:
        """Print a label on a Bloq that has a printer, filling template ``template_id`` with ``content``."""
        if content and not template_id:
            raise ValueError("a templateID is required when content is sent")
        body = LabelPrint(content=dict(content) if content is not None else None)
        path = f"/bloqs/{_segment(bloq_id)}/print-label"  # path and method inferred
        return self._one(Locker, "PUT", path, params=_query(templateID=template_id), body=body)

    def notify_label_roll_replacement(self, bloq_id: str) -> BloqitMessage:
        """Tell Bloq.It the printer's label roll of a Bloq was replaced."""
        return self._one(BloqitMessage, "PUT", f"/bloqs/{_segment(bloq_id)}/notify-label-replacement")

    # -- Rents ---------------------------------------------------------------------------------

    def list_rents(self, *, page: int = 1, limit: int = 10, **filters: Unpack[RentFilters]) -> Page[Rent]:
        """List all rents (one page). ``customer_query`` matches a customer's e-mail or phone."""
        params = _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[Rent], "GET", "/rents", params=params)

    def iter_rents(self, *, limit: int = DEFAULT_ITER_LIMIT, **filters: Unpack[RentFilters]) -> Iterator[Rent]:
        """Every rent matching the filters of :meth:`list_rents`, walking all pages."""
        return _page_walk(lambda n: self.list_rents(page=n, limit=limit, **filters), limit)

    def list_active_rents(self, *, page: int = 1, limit: int = 10, **filters: Unpack[ActiveRentFilters]) -> Page[Rent]:
        """List all active (not finished) rents (one page)."""
        params = _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[Rent], "GET", "/rents/active", params=params)

    def iter_active_rents(
        self, *, limit: int = DEFAULT_ITER_LIMIT, **filters: Unpack[ActiveRentFilters]
    ) -> Iterator[Rent]:
        return _page_walk(lambda n: self.list_active_rents(page=n, limit=limit, **filters), limit)

    def list_rents_with_state(
        self,
        state: RentState,
        *,
        reached_from: datetime,
        reached_until: datetime,
        page: int = 1,
        limit: int = 10,
    ) -> Page[Rent]:
        """List all rents with state: rents that reached ``state`` between ``from`` and ``until``."""
        params = _query(page=page, limit=limit, state=state, until=reached_until, **{"from": reached_from})
        return self._one(Page[Rent], "GET", "/rents/reached-state", params=params)

    def iter_rents_with_state(
        self,
        state: RentState,
        *,
        reached_from: datetime,
        reached_until: datetime,
        limit: int = DEFAULT_ITER_LIMIT,
    ) -> Iterator[Rent]:
        return _page_walk(
            lambda n: self.list_rents_with_state(
                state, reached_from=reached_from, reached_until=reached_until, page=n, limit=limit
            ),
            limit,
        )

    def get_rent_by_external_id(self, external_id: str) -> Rent:
        """Retrieve a rent by its external ID (ours: the order id)."""
        return self._one(Rent, "GET", f"/rents/external/{_segment(external_id)}")

    def get_rent_history(self, rent_id: str) -> list[BloqitEvent]:
        """Everything that happened to a rent, as events. The doc also lists ``rentID`` as a query
        parameter; it is sent in both places."""
        data = self._call("GET", f"/rents/{_segment(rent_id)}/history", params=_query(rentID=rent_id))
        return _parse(_EVENTS, data)

    def get_rent(self, rent_id: str) -> Rent:
        return self._one(Rent, "GET", f"/rents/{_segment(rent_id)}")

    def update_rent(self, rent_id: str, update: RentUpdate) -> Rent:
        """Update Rent: only the fields set on ``update`` change.

        The doc's response sample for this endpoint is a page of rents, not a rent. Either shape is
        accepted: a rent is returned as is, a page gives the rent with this id, and when the page
        does not hold it the rent is fetched again.
        """
        data = self._call("PUT", f"/rents/{_segment(rent_id)}", body=update)  # path inferred
        if isinstance(data, Mapping) and "docs" in data:
            page = _parse(_RENT_PAGE, data)
            for rent in page.docs:
                if rent.id == rent_id:
                    return rent
            return self.get_rent(rent_id)
        return _parse(_RENT, data)

    def extend_rent_expiry(self, rent_id: str, expiry_date: datetime) -> Rent:
        """Extend a rent's expiry date to ``expiry_date``."""
        body = ExpiryDateChange(expiry_date=expiry_date)
        return self._one(Rent, "PUT", f"/rents/{_segment(rent_id)}/extend", body=body)  # path inferred

    def open_rent_locker(self, rent_id: str) -> Rent:
        """Open the locker of a rent (rent state to locker_opened)."""
        return self._one(Rent, "PUT", f"/rents/{_segment(rent_id)}/lockers/open")

    def cancel_rent(self, rent_id: str) -> Rent:
        """Cancel a rent. The locker stays allocated: then :meth:`collect_item` or :meth:`finish_rent`."""
        return self._one(Rent, "PUT", f"/rents/{_segment(rent_id)}/cancel")

    def collect_item(self, rent_id: str) -> Rent:
        """Collect an Item: open the locker of an in-progress, expired or cancelled rent."""
        return self._one(Rent, "PUT", f"/rents/{_segment(rent_id)}/collect")

    def finish_rent(self, rent_id: str) -> Rent:
        """Finish a cancelled or expired rent without opening the locker (frees the locker)."""
        return self._one(Rent, "PUT", f"/rents/{_segment(rent_id)}/finish")

    # -- Rents testing (demo server) -----------------------------------------------------------

    def simulate_keypad_open(self, rent_id: str) -> Rent:
        """Simulate a correct pick-up code typed on the keypad (testing only)."""
        return self._one(Rent, "PUT", f"/rent-sims/{_segment(rent_id)}/lockers/keypad")

    def simulate_locker_close(self, rent_id: str) -> Rent:
        """Simulate the rent's locker door being closed (testing only)."""
        return self._one(Rent, "PUT", f"/rent-sims/{_segment(rent_id)}/lockers/close")

    # -- Store and Send operations -------------------------------------------------------------

    def start_store(
        self,
        locker_id: str,
        *,
        customer_id: str | None = None,
        pick_up_codes: Mapping[str, str] | None = None,
    ) -> Rent:
        body = StoreStart(pick_up_codes=dict(pick_up_codes) if pick_up_codes is not None else None)
        params = _query(lockerID=_required(locker_id), customerID=customer_id)
        return self._one(Rent, "POST", "/stores", params=params, body=body)  # path inferred

    def end_store(self, rent_id: str, *, open_locker: bool = False) -> Rent:
        body = StoreEnd(open_locker=open_locker)
        return self._one(Rent, "PUT", f"/stores/{_segment(rent_id)}/end", body=body)  # path inferred

    def start_send(
        self,
        locker_id: str,
        *,
        phone_number: str,
        customer_id: str | None = None,
        pick_up_codes: Mapping[str, str] | None = None,
    ) -> Rent:
        body = SendStart(
            phone_number=phone_number,
            pick_up_codes=dict(pick_up_codes) if pick_up_codes is not None else None,
        )
        params = _query(lockerID=_required(locker_id), customerID=customer_id)
        return self._one(Rent, "POST", "/sends", params=params, body=body)  # path inferred

    # -- Delivery operations -------------------------------------------------------------------

    def create_delivery(
        self,
        delivery: DeliveryCreate,
        *,
        bloq_id: str | None = None,
        locker_id: str | None = None,
        customer_id: str | None = None,
    ) -> Rent:
        """Create Delivery Operation (a rent of type delivery), optionally reserving a Bloq/locker.

        Without a Bloq the doc requires an ``expiryDate`` or a ``deliveryDateLimit``.
        """
        has_limit = delivery.expiry_date is not None or delivery.delivery_date_limit is not None
        if not (bloq_id or locker_id or has_limit):
            raise ValueError("a delivery without a Bloq needs an expiryDate or a deliveryDateLimit")
        if customer_id and delivery.customer is not None:
            raise ValueError("pass customer_id or a customer object, not both")
        params = _query(lockerID=locker_id, bloqID=bloq_id, customerID=customer_id)
        return self._one(Rent, "POST", "/deliveries", params=params, body=delivery)  # path inferred

    def create_order_delivery(
        self,
        order_id: str,
        *,
        expiry_date: datetime,
        bloq_id: str | None = None,
        locker_id: str | None = None,
        desired_locker_type: LockerType | None = None,
        customer: CustomerInput | None = None,
        customer_id: str | None = None,
        pick_up_code: str | None = None,
        pick_up_codes: Mapping[str, str] | None = None,
        drop_off_code: str | None = None,
        delivery_date_limit: datetime | None = None,
        collect_time_limit_hours: int | None = None,
        notification_options: Sequence[NotificationOption] | None = None,
        operation_type: OperationType = OperationType.LAST_MILE,
        carrier: str | None = None,
    ) -> Rent:
        """Create the delivery rent for one of our orders: ``externalID`` is the order id.

        The customer picks up with ``pick_up_code`` (or named ``pick_up_codes``, not both); the
        courier drops off with ``drop_off_code``; the rent expires at ``expiry_date``. Give a Bloq
        (and a locker, or a ``desired_locker_type``) to reserve now, or none to select one later.
        """
        delivery = DeliveryCreate(
            external_id=_required(order_id),
            expiry_date=expiry_date,
            delivery_date_limit=delivery_date_limit,
            collect_time_limit=collect_time_limit_hours,
            customer=customer,
            pick_up_code=pick_up_code,
            pick_up_codes=dict(pick_up_codes) if pick_up_codes is not None else None,
            drop_off_code=drop_off_code,
            desired_locker_type=desired_locker_type,
            notification_options=list(notification_options) if notification_options is not None else None,
            operation_type=operation_type,
            carrier=carrier,
        )
        return self.create_delivery(delivery, bloq_id=bloq_id, locker_id=locker_id, customer_id=customer_id)

    def make_delivery(self, rent_id: str, *, locker_id: str | None = None) -> Rent:
        """Make Delivery: rent to starting, open the reserved locker (``locker_id`` replaces it)."""
        return self._one(Rent, "PUT", f"/deliveries/{_segment(rent_id)}/make", params=_query(lockerID=locker_id))

    def notify_delivery_client(self, rent_id: str) -> Rent:
        """Notify Client that the delivery is ready for pick-up (rent must be in_progress)."""
        return self._one(Rent, "PUT", f"/deliveries/{_segment(rent_id)}/notify")

    def mark_delivery_ready_for_pickup(self, rent_id: str) -> Rent:
        return self._one(Rent, "PUT", f"/deliveries/{_segment(rent_id)}/ready-for-pickup")

    def mark_delivery_in_transit(self, rent_id: str) -> Rent:
        return self._one(Rent, "PUT", f"/deliveries/{_segment(rent_id)}/in-transit")

    def select_delivery_locker(
        self,
        rent_id: str,
        *,
        bloq_id: str | None = None,
        locker_id: str | None = None,
        locker_type: LockerType | None = None,
    ) -> Rent:
        """Select Locker for a delivery created without one: a ``locker_id`` or a ``locker_type``
        (``bloq_id`` too if the rent has no Bloq yet)."""
        if not locker_id and locker_type is None:
            raise ValueError("select a locker by locker_id or by locker_type")
        params = _query(bloqID=bloq_id, lockerID=locker_id, lockerType=locker_type)
        return self._one(Rent, "PUT", f"/deliveries/{_segment(rent_id)}/select-locker", params=params)

    def return_delivery(self, rent_id: str, *, expiry_date: datetime) -> Rent:
        """Return a delivery: turn an expired delivery into a return expiring at ``expiry_date``."""
        body = ExpiryDateChange(expiry_date=expiry_date)
        return self._one(Rent, "PUT", f"/deliveries/{_segment(rent_id)}/return", body=body)  # path inferred

    # -- Return operations ---------------------------------------------------------------------

    def create_return(
        self,
        details: ReturnCreate | None = None,
        *,
        bloq_id: str | None = None,
        locker_id: str | None = None,
        locker_type: LockerType | None = None,
        previous_rent_id: str | None = None,
        customer_id: str | None = None,
    ) -> Rent:
        """Create a Return (in a Bloq by locker type, by locker, for a previous rent, or unplaced)."""
        params = _query(
            lockerID=locker_id,
            bloqID=bloq_id,
            customerID=customer_id,
            lockerType=locker_type,
            rentID=previous_rent_id,
        )
        body = details or ReturnCreate()
        return self._one(Rent, "POST", "/returns", params=params, body=body)  # path inferred

    def reserve_return_locker(
        self,
        rent_id: str,
        *,
        bloq_id: str,
        locker_id: str | None = None,
        locker_type: LockerType | None = None,
        customer_id: str | None = None,
        customer: CustomerInput | None = None,
    ) -> Rent:
        """Reserve Locker for a return created without one (rent moves to reserved)."""
        if not locker_id and locker_type is None:
            raise ValueError("reserve a locker by locker_id or by locker_type")
        params = _query(bloqID=_required(bloq_id), lockerID=locker_id, lockerType=locker_type, customerID=customer_id)
        path = f"/returns/{_segment(rent_id)}/reserve"  # path inferred
        return self._one(Rent, "PUT", path, params=params, body=ReturnReserve(customer=customer))

    def finish_return(self, rent_id: str) -> Rent:
        """Finish a Return and free its locker."""
        return self._one(Rent, "PUT", f"/returns/{_segment(rent_id)}/finish")

    # -- Customers -----------------------------------------------------------------------------

    def create_customer(
        self, *, name: str | None = None, email: str | None = None, phone_number: str | None = None
    ) -> Customer:
        body = CustomerInput(name=name, email=email, phone_number=phone_number)
        return self._one(Customer, "POST", "/customers", body=body)  # path inferred

    def list_customers(self, *, page: int = 1, limit: int = 10, **filters: Unpack[CustomerFilters]) -> Page[Customer]:
        params = _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[Customer], "GET", "/customers", params=params)

    def iter_customers(
        self, *, limit: int = DEFAULT_ITER_LIMIT, **filters: Unpack[CustomerFilters]
    ) -> Iterator[Customer]:
        return _page_walk(lambda n: self.list_customers(page=n, limit=limit, **filters), limit)

    def get_customer(self, customer_id: str) -> Customer:
        return self._one(Customer, "GET", f"/customers/{_segment(customer_id)}")

    def update_customer(
        self,
        customer_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        phone_number: str | None = None,
    ) -> Customer:
        body = CustomerInput(name=name, email=email, phone_number=phone_number)
        return self._one(Customer, "PUT", f"/customers/{_segment(customer_id)}", body=body)  # path inferred

    def delete_customer(self, customer_id: str) -> Customer:
        return self._one(Customer, "DELETE", f"/customers/{_segment(customer_id)}")

    # -- Couriers ------------------------------------------------------------------------------

    def create_courier_auth_token(
        self,
        courier_id: str,
        *,
        expires_in: str | int | timedelta | None = None,
        bloq_ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> CourierAuthToken:
        """Get Courier Auth Token: a JWT a courier uses on the Bloqs.

        ``expires_in`` is the doc's ``expirationDate``: a ``timedelta``, a number of milliseconds,
        or a duration string such as "2 days", "10h" (Bloq.It's default is "1day").
        """
        if isinstance(expires_in, timedelta):
            expires_in = int(expires_in.total_seconds() * 1000)
        params = _query(courierID=_required(courier_id), expirationDate=expires_in, bloqIDs=bloq_ids, metadata=metadata)
        return self._one(CourierAuthToken, "GET", "/couriers/courier-auth/create-token", params=params)

    # -- Webhooks ------------------------------------------------------------------------------

    def create_webhook(
        self,
        url: str,
        enabled_events: Sequence[str],
        description: str | None = None,
        secret: str | SecretStr | None = None,
    ) -> Webhook:
        """Register ``url`` for ``enabled_events``; Bloq.It signs each call with ``secret``."""
        body = WebhookCreate(
            url=url, enabled_events=list(enabled_events), description=description, secret=_secret(secret)
        )
        return self._one(Webhook, "POST", "/webhooks", body=body)  # path inferred

    def list_webhooks(self, *, page: int = 1, limit: int = 10, **filters: Unpack[WebhookFilters]) -> Page[Webhook]:
        """List the webhooks (one page), filtered by one ``event_type`` and a date range."""
        params = _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[Webhook], "GET", "/webhooks", params=params)

    def iter_webhooks(self, *, limit: int = DEFAULT_ITER_LIMIT, **filters: Unpack[WebhookFilters]) -> Iterator[Webhook]:
        return _page_walk(lambda n: self.list_webhooks(page=n, limit=limit, **filters), limit)

    def get_webhook(self, webhook_id: str) -> Webhook:
        return self._one(Webhook, "GET", f"/webhooks/{_segment(webhook_id)}")

    def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        enabled_events: Sequence[str] | None = None,
        description: str | None = None,
        secret: str | SecretStr | None = None,
    ) -> Webhook:
        body = WebhookUpdate(
            url=url,
            enabled_events=list(enabled_events) if enabled_events is not None else None,
            description=description,
            secret=_secret(secret),
        )
        return self._one(Webhook, "PUT", f"/webhooks/{_segment(webhook_id)}", body=body)  # path inferred

    def delete_webhook(self, webhook_id: str) -> Webhook:
        return self._one(Webhook, "DELETE", f"/webhooks/{_segment(webhook_id)}")

    def get_event_history(
        self, *, page: int | None = None, limit: int | None = None, **filters: Unpack[EventHistoryFilters]
    ) -> Page[BloqitEvent]:
        """Retrieve the Event History (one page), filtered by ``event_types`` and a date range.

        The doc's response is paginated but lists no ``page``/``limit`` parameters; they are sent
        only when given (:meth:`iter_event_history` gives them).
        """
        params = _query(page=page, limit=limit, **_filters(filters))
        return self._one(Page[BloqitEvent], "GET", "/webhooks/history", params=params)

    def iter_event_history(
        self, *, limit: int = DEFAULT_ITER_LIMIT, **filters: Unpack[EventHistoryFilters]
    ) -> Iterator[BloqitEvent]:
        return _page_walk(lambda n: self.get_event_history(page=n, limit=limit, **filters), limit)


def _required(value: str) -> str:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError("a non-empty value is required")
    return text


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)
