"""Bloq.It's Partner API payloads (vendor-docs/bloqit-partner-api.txt): the request bodies and
responses ``vendors.bloqit`` uses. The webhook callback (and the event fields the rent histories
share with it) is in ``models.bloqit_webhooks``: a webhook's cold start does not build these.
Attribute names are snake_case; each carries the doc's exact field name as its alias
(``externalID``, ``pickUpCodes``, ...), which is what goes over the wire.

- Responses (:class:`BloqitResource` and subclasses) use ``extra="allow"``: the doc collapses many
  objects (``"states": [ ]``, ``"customer": { }``, ``"details": { }``, ``"pricing": { }``), so we
  model the fields the request schemas and descriptions name and keep every other field in
  ``model_extra``, with JSON numbers as ``Decimal`` (the HTTP layer parses floats as Decimal).
  Fields are optional unless every sample of the doc has them, so each doc sample parses.
- Request bodies (:class:`BloqitRequest`) are built by us and use ``extra="forbid"``: a misspelt
  field fails here instead of being silently dropped by Bloq.It. Datetimes must be timezone-aware
  and are sent as ISO 8601 UTC with ``Z``; unset (``None``) fields are not sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    model_validator,
)

from orderbridge.models.base import OurModel, VendorModel
from orderbridge.models.bloqit_webhooks import RENT_EVENT_STATE, BloqitEventFields
from orderbridge.models.states import RentState
from orderbridge.models.types import FlexBool, FlexInt, Id, Money, UtcDateTime, VendorId

# --------------------------------------------------------------------------------------------------
# Partner API (outbound): enums and field types
# --------------------------------------------------------------------------------------------------


class RentType(StrEnum):
    """The four rent types ("Important Concepts"; ``type`` of a rent, ``rentType`` filters)."""

    STORE = "store"
    SEND = "send"
    DELIVERY = "delivery"
    RETURN = "return"


class LockerType(StrEnum):
    """Locker (door) sizes, XS to XL (``lockerType``, ``desiredLockerType``)."""

    XS = "XS"
    S = "S"
    M = "M"
    L = "L"
    XL = "XL"


class BloqActiveFilter(StrEnum):
    """``active`` filter of the Bloq lists."""

    ALL = "all"
    ACTIVE = "active"
    INACTIVE = "inactive"


class BloqLocationState(StrEnum):
    CREATED = "created"
    DEPLOYED = "deployed"
    CHURNED = "churned"


class OperationType(StrEnum):
    """``operationType`` of a delivery: picked up by a courier (first mile) or the final user."""

    FIRST_MILE = "firstMile"
    LAST_MILE = "lastMile"


class NotificationOption(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class CustomersWithActiveRents(StrEnum):
    """``withActiveRents`` filter of the customer list."""

    ALL = "all"
    WITH = "with"
    WITHOUT = "without"


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with ``Z`` (milliseconds only when there are any), as JS ``Date`` parses it."""
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


ZDateTime = Annotated[AwareDatetime, PlainSerializer(iso_z, return_type=str, when_used="json")]
"""A datetime we send: must be timezone-aware; serialised as ISO 8601 UTC with ``Z``."""

Coordinate = Annotated[Money, PlainSerializer(float, return_type=float, when_used="json")]
"""A latitude/longitude: ``Decimal`` in Python, a JSON number (``number <double>``) on the wire."""

RevealedSecret = Annotated[
    SecretStr, PlainSerializer(lambda s: s.get_secret_value(), return_type=str, when_used="json")
]
"""A secret we must send (webhook signing secret): masked in ``repr``/logs, revealed in the body."""


def _null_string(value: Any) -> Any:
    # The locker samples send ``"lastDoorOpeningTimestamp": "null"`` (a string).
    return None if isinstance(value, str) and value.strip().lower() in {"null", ""} else value


NullableUtcDateTime = Annotated[UtcDateTime | None, BeforeValidator(_null_string)]


