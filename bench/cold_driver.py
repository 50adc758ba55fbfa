"""Run inside a fresh interpreter laid out as Lambda lays a function out (standard library only):
import the handler named by ``_HANDLER``, answer one event, write the timings to a file, and leave
without the interpreter's teardown (``os._exit``): a Lambda runtime process is not torn down after
its first answer, so freeing every module is no part of a cold start (for the bare handler alike).

    python -S cold_driver.py <event.json> <result.json>
"""

import importlib
import json
import os
import sys
import time


class Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
    function_version = "$LATEST"
    memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
    invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
    aws_request_id = "00000000-0000-0000-0000-00000000c01d"
    log_group_name = f"/aws/lambda/{function_name}"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main() -> None:
    with open(sys.argv[1]) as source:
        event = json.load(source)
    began = time.perf_counter()
    module_name, function = os.environ["_HANDLER"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function)
    imported = time.perf_counter()
    try:
        result = handler(event, Context())
        outcome = str(result.get("statusCode", "ok")) if isinstance(result, dict) else "ok"
    except Exception as exc:  # an answer all the same: the error Lambda would report
        outcome = type(exc).__name__
    answered = time.perf_counter()
    modules = sorted(sys.modules)
    with open(sys.argv[2], "w") as out:
        json.dump(
            {
                "import_ms": (imported - began) * 1000,
                "answer_ms": (answered - imported) * 1000,
                "outcome": outcome,
                "modules": len(modules),
                "botocore_from": getattr(sys.modules.get("botocore"), "__file__", None),
                "xray_botocore_patch": "aws_xray_sdk.ext.botocore" in sys.modules,  # after import + answer
                "xray_recorder": "aws_xray_sdk.core" in sys.modules,  # not with tracing off (NoTracing)
            },
            out,
        )


main()
os._exit(0)
