"""The base of the per-vendor clients that need nothing but auth headers on every request.

Blink Logistics, DispatchNINJA and Bloq.It authenticate with a static header built from the
merchant's credentials, so they share one way to be built: the vendor's base URL from
``config.VendorSettings`` (``<vendor>_base_url``), its timeouts and retry budget, and the headers
the subclass derives from its credentials. Blink logs in for a token and builds its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar, Generic, Self, TypeVar

import httpx

from orderbridge.config import VendorSettings
from orderbridge.vendors.credentials import StaticAuthCredentials, VendorCredentials, VendorName
from orderbridge.vendors.http import VendorHttpClient

C = TypeVar("C", bound=StaticAuthCredentials)


class VendorApiClient(Generic[C]):
    """A typed vendor client over one :class:`VendorHttpClient`. Build it once per container."""

    _vendor: ClassVar[VendorName]

    def __init__(self, http: VendorHttpClient) -> None:
        self._http = http

    def close(self) -> None:
        """Close the connection pool (a client whose credentials were rotated is replaced)."""
        self._http.close()

    @classmethod
    def create(
        cls,
        vendor_settings: VendorSettings,
        credentials: C | VendorCredentials,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Self:
        """A client for the vendor's base URL in ``vendor_settings``, authenticated with ``credentials``
        (the vendor's own, or the merchant's whole set: :class:`MissingVendorCredentials` without it).

        ``transport`` and ``sleep`` are for tests (a mock transport; no waiting between retries).
        """
        if isinstance(credentials, VendorCredentials):
            own: StaticAuthCredentials = credentials.require_static_auth(cls._vendor)
        else:
            own = credentials
        base_url = str(getattr(vendor_settings, f"{cls._vendor}_base_url"))
        http = VendorHttpClient.from_settings(
            cls._vendor,
            base_url,
            vendor_settings,
            headers=own.auth_headers(),
            transport=transport,
            sleep=sleep,
        )
        return cls(http)
