"""The local stack: the template deployed into the emulator, its functions run by the local
runtime behind the HTTP front, schedules and stream pollers, the vendor sandboxes, demo data —
and ``.local/stack.json`` for scripts and tests once it is all ready.

Start-up order: bind the front (its port is in the webhook URLs), start the sandboxes (their
URLs are template parameters), translate and deploy the template, start the runtime, seed,
start schedules and pollers, serve, write ``stack.json``. ``stop()`` undoes it in reverse and
is safe to call from any state.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from orderbridge_local import aws_emulator as emu
from orderbridge_local import cognito, logs, retention, seed
from orderbridge_local import template as tpl
from orderbridge_local.apigw import ApiFront, InvokeOutcome
from orderbridge_local.runtime import Invocation, Runtime
from orderbridge_local.scheduler import (
    Clock,
    Schedule,
    Scheduler,
    TargetDispatcher,
    schedule_from_scheduler_resource,
    schedules_from_rules,
)
from orderbridge_local.streams import StreamPollers

logger = logging.getLogger("orderbridge_local.stack")

REPO_ROOT = Path(__file__).resolve().parents[2]

# stack.json's webhook names → the template Outputs that document those URLs, and the token each
# sender presents (the key in the webhook secret).
WEBHOOK_OUTPUTS = {
    "blink_orders": ("BlinkOrderWebhookUrl", "blink"),
    "blink_order_status": ("BlinkOrderStatusWebhookUrl", "blink"),
    "blink_task_status": ("BlinkTaskStatusWebhookUrl", "blink_logistics"),
    "partner_orders": ("PartnerOrderWebhookUrl", "partner"),
    "bloq": ("BloqWebhookUrl", None),
}
# Sandbox name → the template parameter holding that vendor's base URL.
SANDBOX_PARAMETERS = {
    "blink": "BlinkBaseUrl",
    "blink_logistics": "BlinkLogisticsBaseUrl",
    "bloqit": "BloqitBaseUrl",
    "dispatchninja": "DispatchNinjaBaseUrl",
}
# An API URL output: https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}
_API_PREFIX = re.compile(r"^https?://\$\{[^}]+\}[^/]*(/\$\{[^}]+\})?")


def default_template() -> Path:
    here = Path.cwd() / "template.yaml"
    return here if here.is_file() else REPO_ROOT / "template.yaml"


@dataclass
class StackConfig:
    template: Path = field(default_factory=default_template)
    port: int = 3000
    emulator_port: int = 0
    state_dir: Path | None = None  # default: <template folder>/.local
    stack_name: str = "orderbridge-local"
    stage: str = "local"
    region: str = tpl.DEFAULT_REGION
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    sandboxes: bool = True
    schedule_speed: float = 1.0
    max_workers: int = 4
    background_concurrency: int | None = None  # background invocations at once (runtime.Lane); None: CPUs
    warm: bool = True
    verbose: bool = False

    @property
    def state_path(self) -> Path:
        return (self.state_dir or Path(self.template).resolve().parent / ".local") / "stack.json"


class _Handler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class _NotReady:
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return Response(json.dumps({"message": "the local stack is starting"}), 503, content_type="application/json")(
            environ, start_response
        )


class _Switch:
    """The front's WSGI app, set once the stack is ready (the socket is bound earlier)."""

    def __init__(self) -> None:
        self.app: Any = _NotReady()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


