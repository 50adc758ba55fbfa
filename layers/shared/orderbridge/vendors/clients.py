"""The vendor clients of a container: one per vendor per merchant (owned by ``deps.Deps``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from orderbridge.config import Settings
from orderbridge.vendors.blink import BlinkClient
from orderbridge.vendors.blink_logistics import BlinkLogisticsClient
from orderbridge.vendors.bloqit import BloqitClient
from orderbridge.vendors.credentials import VendorCredentials
from orderbridge.vendors.dispatchninja import DispatchNinjaClient

Client = TypeVar("Client", BlinkClient, BlinkLogisticsClient, BloqitClient, DispatchNinjaClient)


@dataclass
class VendorClients:
    """One client per vendor per merchant, kept for the container while its credentials hold.

    The credentials are looked up on every use (Powertools caches the secret for its max age), and
    a client whose credentials changed — a rotated API key — is replaced, so rotation does not
    wait for a cold start. ``credentials`` looks a merchant's credentials up (``deps.vendors``:
    ``get_vendor_credentials`` over Secrets Manager; tests: a function); ``transport`` replaces the
    network in tests (respx / httpx.MockTransport).
    """

    settings: Settings
    credentials: Callable[[str], VendorCredentials]
    transport: httpx.BaseTransport | None = None
    _clients: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)

    def _get(self, vendor: str, merchant_id: str, build: Callable[[Any], Client]) -> Client:
        creds = getattr(self.credentials(merchant_id), f"require_{vendor}")()
        key = (vendor, merchant_id)
        held = self._clients.get(key)
        if held is not None and held[0] == creds:
            client: Client = held[1]
            return client
        if held is not None:
            held[1].close()
        client = build(creds)
        self._clients[key] = (creds, client)
        return client

    def blink(self, merchant_id: str) -> BlinkClient:
        return self._get(
            "blink", merchant_id, lambda c: BlinkClient.create(self.settings.vendors, c, transport=self.transport)
        )

    def blink_logistics(self, merchant_id: str) -> BlinkLogisticsClient:
        return self._get(
            "blink_logistics",
            merchant_id,
            lambda c: BlinkLogisticsClient.create(self.settings.vendors, c, transport=self.transport),
        )

    def bloqit(self, merchant_id: str) -> BloqitClient:
        return self._get(
            "bloqit", merchant_id, lambda c: BloqitClient.create(self.settings.vendors, c, transport=self.transport)
        )

    def dispatchninja(self, merchant_id: str) -> DispatchNinjaClient:
        return self._get(
            "dispatchninja",
            merchant_id,
            lambda c: DispatchNinjaClient.create(self.settings.vendors, c, transport=self.transport),
        )