# --------------------------------------------------------------------------------------------------
# Partner API responses
# --------------------------------------------------------------------------------------------------


class BloqitResource(VendorModel):
    """A Partner API response object: documented fields typed, every other field kept."""

    model_config = ConfigDict(extra="allow")


class BloqitObject(BloqitResource):
    """An object whose fields the doc does not name (collapsed ``{ }``): all fields in ``model_extra``."""


T = TypeVar("T")


class Page(BloqitResource, Generic[T]):
    """One page of a paginated list (``totalDocs``, ``page``, ``limit``, ``docs``)."""

    total_docs: FlexInt = Field(default=0, alias="totalDocs")
    page: FlexInt = 1
    limit: FlexInt | None = None
    docs: list[T] = Field(default_factory=list)

    def is_last(self, requested_page: int, requested_limit: int | None = None) -> bool:
        """True when no later page can hold more documents.

        Uses the page number we asked for (a server that ignores ``page`` would otherwise loop
        forever) and the limit the server applied (it may cap ours); ``limit=0`` means "all".
        """
        limit = self.limit if self.limit is not None else requested_limit
        if not self.docs or not limit or limit <= 0:
            return True
        return requested_page * limit >= self.total_docs


class GeoLocation(BloqitResource):
    """A position on the map. The doc collapses it; GeoJSON ``type``/``coordinates`` or
    ``latitude``/``longitude`` are taken when present, anything else is kept."""

    type: str | None = None
    coordinates: list[Coordinate] | None = None
    latitude: Coordinate | None = None
    longitude: Coordinate | None = None


class Locker(BloqitResource):
    """A locker (door). Also embedded in rents and in the free-lockers list, where the doc collapses
    it to ``{ }``: so every field, the id included, is optional."""

    id: Id | None = Field(default=None, alias="_id")
    rent: Id | None = None
    charger: FlexBool | None = None
    object_detection: FlexBool | None = Field(default=None, alias="objectDetection")
    is_open: FlexBool | None = Field(default=None, alias="isOpen")
    last_door_opening_timestamp: NullableUtcDateTime = Field(default=None, alias="lastDoorOpeningTimestamp")
    locker_title: str | None = Field(default=None, alias="lockerTitle")
    bloq: Id | None = None
    type: str | None = None  # LockerType values; kept as text so a new size does not break parsing
    active: FlexBool | None = None


class BloqDetails(BloqitResource):
    """``details`` of a Bloq (collapsed in the doc; fields named by the Update Bloq schema)."""

    title: str | None = None
    city: str | None = None
    address: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")


class Bloq(BloqitResource):
    """A Bloq: a group of lockers."""

    id: Id = Field(alias="_id")
    active: FlexBool | None = None
    code: str | None = None
    external_id: str | None = Field(default=None, alias="externalID")
    title: str | None = None
    city: str | None = None
    address: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")
    details: BloqDetails | None = None
    created_at: UtcDateTime | None = Field(default=None, alias="createdAt")
    updated_at: UtcDateTime | None = Field(default=None, alias="updatedAt")
    max_rent_time_hour: FlexInt | None = Field(default=None, alias="maxRentTimeHour")
    max_rent_delivery_time_hour: FlexInt | None = Field(default=None, alias="maxRentDeliveryTimeHour")
    max_rent_collect_time_hour: FlexInt | None = Field(default=None, alias="maxRentCollectTimeHour")
    supports: list[Any] = Field(default_factory=list)  # shape not documented (rent types, presumably)
    location: GeoLocation | None = None
    price: BloqitObject | None = None
    lockers_measures: BloqitObject | None = Field(default=None, alias="lockersMeasures")
    status: BloqitObject | None = None
    lockers: list[Locker] = Field(default_factory=list)
    metadata: dict[str, Any] | None = None


