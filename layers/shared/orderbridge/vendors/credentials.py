"""Per-merchant vendor credentials, read from Secrets Manager through Powertools Parameters.

One secret per merchant, named ``<settings.vendors.credentials_secret_prefix><merchant_id>``, holding
a JSON object with a section per vendor the merchant uses::

    {
      "blink": {"username": "...", "password": "..."},
      "blink_logistics": {"token": "..."},
      "bloqit": {"api_key": "..."},
      "dispatchninja": {"api_key": "..."}
    }

Secret values are ``SecretStr``: they print as ``**********`` and leave the model only through
``get_secret_value()``. No error raised here carries a secret value.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from orderbridge.config import VendorSettings
from orderbridge.errors import OrderbridgeError, ServiceUnavailable

VendorName = Literal["blink", "blink_logistics", "bloqit", "dispatchninja"]


class VendorCredentialsError(OrderbridgeError, status_code=500, code="vendor_credentials_invalid"):
    """The merchant's vendor credentials secret is unusable (not JSON, wrong shape)."""


class MissingVendorCredentials(VendorCredentialsError):
    """The merchant has no credentials secret, or none for the vendor asked for."""

    code = "vendor_credentials_missing"

    def __init__(self, message: str, *, merchant_id: str | None, vendor: str | None = None) -> None:
        super().__init__(message)
        self.merchant_id = merchant_id
        self.vendor = vendor


class _Credentials(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


C = TypeVar("C", bound=_Credentials)


class BlinkCredentials(_Credentials):
    """Blink interface API: the username and password Blink issues (exchanged for a bearer token)."""

    username: str = Field(min_length=1)
    password: SecretStr = Field(min_length=1)


class StaticAuthCredentials(_Credentials):
    """Credentials sent as the same headers on every request (no login)."""

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError


class BlinkLogisticsCredentials(StaticAuthCredentials):
    """Blink Logistics: the static bearer token from the Logistics portal."""

    token: SecretStr = Field(min_length=1)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.get_secret_value()}"}


class ApiKeyCredentials(StaticAuthCredentials):
    """An API key sent as ``X-API-KEY``."""

    api_key: SecretStr = Field(min_length=1)

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-KEY": self.api_key.get_secret_value()}


class BloqitCredentials(ApiKeyCredentials):
    """Bloq.It Partner API: the API key generated in the Bloq.It back office."""


class DispatchNinjaCredentials(ApiKeyCredentials):
    """DispatchNINJA order API: the merchant's public API key."""


class VendorCredentials(_Credentials):
    """Every vendor credential of one merchant; a vendor the merchant does not use is None."""

    merchant_id: str | None = None
    blink: BlinkCredentials | None = None
    blink_logistics: BlinkLogisticsCredentials | None = None
    bloqit: BloqitCredentials | None = None
    dispatchninja: DispatchNinjaCredentials | None = None

    def require_blink(self) -> BlinkCredentials:
        return self._require("blink", self.blink)

    def require_blink_logistics(self) -> BlinkLogisticsCredentials:
        return self._require("blink_logistics", self.blink_logistics)

    def require_bloqit(self) -> BloqitCredentials:
        return self._require("bloqit", self.bloqit)

    def require_dispatchninja(self) -> DispatchNinjaCredentials:
        return self._require("dispatchninja", self.dispatchninja)

    def require_static_auth(self, vendor: VendorName) -> StaticAuthCredentials:
        """The section of a vendor that authenticates with static headers."""
        section = getattr(self, vendor)
        if section is not None and not isinstance(section, StaticAuthCredentials):
            raise ValueError(f"{vendor} does not authenticate with static headers")
        return self._require(vendor, section)

    def _require(self, vendor: VendorName, section: C | None) -> C:
        if section is None:
            raise MissingVendorCredentials(
                f"merchant {self.merchant_id or '?'} has no {vendor} credentials in its vendor secret",
                merchant_id=self.merchant_id,
                vendor=vendor,
            )
        return section


def credentials_secret_name(merchant_id: str, vendor_settings: VendorSettings) -> str:
    return f"{vendor_settings.credentials_secret_prefix}{merchant_id}"


class ReadSecret(Protocol):
    """Reads a secret's JSON value (``store.secrets.read_json_secret``): raises a ``LookupError``
    when it does not exist, a ``ValueError`` when it is not JSON, ``ServiceUnavailable`` when
    Secrets Manager cannot be read."""

    def __call__(self, name: str, *, max_age: int) -> Any: ...


def get_vendor_credentials(
    merchant_id: str, vendor_settings: VendorSettings, read_secret: ReadSecret, *, max_age: int = 300
) -> VendorCredentials:
    """The merchant's vendor credentials, read by ``read_secret`` (cached for ``max_age`` seconds).

    Raises :class:`MissingVendorCredentials` when the merchant has no secret,
    :class:`VendorCredentialsError` when the secret is not a JSON object of the expected shape, and
    :class:`~orderbridge.errors.ServiceUnavailable` when Secrets Manager cannot be read (retryable).
    """
    if not merchant_id or not merchant_id.strip():
        raise ValueError("merchant_id is required")
    name = credentials_secret_name(merchant_id, vendor_settings)
    try:
        secret = read_secret(name, max_age=max_age)
    except ValueError:
        raise VendorCredentialsError(
            f"the vendor credentials secret of merchant {merchant_id} is not valid JSON"
        ) from None
    except LookupError:
        raise MissingVendorCredentials(
            f"merchant {merchant_id} has no vendor credentials secret", merchant_id=merchant_id
        ) from None
    except ServiceUnavailable as exc:
        raise ServiceUnavailable(
            f"the vendor credentials of merchant {merchant_id} could not be read from Secrets Manager"
        ) from exc
    if not isinstance(secret, dict):
        raise VendorCredentialsError(f"the vendor credentials secret of merchant {merchant_id} is not a JSON object")
    try:
        return VendorCredentials.model_validate({**secret, "merchant_id": merchant_id})
    except ValidationError as exc:
        # Name the broken fields only: pydantic's own message would echo the (secret) input values.
        fields = ", ".join(".".join(str(part) for part in error["loc"]) for error in exc.errors())
        raise VendorCredentialsError(
            f"the vendor credentials secret of merchant {merchant_id} is invalid at: {fields}"
        ) from None
