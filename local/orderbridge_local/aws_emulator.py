"""The AWS emulator: moto's backends behind one HTTP endpoint on 127.0.0.1, and the deployment of
the translated template into it through moto's CloudFormation.

Why not ``moto.server.ThreadedMotoServer``: it is a Flask application, and Flask is not among the
project's dependencies (``moto[all]`` does not pull ``moto[server]``). The endpoint here is a small
WSGI app (werkzeug, served threaded) that does what moto's server does to route a request — read
the SigV4 credential scope for the service and region — and hands the request to moto's own
dispatcher (the one ``mock_aws`` uses in-process, ``BotocoreStubber.process_request``). Every
client — this process, the function workers, the CLI, tests — reaches it via ``AWS_ENDPOINT_URL``.

What moto cannot do as the local stack needs, and what is done about it (:class:`MotoPatches`,
active for the emulator's lifetime, in this process only):

* Lambda ``Invoke`` without Docker returns a canned answer: the invoke (API, Step Functions tasks,
  moto-internal deliveries) is routed to the local runtime, which runs the real handler.
* CloudFormation creates state machines in the plain Step Functions backend, while the API with
  ``execute_state_machine`` serves the executing (parser) backend: CloudFormation is pointed at
  the executing one.
* With a DynamoDB stream event source mapping, moto invokes the function synchronously inside the
  ``PutItem`` that wrote the record, then forgets the records: that delivery is switched off and
  the local stream poller reads the stream like Lambda does (:mod:`.streams`).
* Conditional writes are not atomic in moto: its DynamoDB writes are serialised
  (:func:`orderbridge_local.emulator.serialise_dynamodb_writes`, shared with the tests).
* moto's Query sorts the whole table for every query: a query reads its partition
  (:func:`orderbridge_local.emulator.partition_queries`).
* CloudFormation reads ``DefinitionString`` only (no ``DefinitionSubstitutions``), and has no
  ``AWS::Scheduler::Schedule``: handled in :mod:`.template` and :mod:`.scheduler`.
* A ``.waitForTaskToken`` task with a heartbeat whose token is answered while its Lambda is still
  running (the workflow's RegisterWait settles a wait that is already over): moto sets up the
  heartbeat waiter after the answer came and waits for a heartbeat that never comes. The waiter
  is told at once when the answer is already there, as Step Functions would resume the task.
* ``SendTaskSuccess`` / ``SendTaskFailure`` / ``SendTaskHeartbeat`` look for the token in every
  execution, and moto marks an execution RUNNING before its thread has made the execution's
  environment: a token sent while another execution starts failed with InternalFailure. An
  execution without an environment holds no token yet and is passed over.
* Step Functions made a new boto3 Lambda client for every Lambda task (milliseconds of CPU in the
  one process that serves every AWS call, per task of every order): one client per region is kept.
* What moto keeps and would redo per execution: :mod:`.retention`; where it spends the process's
  CPU per request for nothing a client sees (items in answers, JSONPath): :mod:`.fastpath`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import quote

import boto3
from botocore.awsrequest import AWSPreparedRequest
from botocore.compat import HTTPHeaders
from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from orderbridge_local import fastpath, retention
from orderbridge_local.emulator import partition_queries, serialise_dynamodb_writes
from orderbridge_local.template import ACCOUNT_ID, ARTIFACT_BUCKET, COMPLETED_LOCALLY, FRONT_TYPES, LocalTemplate

logger = logging.getLogger("orderbridge_local.aws_emulator")

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# Credentials the emulator accepts (it does not check signatures). DEV ONLY.
DEV_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}

# SigV4 signing names that differ from the moto host prefix (from moto's server).
_SIGNING_ALIASES = {"eventbridge": "events"}
_DROPPED_ANSWER_HEADERS = ("status", "content-length", "transfer-encoding", "connection", "server", "date")
# The caller of a request: a function's workers send ``app/<logical id>`` in their User-Agent
# (``AWS_SDK_UA_APP_ID``, set by the local runtime); anything else is the stack itself.
_APP_ID = re.compile(r"(?:^| )app/([A-Za-z0-9_.-]+)")
_REQUESTS_KEPT = 20_000
_requests: deque[tuple[float, str, str, float]] = deque(maxlen=_REQUESTS_KEPT)  # at, caller, service, ms


def request_timings(since: float = 0.0) -> dict[str, Any]:
    """The emulator's own time per request (moto's work and the wait for its locks, not the network)
    by caller, for the requests that arrived at or after ``since`` (epoch seconds); with the time
    DynamoDB writes waited for their lock."""
    from orderbridge_local.emulator import lock_waits

    by_caller: dict[str, list[float]] = {}
    for at, caller, service, ms in list(_requests):
        if at >= since:
            by_caller.setdefault(f"{caller} {service}", []).append(ms)
    out = {}
    for key, values in sorted(by_caller.items()):
        ordered = sorted(values)
        out[key] = {
            "requests": len(values),
            "p50_ms": round(ordered[len(ordered) // 2], 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
            "total_s": round(sum(values) / 1000, 2),
        }
    return {"requests": out, "dynamodb_lock": lock_waits()}


# (function name, payload, invocation type, log type) -> (payload, function error or None, log tail)
LambdaRouter = Callable[[str, bytes, str, str | None], tuple[bytes, str | None, str]]


# ------------------------------------------------------------------------------ moto patches


class MotoPatches:
    """The patches listed in the module docstring; ``router`` is set once the runtime exists."""

    def __init__(self) -> None:
        self.router: LambdaRouter | None = None
        self._stream_lock = threading.Lock()
        self._patchers: list[Any] = []
        self._pruner: retention.ThreadListPruner | None = None

    def start(self) -> None:
        from moto.awslambda.models import LambdaFunction
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.core.config import default_user_config
        from moto.dynamodb.models.table import StreamShard
        from moto.stepfunctions.models import StateMachine
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
        from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        serialise_dynamodb_writes()
        partition_queries()
        patches = self
        original_add = StreamShard.add
        original_setup_heartbeat = CallbackEndpoint.setup_heartbeat_endpoint

        def setup_heartbeat(endpoint, heartbeat_seconds):  # noqa: ANN001
            heartbeat = original_setup_heartbeat(endpoint, heartbeat_seconds)
            if endpoint.get_outcome() is not None:  # answered before the task started to wait
                heartbeat.notify()
            return heartbeat

        def started_executions(backend, execution_status=None):  # noqa: ANN001
            return [
                execution
                for machine in list(backend.state_machines)
                for execution in list(machine.executions)
                if execution.exec_worker is not None
                and execution.exec_worker.env is not None
                and (execution_status is None or execution.status == execution_status)
            ]

        def backend_invoke(backend, function_name, qualifier, body, headers, response_headers):  # noqa: ANN001
            fn = backend.get_function(function_name, qualifier)
            return patches._invoke(fn.function_name, body, headers or {}, response_headers)

        def function_invoke(fn, body, request_headers, response_headers):  # noqa: ANN001
            return patches._invoke(fn.function_name, body, request_headers or {}, response_headers)

        def create_state_machine(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # noqa: ANN001
            from moto.stepfunctions.responses import get_backend

            props = cloudformation_json["Properties"]
            return get_backend(account_id, region_name).create_state_machine(
                name=props.get("StateMachineName", resource_name),
                definition=props.get("DefinitionString", ""),
                roleArn=props.get("RoleArn", ""),
                tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
                sm_type=props.get("StateMachineType"),
            )

        def stream_add(shard, old, new):  # noqa: ANN001
            with patches._stream_lock:
                mappings = shard.table.lambda_event_source_mappings
                shard.table.lambda_event_source_mappings = {}
                try:
                    original_add(shard, old, new)
                finally:
                    shard.table.lambda_event_source_mappings = mappings
            retention.after_stream_add(shard)

        self._patchers = [
            mock.patch.dict(default_user_config, {**default_user_config, **MOTO_CONFIG}),
            mock.patch.object(LambdaSimpleBackend, "invoke", backend_invoke),
            mock.patch.object(LambdaFunction, "invoke", function_invoke),
            mock.patch.object(StateMachine, "create_from_cloudformation_json", classmethod(create_state_machine)),
            mock.patch.object(StreamShard, "add", stream_add),
            mock.patch.object(CallbackEndpoint, "setup_heartbeat_endpoint", setup_heartbeat),
            mock.patch.object(StepFunctionsParserBackend, "_get_executions", started_executions),
            mock.patch.object(
                lambda_eval_utils,
                "boto_client_for",
                _kept_clients(lambda_eval_utils.boto_client_for),  # type: ignore[attr-defined]  # moto re-exports it
            ),
            *retention.patchers(),
            *fastpath.patchers(),
        ]
        for patcher in self._patchers:
            patcher.start()
        self._pruner = retention.ThreadListPruner()
        self._pruner.start()

    def stop(self) -> None:
        if self._pruner is not None:
            self._pruner.stop()
            self._pruner = None
        for patcher in reversed(self._patchers):
            patcher.stop()
        self._patchers = []

    def _invoke(self, function_name: str, body: Any, headers: Any, response_headers: dict[str, Any]) -> bytes:
        if isinstance(body, str):
            payload = body.encode()
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body).encode()
        if self.router is None:
            raise RuntimeError("the local runtime is not attached to the emulator yet")
        invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        answer, error, tail = self.router(function_name, payload, invocation_type, _header(headers, "X-Amz-Log-Type"))
        if error:
            response_headers["x-amz-function-error"] = error
        if tail:
            response_headers["x-amz-log-result"] = tail
        return answer


def _kept_clients(make: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``boto_client_for`` with one client per (region, service) kept, made as moto makes it
    (its endpoint, no retries, no timeout) but with a connection for each of many executions calling
    at once. In-process (``mock_aws``) moto's own is used."""
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    kept: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if botocore_stubber.enabled:
            return make(region=region, service=service, state_credentials=state_credentials)
        with lock:
            client = kept.get((region, service))
            if client is None:
                client = kept[(region, service)] = boto3.session.Session().client(  # type: ignore[call-overload]
                    service,
                    region_name=region,
                    aws_access_key_id="ak",
                    aws_secret_access_key="sk",
                    endpoint_url=f"http://localhost:{moto_server_port()}",
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        max_pool_connections=256,
                        proxies={},
                    ),
                )
            return client

    return boto_client_for


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return value
    return None