class BloqLocation(BloqitResource):
    """A Bloq Location (a place for a future Bloq). The doc's samples carry no ``_id``."""

    id: Id | None = Field(default=None, alias="_id")
    address: str | None = None
    external_id: str | None = Field(default=None, alias="externalID")
    name: str | None = None
    location: GeoLocation | None = None
    state: BloqLocationState | None = None
    metadata: dict[str, Any] | None = None


class LabelsAvailable(BloqitResource):
    """Labels left in a Bloq's printer (``remainingLabels`` arrives as a string, e.g. "120")."""

    bloq: Id | None = None
    remaining_labels: FlexInt | None = Field(default=None, alias="remainingLabels")


class BloqitMessage(BloqitResource):
    """A ``{"code", "message"}`` answer (the Notify Labels Roll Replacement sample)."""

    code: str | None = None
    message: str | None = None


class Customer(BloqitResource):
    """A customer. Embedded in rents, where the doc collapses it to ``{ }``: all fields optional."""

    id: Id | None = Field(default=None, alias="_id")
    partner: Id | None = None
    name: str | None = None
    email: str | None = None
    phone_number: str | None = Field(default=None, alias="phoneNumber")
    external_id: str | None = Field(default=None, alias="externalID")
    created_at: UtcDateTime | None = Field(default=None, alias="createdAt")
    updated_at: UtcDateTime | None = Field(default=None, alias="updatedAt")


class RentStateChange(BloqitResource):
    """One entry of a rent's ``states`` history (collapsed in the doc)."""

    state: str | None = None


class Rent(BloqitResource):
    """A rent: store, send, delivery or return.

    ``customer`` and ``locker`` are ids in most samples and objects in the Retrieve samples.
    The fields a rent is created or updated with are modelled too: the doc does not say where the
    response carries them (top level or ``details``), so both are kept.
    """

    id: VendorId = Field(alias="_id")  # our rent record's key: not empty, within DynamoDB's key limits
    type: RentType | None = None
    state: RentState
    states: list[RentStateChange | str] = Field(default_factory=list)
    customer: Id | Customer | None = None
    locker: Id | Locker | None = None
    bloq: Id | None = None
    start_date: UtcDateTime | None = Field(default=None, alias="startDate")
    end_date: UtcDateTime | None = Field(default=None, alias="endDate")
    expiry_date: UtcDateTime | None = Field(default=None, alias="expiryDate")
    delivery_date_limit: UtcDateTime | None = Field(default=None, alias="deliveryDateLimit")
    # Hours for a delivery, a date-time for a return.
    collect_time_limit: int | UtcDateTime | None = Field(default=None, alias="collectTimeLimit")
    external_id: str | None = Field(default=None, alias="externalID")
    pick_up_code: str | None = Field(default=None, alias="pickUpCode")
    pick_up_codes: dict[str, str] | None = Field(default=None, alias="pickUpCodes")
    drop_off_code: str | None = Field(default=None, alias="dropOffCode")
    desired_locker_type: str | None = Field(default=None, alias="desiredLockerType")
    label_content: dict[str, Any] | None = Field(default=None, alias="labelContent")
    label_template_id: str | None = Field(default=None, alias="labelTemplateID")
    operation_type: str | None = Field(default=None, alias="operationType")
    carrier: str | None = None
    pre_pick_up_actions: list[Any] | None = Field(default=None, alias="prePickUpActions")
    notification_options: list[str] | None = Field(default=None, alias="notificationOptions")
    details: BloqitObject | None = None
    pricing: BloqitObject | None = None

    @property
    def customer_id(self) -> str | None:
        return self.customer.id if isinstance(self.customer, Customer) else self.customer

    @property
    def locker_id(self) -> str | None:
        return self.locker.id if isinstance(self.locker, Locker) else self.locker


class BloqitEvent(BloqitEventFields, BloqitResource):
    """An event as the rent history and the event history list it: the webhook callback's fields,
    all optional (the doc's history samples are collapsed ``{ }``), and every other field kept."""

    created_at: UtcDateTime | None = Field(default=None, alias="createdAt")

    @property
    def rent_state(self) -> RentState | None:
        return RENT_EVENT_STATE.get(self.code_name or "")


