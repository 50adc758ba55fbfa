"""A tiny test function for the e2e test template: it is scheduled, it is a Step Functions task and
it reads the orders table's stream; it logs what woke it (one JSON line) and echoes its event."""

import json


def handler(event, context):
    kind = "stream" if isinstance(event, dict) and "Records" in event else "event"
    print(json.dumps({"level": "INFO", "message": f"tick ({kind})", "function": context.function_name}))
    return {"ticked": True, "kind": kind, "event": event}
