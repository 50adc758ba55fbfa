"""The webhook secret and the merchants' vendor credentials are read by the container's one Secrets
Manager client, once per container and again only after ``SECRETS_MAX_AGE_SECONDS``
(``store.secrets.SecretsSource`` on ``Deps``): a warm container's requests cost no Secrets Manager
call."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.stub import Stubber
from orderbridge.config import get_settings
from orderbridge.deps import Deps

SECRET = {"blink": ["blink-token-0123456789"], "bloq": ["bloq-signing-secret-0123456789"]}


@pytest.fixture
def secretsmanager() -> Any:
    return boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def _answers(stubber: Stubber, name: str, count: int, value: dict[str, Any] = SECRET) -> None:
    for _ in range(count):
        stubber.add_response("get_secret_value", {"Name": name, "SecretString": json.dumps(value)}, {"SecretId": name})


def _container(monkeypatch: pytest.MonkeyPatch, secretsmanager: Any, max_age: int) -> tuple[Deps, Stubber]:
    """A container whose secrets are kept ``max_age`` seconds, its only AWS client ``secretsmanager``."""
    monkeypatch.setenv("SECRETS_MAX_AGE_SECONDS", str(max_age))
    get_settings.cache_clear()
    return Deps(get_settings(), client=lambda service: secretsmanager), Stubber(secretsmanager)


def test_a_container_reads_the_webhook_secret_once_within_its_max_age(monkeypatch, secretsmanager):
    # Given a container whose secrets are kept 300 s, and Secrets Manager answering once
    deps, stubber = _container(monkeypatch, secretsmanager, 300)
    _answers(stubber, deps.settings.webhook_secret_name, 1)

    # When three requests of the container verify with the webhook secret
    with stubber:
        seen = [deps.secrets.get().bloq[0].get_secret_value() for _ in range(3)]

    # Then Secrets Manager was called once, and every request had the secret
    stubber.assert_no_pending_responses()
    assert seen == [SECRET["bloq"][0]] * 3
    get_settings.cache_clear()


def test_the_secret_is_read_again_once_its_max_age_is_over(monkeypatch, secretsmanager):
    # Given a container whose secrets are kept 0 s (read on every use)
    deps, stubber = _container(monkeypatch, secretsmanager, 0)
    _answers(stubber, deps.settings.webhook_secret_name, 2)

    # When two requests verify with the webhook secret
    with stubber:
        deps.secrets.get()
        deps.secrets.get()

    # Then each read Secrets Manager (a rotated secret is seen after the max age)
    stubber.assert_no_pending_responses()
    assert isinstance(deps.secrets.provider, SecretsProvider)
    get_settings.cache_clear()


def test_vendor_credentials_are_read_by_the_containers_one_secrets_client_cached_for_its_max_age(
    monkeypatch, secretsmanager
):
    # Given a container whose secrets are kept 600 s, and Secrets Manager answering once
    deps, stubber = _container(monkeypatch, secretsmanager, 600)
    _answers(stubber, "orderbridge/vendors/m-1", 1, {"bloqit": {"api_key": "bloqit-KEY"}})

    # When a merchant's vendor credentials are looked up twice
    with stubber:
        first = deps.vendors.credentials("m-1")
        second = deps.vendors.credentials("m-1")

    # Then the container's client read the merchant's secret once (the cache held it)
    stubber.assert_no_pending_responses()
    assert first.require_bloqit().api_key.get_secret_value() == "bloqit-KEY"
    assert second.merchant_id == "m-1"
    get_settings.cache_clear()
