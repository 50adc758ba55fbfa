"""Client of the DispatchNINJA order API (vendor-docs/dispatchninja-order-api.txt).

Requests are URL-encoded forms with the merchant's public key in ``X-API-KEY``; the base URL ends
with the API version (``https://DOMAIN/dn_api/1.1.0``). DispatchNINJA has no webhooks: the delivery's
progress is read by polling :meth:`DispatchNinjaClient.order_details`.

Every answer carries its own ``code``: anything but "200" is a failure even inside an HTTP 200. It is
classified like an HTTP status (5xx and 429 retried, 401/403 auth, 404 not found, other codes
permanent) and raised with DispatchNINJA's ``status`` / ``response.message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

import httpx

from orderbridge.models.dispatchninja import (
    DispatchNinjaAddOrderRequest,
    DispatchNinjaAddOrderResponse,
    DispatchNinjaAddOrderResult,
    DispatchNinjaEnvelope,
    DispatchNinjaOrderDetails,
    DispatchNinjaOrderDetailsResponse,
)
from orderbridge.vendors.api_client import VendorApiClient
from orderbridge.vendors.credentials import DispatchNinjaCredentials
from orderbridge.vendors.http import (
    PermanentVendorError,
    decode_json,
    describe_vendor_body,
    error_for_status,
    parse_answer,
)

VENDOR: Final = "dispatchninja"
ADD_ORDER_PATH = "/orders/add"
ORDER_DETAILS_PATH = "/orders/details"

E = TypeVar("E", bound=DispatchNinjaEnvelope)


def raise_for_answer_code(response: httpx.Response) -> None:
    """Raise the error a DispatchNINJA answer's own ``code`` means (anything but "200")."""
    body = decode_json(response)
    if not isinstance(body, Mapping):
        raise PermanentVendorError(VENDOR, "the answer is not a JSON object", status_code=response.status_code)
    code = str(body.get("code", "")).strip()
    if code == "200":
        return
    message, _ = describe_vendor_body(body)
    raise error_for_status(
        VENDOR,
        int(code) if code.isdigit() else None,
        message or f"the answer's code is {code or 'missing'}",
        vendor_code=code or None,
        http_status=response.status_code,
    )


class DispatchNinjaClient(VendorApiClient[DispatchNinjaCredentials]):
    """Typed client of the DispatchNINJA order API. Build it once per merchant per container."""

    _vendor = VENDOR

    def add_order(self, order: DispatchNinjaAddOrderRequest) -> DispatchNinjaAddOrderResult:
        """Create a delivery (POST orders/add); keep the answer's ``order_id`` to poll its status.

        Sent once: DispatchNINJA offers no lookup by our reference, so a request that may have
        reached it is never repeated (``VendorOutcomeUnknown``: a person checks)."""
        return self._post(DispatchNinjaAddOrderResponse, ADD_ORDER_PATH, order.to_form(), once=True).response

    def order_details(self, order_id: str | int) -> DispatchNinjaOrderDetails:
        """The delivery's current state (POST orders/details): see ``is_completed``/``is_canceled``."""
        if not str(order_id).strip():
            raise ValueError("order_id is required")
        return self._post(DispatchNinjaOrderDetailsResponse, ORDER_DETAILS_PATH, {"order_id": str(order_id)}).response

    def _post(self, model: type[E], path: str, form: Mapping[str, Any], *, once: bool = False) -> E:
        response = self._http.request("POST", path, data=form, check=raise_for_answer_code, once=once)
        return parse_answer(VENDOR, model, decode_json(response), status_code=response.status_code)