class Webhook(BloqitResource):
    """A registered webhook. Bloq.It does not send the signing secret back."""

    id: Id = Field(alias="_id")
    url: str | None = None
    description: str | None = None
    enabled_events: list[str] = Field(default_factory=list, alias="enabledEvents")
    created_at: UtcDateTime | None = Field(default=None, alias="createdAt")
    updated_at: UtcDateTime | None = Field(default=None, alias="updatedAt")


class CourierAuthToken(BloqitResource):
    """A JWT couriers use to authenticate on the Bloqs (kept secret: masked in repr and logs)."""

    token: SecretStr


# --------------------------------------------------------------------------------------------------
# Partner API request bodies
# --------------------------------------------------------------------------------------------------


class BloqitRequest(OurModel):
    """A request body we send to Bloq.It."""

    def to_body(self) -> dict[str, Any]:
        """The JSON body: the doc's field names, ISO 8601 ``Z`` datetimes, unset fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class _LabelFields(BloqitRequest):
    label_content: dict[str, Any] | None = Field(default=None, alias="labelContent")
    label_template_id: str | None = Field(default=None, alias="labelTemplateID")

    @model_validator(mode="after")
    def _label_pair(self) -> _LabelFields:
        # "If you send the labelContent then you must send the labelTemplateID" (and vice versa).
        # An empty labelContent counts as not sent: the doc's own request samples send {} with null.
        if bool(self.label_content) != (self.label_template_id is not None):
            raise ValueError("labelContent and labelTemplateID must be sent together")
        return self


class BloqUpdate(BloqitRequest):
    """Update Bloq: only the fields set are updated."""

    active: bool | None = None
    title: str | None = None
    city: str | None = None
    code: str | None = None
    address: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")
    location: GeoLocation | None = None
    max_rent_time_hour: int | None = Field(default=None, ge=1, alias="maxRentTimeHour")
    max_rent_delivery_time_hour: int | None = Field(default=None, ge=1, alias="maxRentDeliveryTimeHour")
    max_rent_collect_time_hour: int | None = Field(default=None, ge=1, alias="maxRentCollectTimeHour")
    metadata: dict[str, Any] | None = None


class BloqLocationCreate(BloqitRequest):
    address: str = Field(min_length=1)
    latitude: Coordinate
    longitude: Coordinate
    external_id: str | None = Field(default=None, alias="externalID")
    name: str | None = None
    metadata: dict[str, Any] | None = None


class BloqLocationUpdate(BloqitRequest):
    """Update Bloq Location: only the fields set are updated; ``state`` accepts only "churned"."""

    address: str | None = None
    latitude: Coordinate | None = None
    longitude: Coordinate | None = None
    external_id: str | None = Field(default=None, alias="externalID")
    name: str | None = None
    metadata: dict[str, Any] | None = None
    state: Literal["churned"] | None = None


class CustomerInput(BloqitRequest):
    """Create/Update a Customer, and the ``customer`` object that creates one on the go."""

    name: str | None = None
    email: str | None = None
    phone_number: str | None = Field(default=None, alias="phoneNumber")


class DeliveryCreate(_LabelFields):
    """Create Delivery Operation body (the locker/bloq/customer ids go in the query)."""

    expiry_date: ZDateTime | None = Field(default=None, alias="expiryDate")
    delivery_date_limit: ZDateTime | None = Field(default=None, alias="deliveryDateLimit")
    collect_time_limit: int | None = Field(default=None, ge=0, alias="collectTimeLimit")  # hours
    notification_options: list[NotificationOption] | None = Field(default=None, alias="notificationOptions")
    external_id: str | None = Field(default=None, alias="externalID")
    customer: CustomerInput | None = None
    pick_up_code: str | None = Field(default=None, max_length=14, alias="pickUpCode")
    drop_off_code: str | None = Field(default=None, alias="dropOffCode")
    desired_locker_type: LockerType | None = Field(default=None, alias="desiredLockerType")
    pick_up_codes: dict[str, str] | None = Field(default=None, alias="pickUpCodes")
    operation_type: OperationType | None = Field(default=None, alias="operationType")
    carrier: str | None = None
    pre_pick_up_actions: list[Literal["mfa"]] | None = Field(default=None, alias="prePickUpActions")

    @model_validator(mode="after")
    def _one_kind_of_pick_up_code(self) -> DeliveryCreate:
        # "when the request has both a 400 error will be return as you should only use one of them"
        if self.pick_up_code is not None and self.pick_up_codes is not None:
            raise ValueError("send pickUpCode or pickUpCodes, not both")
        return self


class RentUpdate(_LabelFields):
    """Update Rent: only the fields set are updated (some only before drop-off / pick-up)."""

    expiry_date: ZDateTime | None = Field(default=None, alias="expiryDate")
    delivery_date_limit: ZDateTime | None = Field(default=None, alias="deliveryDateLimit")
    collect_time_limit: int | None = Field(default=None, ge=0, alias="collectTimeLimit")
    external_id: str | None = Field(default=None, alias="externalID")
    drop_off_code: str | None = Field(default=None, alias="dropOffCode")
    desired_locker_type: LockerType | None = Field(default=None, alias="desiredLockerType")
    pick_up_codes: dict[str, str] | None = Field(default=None, alias="pickUpCodes")
    operation_type: OperationType | None = Field(default=None, alias="operationType")
    pre_pick_up_actions: list[Literal["mfa"]] | None = Field(default=None, alias="prePickUpActions")
    carrier: str | None = None


class ReturnCreate(BloqitRequest):
    """Create a Return body (locker/bloq/customer/type/previous rent go in the query)."""

    expiry_date: ZDateTime | None = Field(default=None, alias="expiryDate")
    delivery_date_limit: ZDateTime | None = Field(default=None, alias="deliveryDateLimit")
    collect_time_limit: ZDateTime | None = Field(default=None, alias="collectTimeLimit")  # a date here
    notification_options: list[NotificationOption] | None = Field(default=None, alias="notificationOptions")
    external_id: str | None = Field(default=None, alias="externalID")
    customer: CustomerInput | None = None
    pick_up_codes: dict[str, str] | None = Field(default=None, alias="pickUpCodes")


class ReturnReserve(BloqitRequest):
    customer: CustomerInput | None = None


class ExpiryDateChange(BloqitRequest):
    """Body of "Extends a rent expiry date" and "Return a delivery"."""

    expiry_date: ZDateTime = Field(alias="expiryDate")


class StoreStart(BloqitRequest):
    pick_up_codes: dict[str, str] | None = Field(default=None, alias="pickUpCodes")


class StoreEnd(BloqitRequest):
    open_locker: bool = Field(default=False, alias="openLocker")


class SendStart(BloqitRequest):
    phone_number: str = Field(min_length=1, alias="phoneNumber")
    pick_up_codes: dict[str, str] | None = Field(default=None, alias="pickUpCodes")


class LockersOpen(BloqitRequest):
    lockers: list[str] = Field(min_length=1)


class LockerAvailability(BloqitRequest):
    active: bool


class LabelPrint(BloqitRequest):
    content: dict[str, Any] | None = None


class WebhookCreate(BloqitRequest):
    url: str = Field(min_length=1)
    enabled_events: list[str] = Field(min_length=1, alias="enabledEvents")
    description: str | None = None
    secret: RevealedSecret | None = None


class WebhookUpdate(BloqitRequest):
    url: str | None = None
    enabled_events: list[str] | None = Field(default=None, alias="enabledEvents")
    description: str | None = None
    secret: RevealedSecret | None = None
