"""Per-merchant vendor credentials from Secrets Manager (moto), through Powertools Parameters."""

from __future__ import annotations

import json
import traceback

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from moto import mock_aws
from orderbridge.config import VendorSettings
from orderbridge.errors import ServiceUnavailable
from orderbridge.store.secrets import read_json_secret
from orderbridge.vendors.credentials import (
    BlinkCredentials,
    MissingVendorCredentials,
    VendorCredentials,
    VendorCredentialsError,
    get_vendor_credentials,
)

SETTINGS = VendorSettings(credentials_secret_prefix="orderbridge/vendors/")
FULL_SECRET = {
    "blink": {"username": "paul-bakery", "password": "blink-PASSWORD-1"},
    "blink_logistics": {"token": "logistics-TOKEN-2"},
    "bloqit": {"api_key": "bloqit-KEY-3"},
    "dispatchninja": {"api_key": "ninja-KEY-4"},
}


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch):
    """A moto Secrets Manager, with Powertools' provider and cache reset around each test."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters_base.DEFAULT_PROVIDERS.clear()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")
    parameters.clear_caches()
    parameters_base.DEFAULT_PROVIDERS.clear()


def store_secret(client, merchant_id: str, value: object) -> None:
    body = value if isinstance(value, str) else json.dumps(value)
    client.create_secret(Name=f"orderbridge/vendors/{merchant_id}", SecretString=body)


def test_every_vendor_section_is_read_from_the_merchants_secret(secretsmanager) -> None:
    # Given a merchant whose secret has all four vendors
    store_secret(secretsmanager, "m-1", FULL_SECRET)

    # When its credentials are read
    credentials = get_vendor_credentials("m-1", SETTINGS, read_json_secret)

    # Then each section is typed and the secret values are reachable only on purpose
    assert credentials.merchant_id == "m-1"
    assert credentials.require_blink().username == "paul-bakery"
    assert credentials.require_blink().password.get_secret_value() == "blink-PASSWORD-1"
    assert credentials.require_blink_logistics().token.get_secret_value() == "logistics-TOKEN-2"
    assert credentials.require_bloqit().api_key.get_secret_value() == "bloqit-KEY-3"
    assert credentials.require_dispatchninja().api_key.get_secret_value() == "ninja-KEY-4"


def test_secret_values_never_show_in_repr_or_str(secretsmanager) -> None:
    store_secret(secretsmanager, "m-1", FULL_SECRET)

    credentials = get_vendor_credentials("m-1", SETTINGS, read_json_secret)

    shown = repr(credentials) + str(credentials)
    for secret in ("blink-PASSWORD-1", "logistics-TOKEN-2", "bloqit-KEY-3", "ninja-KEY-4"):
        assert secret not in shown


def test_a_vendor_the_merchant_does_not_use_is_none_and_requiring_it_names_merchant_and_vendor(
    secretsmanager,
) -> None:
    # Given a merchant with Blink only
    store_secret(secretsmanager, "m-2", {"blink": FULL_SECRET["blink"]})
    credentials = get_vendor_credentials("m-2", SETTINGS, read_json_secret)

    # When DispatchNINJA credentials are required
    with pytest.raises(MissingVendorCredentials) as caught:
        credentials.require_dispatchninja()

    # Then the error names the merchant and the vendor, and no secret value
    assert credentials.dispatchninja is None
    assert caught.value.merchant_id == "m-2"
    assert caught.value.vendor == "dispatchninja"
    assert "m-2" in str(caught.value) and "dispatchninja" in str(caught.value)
    assert "blink-PASSWORD-1" not in str(caught.value)


def test_a_merchant_without_a_secret_gets_a_missing_credentials_error(secretsmanager) -> None:
    with pytest.raises(MissingVendorCredentials) as caught:
        get_vendor_credentials("m-unknown", SETTINGS, read_json_secret)

    assert caught.value.merchant_id == "m-unknown"
    assert "m-unknown" in str(caught.value)


def test_a_malformed_section_names_the_field_but_never_the_values(secretsmanager) -> None:
    # Given a secret whose Blink section lacks its password (and whose other values are secret)
    store_secret(
        secretsmanager,
        "m-3",
        {"blink": {"username": "user-SECRET-9"}, "bloqit": {"api_key": "bloqit-KEY-3"}},
    )

    # When it is read
    with pytest.raises(VendorCredentialsError) as caught:
        get_vendor_credentials("m-3", SETTINGS, read_json_secret)

    # Then the message points at blink.password, and no value appears anywhere in the traceback
    assert "blink.password" in str(caught.value)
    assert "m-3" in str(caught.value)
    rendered = "".join(traceback.format_exception(caught.value))
    assert "user-SECRET-9" not in rendered
    assert "bloqit-KEY-3" not in rendered


def test_a_secret_that_is_not_json_is_refused(secretsmanager) -> None:
    store_secret(secretsmanager, "m-4", "not json at all: hunter2")

    with pytest.raises(VendorCredentialsError) as caught:
        get_vendor_credentials("m-4", SETTINGS, read_json_secret)

    assert "hunter2" not in "".join(traceback.format_exception(caught.value))


def test_a_json_secret_that_is_not_an_object_is_refused(secretsmanager) -> None:
    store_secret(secretsmanager, "m-5", ["blink"])

    with pytest.raises(VendorCredentialsError):
        get_vendor_credentials("m-5", SETTINGS, read_json_secret)


def rotate(client, merchant_id: str, value: object) -> None:
    client.put_secret_value(SecretId=f"orderbridge/vendors/{merchant_id}", SecretString=json.dumps(value))


def test_the_secret_is_cached_for_max_age(secretsmanager) -> None:
    # Given a merchant's secret read once with a 300 s max_age
    store_secret(secretsmanager, "m-6", {"bloqit": {"api_key": "old-key"}})
    get_vendor_credentials("m-6", SETTINGS, read_json_secret, max_age=300)

    # When the secret is rotated and read again within max_age
    rotate(secretsmanager, "m-6", {"bloqit": {"api_key": "new-key"}})
    again = get_vendor_credentials("m-6", SETTINGS, read_json_secret, max_age=300)

    # Then the cached value is served (no Secrets Manager call per invocation)
    assert again.require_bloqit().api_key.get_secret_value() == "old-key"


def test_a_zero_max_age_reads_secrets_manager_every_time(secretsmanager) -> None:
    store_secret(secretsmanager, "m-6b", {"bloqit": {"api_key": "old-key"}})
    get_vendor_credentials("m-6b", SETTINGS, read_json_secret, max_age=0)

    rotate(secretsmanager, "m-6b", {"bloqit": {"api_key": "new-key"}})
    again = get_vendor_credentials("m-6b", SETTINGS, read_json_secret, max_age=0)

    assert again.require_bloqit().api_key.get_secret_value() == "new-key"


def test_the_secret_name_is_the_configured_prefix_plus_the_merchant_id(secretsmanager) -> None:
    secretsmanager.create_secret(Name="custom/prefix-m-7", SecretString=json.dumps(FULL_SECRET))

    credentials = get_vendor_credentials(
        "m-7", VendorSettings(credentials_secret_prefix="custom/prefix-"), read_json_secret
    )

    assert credentials.require_bloqit().api_key.get_secret_value() == "bloqit-KEY-3"


def test_secrets_manager_failures_other_than_not_found_are_service_unavailable(
    secretsmanager, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Secrets Manager denying access
    def denied(name, **kwargs):
        from botocore.exceptions import ClientError

        try:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")
        except ClientError as exc:
            raise parameters.GetParameterError(str(exc)) from exc

    monkeypatch.setattr(parameters, "get_secret", denied)

    # When / Then the failure is a retryable dependency failure, not "missing"
    with pytest.raises(ServiceUnavailable) as caught:
        get_vendor_credentials("m-8", SETTINGS, read_json_secret)
    assert not isinstance(caught.value, MissingVendorCredentials)


def test_an_empty_merchant_id_is_refused_before_any_lookup() -> None:
    with pytest.raises(ValueError):
        get_vendor_credentials(" ", SETTINGS, read_json_secret)


def test_credentials_can_be_built_directly_for_tests_and_local_runs() -> None:
    credentials = VendorCredentials(blink=BlinkCredentials(username="u", password="p"))
    assert credentials.require_blink().password.get_secret_value() == "p"
    with pytest.raises(MissingVendorCredentials):
        credentials.require_bloqit()
