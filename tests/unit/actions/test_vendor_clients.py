"""Action Lambdas keep one vendor client per merchant, and replace it when its key rotates."""

from __future__ import annotations

import httpx
from orderbridge.config import Settings
from orderbridge.vendors.clients import VendorClients
from orderbridge.vendors.credentials import (
    BlinkCredentials,
    BlinkLogisticsCredentials,
    BloqitCredentials,
    DispatchNinjaCredentials,
    VendorCredentials,
)


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={"code": "200", "status": "200 success", "response": {"message": "ok", "order_id": "1", "order_count": 1}},
    )


def test_client_is_reused_while_credentials_hold_and_rebuilt_after_rotation():
    keys = {"m1": "key-1"}
    seen: list[str] = []

    def transport_handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["X-API-KEY"])
        return _answer(request)

    clients = VendorClients(
        Settings(),
        transport=httpx.MockTransport(transport_handler),
        credentials=lambda m: VendorCredentials(merchant_id=m, dispatchninja=DispatchNinjaCredentials(api_key=keys[m])),
    )
    first = clients.dispatchninja("m1")
    assert clients.dispatchninja("m1") is first
    keys["m1"] = "key-2"  # the secret was rotated
    second = clients.dispatchninja("m1")
    assert second is not first
    from orderbridge.models.dispatchninja import DispatchNinjaAddOrderRequest

    request = DispatchNinjaAddOrderRequest(
        client_name="S",
        client_address="A",
        customer_name="C",
        customer_address="B",
        customer_email="c@x.test",
        customer_phone="1",
        comments="",
    )
    second.add_order(request)
    assert seen == ["key-2"]


def test_every_vendors_client_is_replaced_when_its_key_rotates():
    # Given a client per vendor built with the first keys (a closed one must not be reused)
    keys = {"m1": "key-1"}

    def creds(merchant_id: str) -> VendorCredentials:
        key = keys[merchant_id]
        return VendorCredentials(
            merchant_id=merchant_id,
            blink=BlinkCredentials(username="u", password=key),
            blink_logistics=BlinkLogisticsCredentials(token=key),
            bloqit=BloqitCredentials(api_key=key),
            dispatchninja=DispatchNinjaCredentials(api_key=key),
        )

    clients = VendorClients(Settings(), transport=httpx.MockTransport(_answer), credentials=creds)
    vendors = ("blink", "blink_logistics", "bloqit", "dispatchninja")
    first = {vendor: getattr(clients, vendor)("m1") for vendor in vendors}

    # When the secret is rotated
    keys["m1"] = "key-2"

    # Then each vendor's client is rebuilt (the old one closed), none is an error
    second = {vendor: getattr(clients, vendor)("m1") for vendor in vendors}
    assert all(second[vendor] is not first[vendor] for vendor in vendors)
