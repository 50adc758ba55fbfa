"""Where AWS errors become ours: ``store.dynamo.aws_call`` and the store's secrets reader."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError, EndpointConnectionError
from orderbridge.errors import OrderbridgeError, ServiceUnavailable
from orderbridge.store.dynamo import ConditionFailed, aws_call
from orderbridge.store.secrets import SecretMissing, SecretNotJson, SecretsSource, read_json_secret


def refused(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict = {"Error": {"Code": code, "Message": "refused"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "Operation")


def test_a_failed_condition_of_a_conditional_call_is_condition_failed():
    # Given a conditional write that DynamoDB refuses for its condition
    # When it runs inside aws_call(conditional=True)
    with pytest.raises(ConditionFailed) as caught, aws_call("record it", conditional=True):
        raise refused("ConditionalCheckFailedException")
    # Then the store sees which item failed, not an AWS error
    assert caught.value.codes == ["ConditionalCheckFailed"]
    assert caught.value.at(0)


def test_a_transaction_cancelled_for_its_conditions_tells_which_items_failed():
    with pytest.raises(ConditionFailed) as caught, aws_call("record it", conditional=True):
        raise refused("TransactionCanceledException", ["None", "ConditionalCheckFailed"])
    assert caught.value.codes == ["None", "ConditionalCheckFailed"]
    assert caught.value.at(1) and not caught.value.at(0, 1)
    assert isinstance(caught.value.unexpected(), ServiceUnavailable)


@pytest.mark.parametrize(
    "error",
    [
        refused("TransactionCanceledException", ["TransactionConflict", "None"]),
        refused("ProvisionedThroughputExceededException"),
        EndpointConnectionError(endpoint_url="https://dynamodb"),
    ],
)
def test_any_other_aws_failure_is_retryable(error):
    # Given a failure that is no condition (a conflict, throttling, no network)
    # When / Then it is a ServiceUnavailable naming what could not be done and the AWS code
    with pytest.raises(ServiceUnavailable, match="could not record it"), aws_call("record it", conditional=True):
        raise error


def test_a_condition_the_caller_did_not_ask_about_is_retryable():
    with pytest.raises(ServiceUnavailable, match="ConditionalCheckFailedException"), aws_call("count it"):
        raise refused("ConditionalCheckFailedException")


class FakeProvider:
    """A Powertools provider that fails the way Powertools does: a GetParameterError (or a
    TransformParameterError) raised while handling the AWS error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, name: str, **_: object) -> object:
        try:
            raise self.error
        except ClientError as exc:
            raise parameters.GetParameterError(str(exc)) from exc


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (refused("ResourceNotFoundException"), SecretMissing),
        (refused("AccessDeniedException"), ServiceUnavailable),
        (parameters.TransformParameterError("not json"), SecretNotJson),
    ],
)
def test_a_secret_that_cannot_be_read_says_why(error, expected):
    with pytest.raises(expected):
        read_json_secret("orderbridge/webhooks", max_age=5, provider=FakeProvider(error))


def test_the_webhook_secret_missing_is_a_deployment_fault_and_unreadable_is_retryable():
    # Given no webhook secret: a 500 (nothing a sender's retry fixes)
    missing = SecretsSource("orderbridge/webhooks", 5, FakeProvider(refused("ResourceNotFoundException")))
    with pytest.raises(OrderbridgeError) as caught:
        missing.get()
    assert caught.value.status_code == 500
    # Given Secrets Manager throttling: a 503 (retry)
    throttled = SecretsSource("orderbridge/webhooks", 5, FakeProvider(refused("ThrottlingException")))
    with pytest.raises(ServiceUnavailable):
        throttled.get()
