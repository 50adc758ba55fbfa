"""The e2e test template's ``waitForTaskToken`` task: completes its own task token through the
emulator (SendTaskSuccess, or SendTaskFailure when asked to fail), as a real callback would."""

import json

import boto3


def handler(event, context):
    client = boto3.client("stepfunctions")
    if event.get("input", {}).get("fail"):
        client.send_task_failure(taskToken=event["token"], error="Asked.ToFail", cause="the input said fail")
    else:
        client.send_task_success(taskToken=event["token"], output=json.dumps({"callback": "done"}))
    return {"sent": True}