# -------------------------------------------------------------------------------- the endpoint


def infer_aws_host(headers: dict[str, str], path: str) -> str | None:
    """The AWS host a request signed for ``service``/``region`` would have gone to (moto's backend
    URL patterns are keyed by host). Unsigned requests are not routed. ``headers``: lower-case."""
    if path.startswith("/moto-api"):
        return "motoapi.amazonaws.com"
    auth = headers.get("authorization", "")
    try:
        scope = auth.split(",")[0].split()[1]
        _, _, region, service, _ = scope.split("/")
    except (IndexError, ValueError):
        return None
    service = _SIGNING_ALIASES.get(service.lower(), service.lower())
    if service == "dynamodb" and headers.get("x-amz-target", "").startswith("DynamoDBStreams"):
        return f"streams.dynamodb.{region}.amazonaws.com"
    return f"{service}.{region}.amazonaws.com"


class MotoApp:
    """WSGI: an AWS API request on 127.0.0.1 → the moto backend it was signed for."""

    def __init__(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        self._stubber = BotocoreStubber()  # never enabled: only used as moto's dispatcher

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        headers = {k.lower(): v for k, v in request.headers.items()}
        host = infer_aws_host(headers, request.path)
        if host is None:
            body = json.dumps({"message": "unsigned request: the emulator routes by the SigV4 credential scope"})
            return Response(body, 400, content_type="application/json")(environ, start_response)
        query = request.query_string.decode("latin-1")
        url = f"https://{host}{quote(request.path, safe='/:@!$&()*+,;=-._~')}" + (f"?{query}" if query else "")
        forwarded = HTTPHeaders()
        for key, value in request.headers.items():
            if key.lower() not in ("host", "content-length", "transfer-encoding"):
                forwarded[key] = value
        aws_request = AWSPreparedRequest(
            method=request.method, url=url, headers=forwarded, body=request.get_data(), stream_output=False
        )
        arrived, began = time.time(), time.perf_counter()
        try:
            result = self._stubber.process_request(aws_request)
        except Exception as exc:  # a moto bug must not kill the server thread
            logger.exception("emulator: %s %s failed", request.method, url)
            body = json.dumps({"__type": "InternalFailure", "message": f"{type(exc).__name__}: {exc}"})
            return Response(body, 500, content_type="application/json")(environ, start_response)
        finally:
            app = _APP_ID.search(headers.get("user-agent", ""))
            _requests.append(
                (arrived, app.group(1) if app else "stack", host.split(".")[0], (time.perf_counter() - began) * 1000)
            )
        if result is None:
            body = json.dumps({"message": f"no emulated service for {host}"})
            return Response(body, 404, content_type="application/json")(environ, start_response)
        status, out_headers, answer = result
        response = Response(answer if answer is not None else b"", int(status))
        response.headers.clear()
        for key, value in (out_headers or {}).items():
            if key.lower() not in _DROPPED_ANSWER_HEADERS:
                response.headers[key] = str(value)
        return response(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class Emulator:
    """moto behind ``http://127.0.0.1:<port>`` (``port=0``: a free one), patched as above."""

    def __init__(self, *, port: int = 0, region: str = "eu-west-1") -> None:
        self.region = region
        self.patches = MotoPatches()
        self._requested_port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._moto_port: str | None = None
        self.url = ""

    def start(self) -> Emulator:
        self.patches.start()
        try:
            self._server = make_server(
                "127.0.0.1", self._requested_port, MotoApp(), threaded=True, request_handler=_QuietHandler
            )
        except BaseException:
            self.patches.stop()
            raise
        port = self._server.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        # moto's Step Functions engine calls Lambda through http://localhost:$MOTO_PORT when it is
        # not intercepting boto3 in-process (moto.stepfunctions.parser.asl.utils.boto_client).
        self._moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="aws-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
            if self._moto_port is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = self._moto_port
        self.patches.stop()

    def client(self, service: str) -> Any:
        return client(service, self.url, self.region)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for the emulator (its own session: never the caller's AWS configuration)."""
    session = boto3.session.Session(
        aws_access_key_id=DEV_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DEV_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=DEV_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    )
    config = Config(connect_timeout=3, read_timeout=30, retries={"mode": "standard", "max_attempts": 2}, proxies={})
    # boto3-stubs types client() per literal service name; this one serves any service.
    return session.client(service, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]


@contextmanager
def running(port: int = 0, region: str = "eu-west-1") -> Iterator[Emulator]:
    emulator = Emulator(port=port, region=region).start()
    try:
        yield emulator
    finally:
        emulator.stop()


# ------------------------------------------------------------------------------------- deploy


@dataclass(frozen=True)
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    environment: dict[str, str]


@dataclass
class DeployedStack:
    """What the emulator's CloudFormation made of the template."""

    name: str
    region: str
    endpoint_url: str
    resources: dict[str, tuple[str, str]]  # logical id -> (type, physical id)
    functions: dict[str, DeployedFunction]
    outputs: dict[str, str]
    left_out: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def physical(self, logical_id: str) -> str:
        return self.resources[logical_id][1]


class DeployError(Exception):
    pass


def deploy(emulator: Emulator, local: LocalTemplate, *, stack_name: str = "orderbridge-local") -> DeployedStack:
    """Create the template's resources in the emulator through its CloudFormation."""
    started = time.monotonic()
    template, left_out = local.for_emulator(supported=moto_supports)
    unsupported = sorted(
        kind
        for kind in {local.translated["Resources"][n]["Type"] for n in left_out}
        if kind not in _HANDLED_LOCALLY and not kind.startswith(FRONT_TYPES)
    )
    if unsupported:
        logger.warning("the emulator cannot create %s; those resources are left out locally", ", ".join(unsupported))
    s3 = emulator.client("s3")
    with suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=ARTIFACT_BUCKET, CreateBucketConfiguration={"LocationConstraint": emulator.region})
    for key, folder in local.code_dirs.items():
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=_placeholder_zip(str(folder)))
    cfn = emulator.client("cloudformation")
    try:
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in local.overrides.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    except Exception as exc:
        raise DeployError(f"the emulator's CloudFormation refused the template: {exc}") from exc
    stack = _wait_for_stack(cfn, stack_name)
    resources = {
        r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId") or "")
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    }
    missing = sorted(set(template["Resources"]) - set(resources))
    if missing:
        raise DeployError(f"the emulator did not create {missing} (resource types it does not support?)")
    lam = emulator.client("lambda")
    functions = {}
    for logical_id in local.functions:
        config = lam.get_function_configuration(FunctionName=resources[logical_id][1])
        variables = (config.get("Environment") or {}).get("Variables") or {}
        functions[logical_id] = DeployedFunction(
            logical_id=logical_id,
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            environment={k: env_str(v) for k, v in variables.items()},
        )
    return DeployedStack(
        name=stack_name,
        region=emulator.region,
        endpoint_url=emulator.url,
        resources=resources,
        functions=functions,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []},
        left_out=left_out,
        seconds=time.monotonic() - started,
    )


