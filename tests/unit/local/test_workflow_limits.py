"""The order workflow's wait limits on the local stack: the template parameters (with the stack's
overrides) reach the deployed definition through ``DefinitionSubstitutions``, and the emulator's
Step Functions reads them as the numbers ``TimeoutSecondsPath`` needs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from orderbridge_local import aws_emulator as emu
from orderbridge_local import template as tpl

ROOT = Path(__file__).resolve().parents[3]
OVERRIDES = {"Stage": "limits", "WorkflowDropoffTimeoutSeconds": "40", "CourierHeartbeatSeconds": "7"}


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[tpl.LocalTemplate, emu.DeployedStack, emu.Emulator]]:
    local = tpl.load(ROOT / "template.yaml", overrides=OVERRIDES)
    with emu.running() as emulator:
        yield local, emu.deploy(emulator, local, stack_name="limits-test"), emulator


def deployed_definition(stack: emu.DeployedStack, emulator: emu.Emulator) -> dict[str, Any]:
    arn = stack.physical("OrderWorkflow")
    described = emulator.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    return json.loads(described["definition"])


def run_pass(emulator: emu.Emulator, parameters: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` evaluated by the emulator's Step Functions (a one-state machine)."""
    sfn = emulator.client("stepfunctions")
    definition = {
        "StartAt": "Evaluate",
        "States": {"Evaluate": {"Type": "Pass", "Parameters": parameters, "End": True}},
    }
    machine = sfn.create_state_machine(
        name="evaluate-limits",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{tpl.ACCOUNT_ID}:role/evaluate-limits",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the evaluation did not end"
        time.sleep(0.1)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def test_the_deployed_definition_carries_the_parameters_values(deployed):
    # Given the stack deployed with a 40 s drop-off deadline and a 7 s courier heartbeat
    local, stack, emulator = deployed
    # When the deployed state machine's definition is read
    selector = deployed_definition(stack, emulator)["States"]["PlanOrder"]["ResultSelector"]["limits"]
    # Then the overrides and the other parameters' defaults are in it, no placeholder left
    assert selector["dropoff.$"] == "States.StringToJson('40')"
    assert selector["courier_heartbeat.$"] == "States.StringToJson('7')"
    collect = local.parameters["WorkflowCollectTimeoutSeconds"]
    assert selector["collect.$"] == f"States.StringToJson('{collect}')"
    assert not [v for v in selector.values() if "${" in v]


def test_the_emulators_step_functions_reads_them_as_whole_numbers(deployed):
    # Given the deployed definition's limits
    local, stack, emulator = deployed
    selector = deployed_definition(stack, emulator)["States"]["PlanOrder"]["ResultSelector"]["limits"]
    # When the emulator's Step Functions evaluates them
    limits = run_pass(emulator, selector)
    # Then each is the parameter's number, as TimeoutSecondsPath/HeartbeatSecondsPath need it
    assert limits["dropoff"] == 40 and limits["courier_heartbeat"] == 7
    assert limits["home_delivery"] == int(local.parameters["WorkflowHomeDeliveryTimeoutSeconds"])
    assert all(type(v) is int for v in limits.values())
