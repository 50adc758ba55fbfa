"""One warm "container" of one function: a process that imports the handler once and runs one
invocation at a time, like a Lambda execution environment.

Standard library only and run as a script (``python worker.py``), so nothing of the local stack
is importable by the handler and nothing but the function's own code, its layers and the
installed dependencies is on its path — as in Lambda. The function's environment is the
process environment (set by the runtime from the deployed function's configuration).

Protocol: requests arrive as JSON lines on fd 0, answers leave as JSON lines on fd 1; both are
moved away at start, so whatever the handler prints (Powertools logs, EMF metrics, ``print``) is
captured per invocation and returned with the answer, like the lines CloudWatch would get.
The process ends when its input closes (the runtime stopped or died): no orphans.

    ready:   {"type": "ready", "init_ms", "init_error"?, "logs"}
    request: {"id", "event", "context": {"function_name", ..., "deadline_ms"}}
    answer:  {"type": "answer", "id", "ok", "result" | "error", "logs", "duration_ms"}
"""

from __future__ import annotations

import decimal
import importlib
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any


class Capture(io.TextIOBase):
    """sys.stdout/sys.stderr of the handler: complete lines are kept for the current invocation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partial = ""
        self._lines: list[str] = []

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 2

    def write(self, text: str) -> int:
        with self._lock:
            data = self._partial + text
            *complete, self._partial = data.split("\n")
            self._lines.extend(complete)
        return len(text)

    def flush(self) -> None:
        return

    def take(self) -> list[str]:
        with self._lock:
            lines, self._lines = self._lines, []
            if self._partial:
                lines.append(self._partial)
                self._partial = ""
        return lines


class Context:
    """The Lambda context object handlers receive."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.function_name = data["function_name"]
        self.function_version = data.get("function_version", "$LATEST")
        self.invoked_function_arn = data["invoked_function_arn"]
        self.memory_limit_in_mb = int(data.get("memory_limit_in_mb", 128))
        self.aws_request_id = data["aws_request_id"]
        self.log_group_name = data.get("log_group_name", f"/aws/lambda/{self.function_name}")
        self.log_stream_name = data.get("log_stream_name", "local")
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(data["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)[1:],
    }


def _default(value: Any) -> Any:
    # The Lambda Python runtime serialises Decimal results (as numbers); anything else unknown fails.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def main() -> None:
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray C-level writes to stdout go to the runtime's stderr, not into the protocol
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runtime's to handle

    capture = Capture()
    sys.stdout = capture
    sys.stderr = capture

    script_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != script_dir]
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    extra = [p for p in os.environ.get("ORDERBRIDGE_LOCAL_PATH", "").split(os.pathsep) if p]
    sys.path[:0] = [task_root, *extra]
    os.chdir(task_root)

    def send(message: dict[str, Any]) -> None:
        proto_out.write((json.dumps(message, default=str) + "\n").encode())

    started = time.perf_counter()
    handler = None
    init_error = None
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, function_name)
    except Exception as exc:
        init_error = _error(exc, "Runtime.ImportModuleError" if isinstance(exc, ImportError) else None)
    send(
        {
            "type": "ready",
            "init_ms": round((time.perf_counter() - started) * 1000, 1),
            "init_error": init_error,
            "logs": capture.take(),
        }
    )

    for line in proto_in:
        if not line.strip():
            continue
        request = json.loads(line)
        began = time.perf_counter()
        answer: dict[str, Any] = {"type": "answer", "id": request["id"]}
        if handler is None:
            answer.update(ok=False, error=init_error)
        else:
            try:
                result = handler(request["event"], Context(request["context"]))
            except Exception as exc:
                answer.update(ok=False, error=_error(exc))
            else:
                try:
                    answer.update(ok=True, result=json.dumps(result, default=_default))
                except (TypeError, ValueError) as exc:
                    answer.update(ok=False, error=_error(exc, "Runtime.MarshalError"))
        answer["duration_ms"] = round((time.perf_counter() - began) * 1000, 1)
        answer["logs"] = capture.take()
        send(answer)


if __name__ == "__main__":
    main()