def moto_supports(resource_type: str) -> bool:
    """Whether moto's CloudFormation creates resources of this type (custom resources: no — their
    response protocol is not emulated)."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    return resource_type not in NULL_MODELS and resource_type in get_model_map()


_HANDLED_LOCALLY = {"AWS::Scheduler::Schedule", "AWS::Lambda::Permission", *COMPLETED_LOCALLY}  # cognito.py


def _wait_for_stack(cfn: Any, name: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return stack
        if "FAILED" in status or "ROLLBACK" in status or time.monotonic() > deadline:
            events = cfn.describe_stack_events(StackName=name)["StackEvents"]
            reasons = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
                for e in events
                if e.get("ResourceStatusReason")
            ]
            raise DeployError(f"stack {name} is {status}: {stack.get('StackStatusReason')} {reasons[:5]}")
        time.sleep(0.1)


def env_str(value: Any) -> str:
    """An environment value as Lambda holds it: CloudFormation turns numbers and booleans into
    strings (the emulator keeps them as they were)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _placeholder_zip(note: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("LOCAL.txt", f"The local stack runs this code from {note}\n")
    return buffer.getvalue()


def resolve_in_stack(stack_name: str, value: Any, *, region: str) -> Any:
    """A template fragment with its intrinsics resolved against the deployed stack, the way the
    emulator's CloudFormation resolved the resources (for resources it does not create, such as
    ``AWS::Scheduler::Schedule``). Only in the emulator's process."""
    from moto.cloudformation.models import cloudformation_backends
    from moto.cloudformation.parsing import clean_json

    backend = cloudformation_backends[ACCOUNT_ID][region]
    for stack in backend.stacks.values():
        if stack.name == stack_name and stack.status.endswith("COMPLETE"):
            return clean_json(json.loads(json.dumps(value)), stack.resource_map)
    raise DeployError(f"no deployed stack {stack_name}")