class LocalStack:
    def __init__(self, config: StackConfig, *, event_log: logs.EventLog | None = None) -> None:
        self.config = config
        self.events = event_log or logs.EventLog(verbose=config.verbose)
        self.dev = seed.DevSecrets.generate()
        self.template: tpl.LocalTemplate | None = None
        self.emulator: emu.Emulator | None = None
        self.deployed: emu.DeployedStack | None = None
        self.runtime: Runtime | None = None
        self.scheduler: Scheduler | None = None
        self.pollers: StreamPollers | None = None
        self.sandboxes: dict[str, Any] = {}
        self.front: BaseWSGIServer | None = None
        self._front_app = _Switch()
        self._front_thread: threading.Thread | None = None
        self._schedule_matches: Any = None
        self.info: dict[str, Any] = {}
        self.auth = cognito.LocalAuth()
        self.startup_seconds = 0.0

    # ------------------------------------------------------------------ start

    @property
    def api_url(self) -> str:
        assert self.front is not None
        return f"http://127.0.0.1:{self.front.socket.getsockname()[1]}"

    def start(self) -> LocalStack:
        began = time.monotonic()
        os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
        try:
            self._bind_front()
            probe = tpl.load(self.config.template, overrides=self._overrides({}), region=self.config.region)
            webhooks = self._webhook_urls(probe)
            sandbox_urls = self._start_sandboxes(webhooks, probe) if self.config.sandboxes else {}
            self.template = tpl.load(
                self.config.template, overrides=self._overrides(sandbox_urls), region=self.config.region
            )
            self.emulator = emu.Emulator(port=self.config.emulator_port, region=self.config.region).start()
            self.deployed = emu.deploy(self.emulator, self.template, stack_name=self.config.stack_name)
            # Cognito and the API keys (moto's CloudFormation makes neither), the dev user
            self.deployed, self.auth = cognito.provision(
                self.emulator, self.template, self.deployed, front_url=self.api_url, ops_api_key=self.dev.ops_api_key
            )
            self._start_runtime()
            settings = seed.app_settings([f.environment for f in self.deployed.functions.values()])
            seeded = seed.seed(
                settings,
                dynamodb=self.emulator.client("dynamodb"),
                secretsmanager=self.emulator.client("secretsmanager"),
                dev=self.dev,
                vendor_credentials=seed.DEV_VENDOR_CREDENTIALS,
            )
            self._start_schedules()
            self.pollers = StreamPollers(
                self.emulator.client("lambda"),
                InProcessStreams(self.config.region),
                self._invoke_for_stream,
                self.config.region,
            ).start()
            self._front_app.app = ApiFront(
                self.template.routes,
                self._invoke_route,
                api_key=self.dev.ops_api_key,
                api_keys=self.auth.api_keys,
                region=self.config.region,
                admin=AdminApp(self),
                access_log=self.events.gateway,
            )
            # /_cognito/: the emulator's Cognito on the front's origin (the console signs in there)
            self._front_app.app = cognito.CognitoProxy(self._front_app.app, self.emulator.url, self.config.region)
            if self.config.warm:  # the functions behind routes; the others start on first use
                assert self.runtime is not None
                self.runtime.warm(sorted({r.function for r in self.template.routes}))
            self.info = self._stack_json(webhooks, sandbox_urls, settings, seeded)
            retention.GC_PAUSES.install()
            retention.settle_heap()
            self._write_state()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _overrides(self, sandbox_urls: dict[str, str]) -> dict[str, str]:
        overrides = {"Stage": self.config.stage}
        for name, url in sandbox_urls.items():
            if name in SANDBOX_PARAMETERS:
                overrides[SANDBOX_PARAMETERS[name]] = url
        overrides.update(self.config.parameter_overrides)
        return overrides

    def _bind_front(self) -> None:
        self.front = make_server(
            "127.0.0.1", self.config.port, self._front_app, threaded=True, request_handler=_Handler
        )
        self._front_thread = threading.Thread(
            target=self.front.serve_forever, kwargs={"poll_interval": 0.1}, name="api-front", daemon=True
        )
        self._front_thread.start()

    def _webhook_urls(self, local: tpl.LocalTemplate) -> dict[str, str]:
        """Local URLs of the webhooks the template's Outputs document, with their tokens."""
        tokens = {
            "blink": self.dev.blink_token,
            "blink_logistics": self.dev.blink_logistics_token,
            "partner": self.dev.partner_tokens[seed.DEMO_PARTNER],
        }
        outputs = local.sam.get("Outputs") or {}
        out = {}
        for name, (output, token_kind) in WEBHOOK_OUTPUTS.items():
            path = output_path(outputs.get(output, {}).get("Value"))
            if path is None:
                continue
            path = path.replace("{partner}", seed.DEMO_PARTNER)
            token = tokens.get(token_kind or "")
            out[name] = f"{self.api_url}{path}" + (f"?token={token}" if token else "")
        return out

    def _start_sandboxes(self, webhooks: dict[str, str], local: tpl.LocalTemplate) -> dict[str, str]:
        try:
            from orderbridge_local.sandboxes import build_sandboxes
        except ImportError as exc:
            logger.warning("vendor sandboxes are not available (%s); starting without them", exc)
            return {}
        parameters = local.parameters
        creds = seed.DEV_VENDOR_CREDENTIALS

        def strip_token(url: str | None) -> str | None:
            return url.split("?", 1)[0] if url else None

        from orderbridge.domain.rent_events import ACTED_ON_EVENTS

        config = {
            "blink": {
                "username": creds["blink"]["username"],
                "password": creds["blink"]["password"],
                "order_webhook_url": strip_token(webhooks.get("blink_orders")),
                "order_status_webhook_url": strip_token(webhooks.get("blink_order_status")),
                "webhook_token": self.dev.blink_token,
            },
            "blink_logistics": {
                "api_token": creds["blink_logistics"]["token"],
                "task_status_webhook_url": strip_token(webhooks.get("blink_task_status")),
                "webhook_token": self.dev.blink_logistics_token,
            },
            "bloqit": {
                "api_key": creds["bloqit"]["api_key"],
                "signature_header": parameters.get("BloqSignatureHeader", "x-bloq-signature"),
                "timestamp_header": parameters.get("BloqTimestampHeader", "x-bloq-timestamp"),
                # subscribed to what RegisterBloqWebhookFunction subscribes a deployment to
                "webhooks": [
                    {
                        "url": webhooks["bloq"],
                        "secret": self.dev.bloq_secret,
                        "description": "Orderbridge local stack",
                        "enabledEvents": list(ACTED_ON_EVENTS),
                    }
                ]
                if "bloq" in webhooks
                else [],
            },
            "dispatchninja": {"api_key": creds["dispatchninja"]["api_key"]},
            "partner": {"webhook_url": webhooks.get("partner_orders")},
        }
        sandboxes = build_sandboxes(config)
        for name, sandbox in sandboxes.items():
            self.sandboxes[name] = sandbox.serve(host="127.0.0.1", port=0)
        urls = {name: handle.url for name, handle in self.sandboxes.items()}
        if "dispatchninja" in urls:  # the vendor's base URL includes the API version path
            urls["dispatchninja"] += getattr(sandboxes["dispatchninja"].settings, "base_path", "")
        return urls

    def _start_runtime(self) -> None:
        assert self.template and self.deployed and self.emulator
        self.runtime = Runtime(
            self.template.functions,
            self.deployed.functions,
            endpoint_url=self.emulator.url,
            region=self.config.region,
            max_workers=self.config.max_workers,
            front=front_functions(self.template),
            background_concurrency=self.config.background_concurrency,
        )
        self.runtime.listeners += [logs.annotate, self._invocation_listener()]
        self.runtime.front_listeners.append(retention.GC_PAUSES.front_state)
        self.emulator.patches.router = self.runtime.route_from_emulator

    def _invoke_for_stream(self, function: str, event: Any, source: str) -> Invocation:
        """The stream pollers' way to a function: through the runtime running now."""
        assert self.runtime is not None
        return self.runtime.invoke(function, event, source=source, background=True)

    def _invocation_listener(self) -> Callable[..., Any]:
        """What hears of each invocation besides the log annotation."""
        return self.events.invocation

    def _start_schedules(self) -> None:
        assert self.template and self.deployed and self.emulator and self.runtime
        logical_by_physical = {physical: logical for logical, (_, physical) in self.deployed.resources.items()}
        events = self.emulator.client("events")
        template, deployed, region = self.template, self.deployed, self.config.region

        def discover() -> list[Schedule]:
            found = schedules_from_rules(events, logical_by_physical)
            for logical, res in template.resources_of_type("AWS::Scheduler::Schedule").items():
                props = emu.resolve_in_stack(deployed.name, res.get("Properties", {}), region=region)
                found.append(schedule_from_scheduler_resource(logical, props, region, tpl.ACCOUNT_ID))
            return found

        runtime = self.runtime

        def matches(schedule: Schedule, name: str) -> bool:
            for target in schedule.targets:
                if ":function:" in target.arn:
                    try:
                        if runtime.logical_id(target.arn) == name:
                            return True
                    except KeyError:
                        pass
                if target.arn in (logical_by_physical.get(name), name) or logical_by_physical.get(target.arn) == name:
                    return True
            return False

        self._schedule_matches = matches
        dispatcher = TargetDispatcher(
            invoke_async=lambda arn, payload, source: runtime.invoke_async(arn, payload, source=source),
            client=self.emulator.client,
        )
        self.scheduler = Scheduler(
            discover,
            dispatcher,
            region=region,
            account=tpl.ACCOUNT_ID,
            clock=Clock(self.config.schedule_speed),
            on_fire=self._log_fire,
        ).start()

    def _log_fire(self, schedule: Schedule, notes: list[str]) -> None:
        """Lambda targets get their own line from the runtime; other targets one here."""
        shown = [n for n in notes if not n.startswith("invoked ")]
        if shown:
            self.events.info(f"{'EventBridge':<32} schedule {schedule.label}: {'; '.join(shown)}")

    def fire(self, name: str) -> list[dict[str, Any]]:
        assert self.scheduler is not None
        return self.scheduler.fire_now(name, self._schedule_matches)

    def _invoke_route(self, route: tpl.Route, event: dict[str, Any]) -> InvokeOutcome:
        assert self.runtime is not None
        invocation = self.runtime.invoke(route.function, event, source=f"{event['httpMethod']} {event['path']}")
        timed_out = bool(invocation.error and invocation.error.get("errorType") == "Sandbox.Timedout")
        return InvokeOutcome(ok=invocation.ok, result=invocation.result, timed_out=timed_out, error=invocation.error)

    # ------------------------------------------------------------------ stack.json

    def _stack_json(
        self, webhooks: dict[str, str], sandbox_urls: dict[str, str], settings: Any, seeded: dict[str, Any]
    ) -> dict[str, Any]:
        assert self.template and self.deployed and self.emulator and self.scheduler
        return {
            "api": self.api_url,
            "webhooks": webhooks,
            "ops_api_key": self.dev.ops_api_key,
            "bloq_webhook_secret": self.dev.bloq_secret,
            "bloq_signature_headers": {
                "signature": settings.bloq.signature_header,
                "timestamp": settings.bloq.timestamp_header,
            },
            "sandboxes": sandbox_urls,
            "admin": f"{self.api_url}/_local",
            "emulator": {
                "endpoint_url": self.emulator.url,
                "region": self.config.region,
                "stack_name": self.deployed.name,
            },
            "template": str(self.template.path),
            "routes": [
                f"{r.method} {r.resource}" + (" (API key)" if r.api_key_required else "") for r in self.template.routes
            ],
            "functions": {k: v.name for k, v in self.deployed.functions.items()},
            "schedules": [s["logical_id"] or s["name"] for s in self.scheduler.summary()],
            "seeded": seeded,
            "pid": os.getpid(),
            "console": {
                "url": f"{self.api_url}/console/",
                "username": self.auth.username,
                "password": self.auth.password,
                "user_pool_id": self.auth.user_pool_id,
                "client_id": self.auth.client_id,
                "cognito_endpoint": self.auth.endpoint,
            },
            "dev_only": "every token and key in this file is a per-run development value",
        }

    def _write_state(self) -> None:
        path = self.config.state_path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.info, indent=2) + "\n")
        os.chmod(temporary, 0o600)
        temporary.replace(path)

    def banner(self) -> str:
        from orderbridge.domain.ids import order_id_for

        info = self.info
        assert self.template is not None
        row = "  {:<26} {}".format
        lines = [
            "",
            f"Orderbridge local stack is up in {self.startup_seconds:.1f} s — template {self.template.path}",
            row("API", f"{info['api']}   (stage {self.config.stage}; {len(info['routes'])} routes)"),
        ]
        lines += [row(f"webhook {name}", url) for name, url in info["webhooks"].items()]
        lines += [
            row("ops API key (dev only)", info["ops_api_key"]),
            row("ops console", info["console"]["url"]),
            row(
                "console sign-in (dev only)",
                f"{info['console']['username']} / {info['console']['password']}   (local dev secret, this run only)",
            ),
            row("AWS emulator", f"{info['emulator']['endpoint_url']}   (AWS_ENDPOINT_URL, {self.config.region})"),
        ]
        lines += [row(f"sandbox {name}", url) for name, url in info["sandboxes"].items()]
        if info["schedules"]:
            lines.append(row("schedules", ", ".join(info["schedules"])))
        lines += [
            row("stack.json", self.config.state_path),
            "",
            "Try:",
            "  # a Blink order, as Blink sends it (the Blink sandbox posts its Order Webhook); README: quick start",
            f"  curl -s -X POST '{info['sandboxes'].get('blink', '')}/_admin/place-order' "
            "-H 'Content-Type: application/json' --data @tests/samples/blink_order_webhook.json",
            f"  curl -s '{info['api']}/ops/orders/{order_id_for('blink', '1236589')}' "
            f"-H 'X-Api-Key: {info['ops_api_key']}'",
            "  python -m orderbridge_local demo        # places a sample order and follows its timeline",
            "  python -m orderbridge_local fire <schedule or function>",
            "  python -m orderbridge_local invoke <FunctionLogicalId> -e events/<file>.json",
            "Ctrl-C stops everything.",
            "",
        ]
        return "\n".join(lines)

    # ------------------------------------------------------------------ stop

    def stop(self) -> None:
        """Stop everything that was started (any state; each step bounded)."""
        steps = [
            ("front", self._stop_front),
            ("scheduler", lambda: _stop(self.scheduler)),
            ("stream pollers", lambda: _stop(self.pollers)),
            ("runtime", lambda: _stop(self.runtime)),
            ("sandboxes", self._stop_sandboxes),
            ("emulator", lambda: _stop(self.emulator)),
        ]
        for name, step in steps:
            try:
                step()
            except Exception:
                logger.exception("stopping the %s failed", name)
        self.scheduler = self.pollers = self.runtime = self.emulator = None
        try:
            state = self.config.state_path
            if state.is_file() and json.loads(state.read_text()).get("pid") == os.getpid():
                state.unlink()
        except (OSError, ValueError):
            pass

    def _stop_front(self) -> None:
        if self.front is not None:
            self.front.shutdown()
            self.front.server_close()
            self.front = None
        if self._front_thread is not None:
            self._front_thread.join(5.0)
            self._front_thread = None

    def _stop_sandboxes(self) -> None:
        handles, self.sandboxes = self.sandboxes, {}
        for handle in handles.values():
            try:
                handle.stop()
            except Exception:
                logger.exception("stopping a sandbox failed")


