"""Every scheduled function (the syncs and the courier keeper) as issue 10 asks of each: its rate a
template parameter, a dead-letter queue for its failed runs and items, an alarm on that queue, and
a handler that is the sync frame's (or the keeper's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.template import ROOT, resources, template

FUNCTIONS = resources("AWS::Serverless::Function")
SCHEDULED = sorted(
    name
    for name, spec in FUNCTIONS.items()
    if any(e.get("Type") == "Schedule" for e in (spec["Properties"].get("Events") or {}).values())
)


def test_the_syncs_and_the_keeper_are_scheduled():
    assert len(SCHEDULED) == 10, SCHEDULED
    assert "CourierKeeperFunction" in SCHEDULED and "SyncOrdersFunction" in SCHEDULED


@pytest.mark.parametrize("name", SCHEDULED)
def test_a_scheduled_function_has_its_rate_as_a_parameter_a_dead_letter_queue_and_an_alarm(name):
    spec = FUNCTIONS[name]["Properties"]
    (event,) = [e for e in spec["Events"].values() if e["Type"] == "Schedule"]
    schedule = event["Properties"]["Schedule"]
    assert isinstance(schedule, dict) and schedule.get("Ref") in template()["Parameters"], schedule

    queue = spec["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
    assert resources("AWS::SQS::Queue").get(queue) is not None
    alarms = [
        alarm
        for alarm in resources("AWS::CloudWatch::Alarm").values()
        if any(d["Value"] == {"Fn::GetAtt": [queue, "QueueName"]} for d in alarm["Properties"].get("Dimensions", []))
    ]
    assert len(alarms) == 1, f"{name}: one alarm on {queue}"

    handler = Path(ROOT, spec["CodeUri"], "app.py").read_text()
    assert "sync_handler(" in handler or "scheduled_handler(" in handler
    if name != "CourierKeeperFunction":  # a sync publishes its failed items to the same queue
        assert spec["Environment"]["Variables"]["SYNC_DEAD_LETTER_QUEUE_URL"] == {"Ref": queue}
