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

from typing import Literal, TypeVar

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from orderbridge.config import VendorSettings
from orderbridge.errors import OrderbridgeError, ServiceUnavailable

VendorName = Literal["blink", "blink_logistics", "bloqit", "dispatchninja"]


class VendorCredentialsError(OrderbridgeError):
    """The merchant's vendor credentials secret is unusable (not JSON, wrong shape)."""

    status_code = 500
    code = "vendor_credentials_invalid"


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


class BlinkLogisticsCredentials(_Credentials):
    """Blink Logistics: the static bearer token from the Logistics portal."""

    token: SecretStr = Field(min_length=1)


class BloqitCredentials(_Credentials):
    """Bloq.It Partner API: the API key generated in the Bloq.It back office."""

    api_key: SecretStr = Field(min_length=1)


class DispatchNinjaCredentials(_Credentials):
    """DispatchNINJA order API: the public API key sent as ``X-API-KEY``."""

    api_key: SecretStr = Field(min_length=1)


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


def get_vendor_credentials(
    merchant_id: str, vendor_settings: VendorSettings, *, max_age: int = 300
) -> VendorCredentials:
    """The merchant's vendor credentials, cached by Powertools for ``max_age`` seconds.

    Raises :class:`MissingVendorCredentials` when the merchant has no secret,
    :class:`VendorCredentialsError` when the secret is not a JSON object of the expected shape, and
    :class:`~orderbridge.errors.ServiceUnavailable` when Secrets Manager cannot be read (retryable).
    """
    if not merchant_id or not merchant_id.strip():
        raise ValueError("merchant_id is required")
    name = credentials_secret_name(merchant_id, vendor_settings)
    try:
        secret = parameters.get_secret(name, transform="json", max_age=max_age)
    except parameters.TransformParameterError:
        raise VendorCredentialsError(
            f"the vendor credentials secret of merchant {merchant_id} is not valid JSON"
        ) from None
    except parameters.GetParameterError as exc:
        if _aws_error_code(exc) == "ResourceNotFoundException":
            raise MissingVendorCredentials(
                f"merchant {merchant_id} has no vendor credentials secret", merchant_id=merchant_id
            ) from None
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


def _aws_error_code(error: BaseException) -> str | None:
    """The AWS error code behind a Powertools GetParameterError (which wraps the ClientError)."""
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ClientError):
        return cause.response.get("Error", {}).get("Code")
    return "ResourceNotFoundException" if "ResourceNotFoundException" in str(error) else None