def _stop(part: Scheduler | StreamPollers | Runtime | emu.Emulator | None) -> None:
    if part is not None:
        part.stop()


class InProcessStreams:
    """DynamoDB Streams as the stream pollers read them: from the emulator's backend in this
    process, as Lambda's pollers read streams inside AWS — not through the emulator's HTTP API,
    where every GetRecords (four a second per shard, each record with both item images) was
    serialised by moto and parsed again by botocore in the one process that answers every AWS
    call, and the poller fell behind a burst. The answers are shaped as the boto3 client's; the
    emulator's patches (iterator expiry, record trimming, the DynamoDB lock) apply as they do to
    the API."""

    def __init__(self, region: str, account: str = tpl.ACCOUNT_ID) -> None:
        self.region = region
        self.account = account

    def _backend(self) -> Any:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        return dynamodbstreams_backends[self.account][self.region]

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"StreamDescription": self._backend().describe_stream(StreamArn)}

    def get_shard_iterator(
        self,
        StreamArn: str,  # noqa: N803
        ShardId: str,  # noqa: N803
        ShardIteratorType: str,  # noqa: N803
        SequenceNumber: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        iterator = self._backend().get_shard_iterator(StreamArn, ShardId, ShardIteratorType, SequenceNumber)
        return {"ShardIterator": iterator.arn}

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:  # noqa: N803
        page = self._backend().get_records(ShardIterator, Limit)
        return {"NextShardIterator": page["NextShardIterator"], "Records": [_as_read(r) for r in page["Records"]]}


def _as_read(record: dict[str, Any]) -> dict[str, Any]:
    """A stream record as GetRecords returns it (moto's own is shared: copied where it differs —
    the creation time tz-aware UTC, as botocore parses it)."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime) and created.tzinfo is None:
        dynamodb["ApproximateCreationDateTime"] = created.replace(tzinfo=UTC)
    return {**record, "dynamodb": dynamodb}


def front_functions(local: tpl.LocalTemplate) -> set[str]:
    """The functions someone waits on: behind a route, and the routes' authorizers."""
    return {r.function for r in local.routes} | {r.authorizer for r in local.routes if r.authorizer}


def output_path(value: Any) -> str | None:
    """The path part of an Output such as ``!Sub https://${Api}.execute-api.${AWS::Region}.
    ${AWS::URLSuffix}/${Stage}/webhooks/bloq`` (the local front serves at the root)."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text = sub if isinstance(sub, str) else sub[0]
        match = _API_PREFIX.match(text)
        if match:
            return text[match.end() :] or "/"
    return None


# ------------------------------------------------------------------------------------ admin


class AdminApp:
    """``/_local/…``: the local stack's own control endpoints (API Gateway has no such paths).

    ``GET  /_local/health``                       ready?
    ``GET  /_local/stack``                        what stack.json says
    ``GET  /_local/schedules``                    schedules with their next fire time
    ``POST /_local/schedules/<name>/fire``        fire now (rule, schedule, or target function/state machine)
    ``GET  /_local/invocations?function=&source=`` recent invocations
    ``GET  /_local/workers``                      the worker processes (pids) per function, their peak memory,
                                                  the cold starts in progress (``starting``)
    ``GET  /_local/memory``                       this process's memory, what the emulator holds, the
                                                  background lane (running, waiting); ``?pymalloc=1``
                                                  Python's allocator; ``?top=&match=`` what was traced;
                                                  ``?held=1`` the stored data's wire size per table;
                                                  ``?census=N`` the N kinds of object holding most;
                                                  ``?holders=<type name>`` what refers to them;
                                                  always: the garbage collector's pauses (``gc``)
    ``POST /_local/memory/trace?frames=``         start tracing allocations (tracemalloc) from now
    ``GET  /_local/timings?since=``               per function and lane: waiting vs handler time (ms)
    """

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.map = Map(
            [
                Rule("/_local/health", methods=["GET"], endpoint="health"),
                Rule("/_local/stack", methods=["GET"], endpoint="stack"),
                Rule("/_local/schedules", methods=["GET"], endpoint="schedules"),
                Rule("/_local/schedules/<path:name>/fire", methods=["POST"], endpoint="fire"),
                Rule("/_local/invocations", methods=["GET"], endpoint="invocations"),
                Rule("/_local/workers", methods=["GET"], endpoint="workers"),
                Rule("/_local/memory", methods=["GET"], endpoint="memory"),
                Rule("/_local/memory/trace", methods=["POST"], endpoint="trace"),
                Rule("/_local/timings", methods=["GET"], endpoint="timings"),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        adapter = self.map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            status, body = getattr(self, f"_{endpoint}")(request, **args)
        except KeyError as exc:
            status, body = 404, {"message": str(exc.args[0]) if exc.args else "not found"}
        except Exception as exc:  # werkzeug's NotFound/MethodNotAllowed and the rest
            code = getattr(exc, "code", 500) or 500
            status, body = code, {"message": getattr(exc, "description", None) or str(exc)}
        return Response(json.dumps(body, indent=1, default=str), status, content_type="application/json")(
            environ, start_response
        )

    def _health(self, request: Request) -> tuple[int, Any]:
        return 200, {"status": "ready", "pid": os.getpid()}

    def _stack(self, request: Request) -> tuple[int, Any]:
        return 200, self.stack.info

    def _schedules(self, request: Request) -> tuple[int, Any]:
        assert self.stack.scheduler is not None
        return 200, {"schedules": self.stack.scheduler.summary()}

    def _fire(self, request: Request, name: str) -> tuple[int, Any]:
        return 200, {"fired": self.stack.fire(name)}

    def _invocations(self, request: Request) -> tuple[int, Any]:
        assert self.stack.runtime is not None
        return 200, {
            "invocations": self.stack.runtime.history(
                request.args.get("function") or None, request.args.get("source") or None
            )
        }

    def _memory(self, request: Request) -> tuple[int, Any]:
        runtime = self.stack.runtime
        return 200, {
            "rss_mb": _rss_mb(),
            "emulator": retention.retained(),
            "invocations_kept": len(runtime.recent) if runtime else 0,
            # background invocations running and waiting for the lane: 0/0 once a burst's work is done
            "background": {"running": runtime.lane.held, "waiting": runtime.lane.waiting} if runtime else None,
            "threads": threading.active_count(),
            **_traced(int(request.args.get("top") or 25), request.args.get("match") or None),
            **({"pymalloc": _pymalloc()} if request.args.get("pymalloc") else {}),
            "gc": retention.GC_PAUSES.report(),
            **({"held": retention.held_bytes()} if request.args.get("held") else {}),
            **({"census": retention.object_census(int(request.args["census"]))} if request.args.get("census") else {}),
            **({"holders": retention.holders(request.args["holders"])} if request.args.get("holders") else {}),
        }

    def _trace(self, request: Request) -> tuple[int, Any]:
        """Start tracing allocations now (``frames`` deep): a later ``GET /_local/memory`` shows
        what was allocated since and is still held — what a run added, not the start-up's modules."""
        import tracemalloc

        try:
            frames = int(request.args.get("frames") or 12)
        except ValueError:
            return 400, {"message": "frames: a whole number"}
        if not tracemalloc.is_tracing():
            tracemalloc.start(frames)
        return 200, {"tracing": True, "frames": tracemalloc.get_traceback_limit()}

    def _timings(self, request: Request) -> tuple[int, Any]:
        from orderbridge_local import aws_emulator

        assert self.stack.runtime is not None
        try:
            since = float(request.args.get("since") or 0.0)
        except ValueError:
            return 400, {"message": "since: epoch seconds"}
        return 200, {**self.stack.runtime.timings(since), "emulator": aws_emulator.request_timings(since)}

    def _workers(self, request: Request) -> tuple[int, Any]:
        assert self.stack.runtime is not None
        pools = self.stack.runtime.pools
        return 200, {
            "workers": {name: pool.pids() for name, pool in pools.items()},
            # idle workers are stopped (runtime.IDLE_WORKER_SECONDS): what they reached is kept
            "peak_mb": {name: pool.peak_mb() for name, pool in pools.items() if pool.started},
            "started": {name: pool.started for name, pool in pools.items() if pool.started},
            # cold starts in progress: a pool scaling out (the burst tools' first wave waits them out)
            "starting": {name: pool.starting for name, pool in pools.items() if pool.starting},
        }


def _traced(top: int, match: str | None = None) -> dict[str, Any]:
    """When the stack runs with ``PYTHONTRACEMALLOC=<frames>``: the ``top`` places (file:line)
    holding the most memory now, in MB — to find what grows. With ``match`` (part of a file name),
    only what was allocated there, grouped by whole call stack: who holds it."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {}
    snapshot = tracemalloc.take_snapshot()
    if match:
        held = snapshot.filter_traces([tracemalloc.Filter(True, f"*{match}*", all_frames=match != "*")])
        return {
            "traced_mb": round(sum(s.size for s in held.statistics("filename")) / 2**20, 1),
            "traced_stacks": [
                {"mb": round(s.size / 2**20, 2), "blocks": s.count, "stack": s.traceback.format()[-40:]}
                for s in held.statistics("traceback")[:top]
            ],
        }
    stats = snapshot.statistics("lineno")
    return {
        "traced_mb": round(sum(s.size for s in stats) / 2**20, 1),
        "traced_top": [
            {
                "where": f"{s.traceback[0].filename.split('site-packages/')[-1]}:{s.traceback[0].lineno}",
                "mb": round(s.size / 2**20, 2),
                "blocks": s.count,
            }
            for s in stats[:top]
        ],
    }


def _pymalloc() -> dict[str, float]:
    """Python's small-object allocator (``sys._debugmallocstats``, MB): what its arenas hold, what
    of that is in objects, and what is free inside pools and arenas it cannot give back — memory
    the process keeps although no object uses it (fragmentation), beside the RSS."""
    import sys
    import tempfile

    with tempfile.TemporaryFile(mode="w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    wanted = {
        "arenas": r"# bytes in allocated blocks\s+=\s+([\d,]+)",
        "free_in_pools": r"# bytes in available blocks\s+=\s+([\d,]+)",
        "free_pools": r"\d+ unused pools \* \d+ bytes\s+=\s+([\d,]+)",
        "arena_total": r"Total\s+=\s+([\d,]+)",
    }
    found: dict[str, float] = {}
    for name, pattern in wanted.items():
        match = re.search(pattern, text)
        if match:
            found[name] = round(int(match.group(1).replace(",", "")) / 2**20, 1)
    if "arenas" in found:
        found["in_objects"] = found.pop("arenas")
    return found


def _rss_mb() -> float | None:
    """This process's resident memory (Linux), in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None
