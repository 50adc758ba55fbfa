"""``python -m orderbridge_local invoke``: one function on one event, like ``sam local invoke``
without Docker.

Where it runs
    By default on a throwaway stack of its own (:class:`FreshStack`): the template deployed into a
    new in-process emulator, the demo data seeded, the vendor sandboxes served on free ports (the
    template's vendor URLs point at them, their webhooks come back through an API front on a free
    port) — but no schedules and no stream pollers, so no workflow starts: only what is invoked
    runs, and what the vendors send back. A running ``make run`` stack is never touched. With
    ``--stack`` it runs on the running stack instead (:func:`invoke_on_running_stack`: its
    emulator, its data, its sandboxes).

The events/ samples
    Each sample names what a real day would have made before it: the Blend doc sample's order, its
    Blink submission, its locker rent, its courier task. On a fresh stack, invoke first plays the
    samples a sample needs (:data:`SAMPLES`, :func:`steps_for`) through their functions, and what
    the outside world does just before it (the courier drops the parcel off, a rent expires)
    through the sandboxes' admin routes, so every sample answers 2xx as it stands. On a running
    stack nothing is prepared.

Bloq.It events
    An event for the Bloq.It webhook's route is signed at invoke time, as Bloq.It signs (Node's
    ``jsonwebtoken``: an HS256 JWS over ``<timestamp>.<body>``, the timestamp in milliseconds), with
    the stack's signing secret, in the headers the template parameters ``BloqSignatureHeader`` /
    ``BloqTimestampHeader`` name: a signature stored in a file is stale after
    ``BloqTimestampToleranceSeconds``.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx
from moto.moto_api._internal.models import moto_api_backend

from orderbridge_local import aws_emulator as emu
from orderbridge_local import logs, seed
from orderbridge_local import template as tpl
from orderbridge_local.apigw import ApiFront
from orderbridge_local.runtime import Invocation, Runtime
from orderbridge_local.sandboxes.bloqit import sign
from orderbridge_local.stack import WEBHOOK_OUTPUTS, LocalStack, StackConfig, output_path

EVENTS = Path(__file__).resolve().parents[2] / "events"


# ------------------------------------------------------------------------------------ signing


@dataclass(frozen=True)
class BloqSigning:
    """What the stack's Bloq.It webhook checks: its route, the signing secret, the header names."""

    path: str | None
    secret: str
    signature_header: str
    timestamp_header: str

    def applies_to(self, event: Any) -> bool:
        return (
            isinstance(event, dict)
            and self.path is not None
            and self.path in (event.get("resource"), event.get("path"))
        )

    def sign(self, event: dict[str, Any], *, now_ms: int | None = None) -> dict[str, Any]:
        """A copy of the API event with fresh signature headers over its body (any old ones replaced)."""
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8")
        timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
        signed = {self.signature_header: sign(f"{timestamp}.{body}", self.secret), self.timestamp_header: timestamp}
        replaced = {name.lower() for name in signed}
        out = dict(event)
        for key, fresh in (("headers", signed), ("multiValueHeaders", {k: [v] for k, v in signed.items()})):
            kept = {k: v for k, v in (event.get(key) or {}).items() if k.lower() not in replaced}
            out[key] = kept | fresh
        return out


def bloq_webhook_path(local: tpl.LocalTemplate) -> str | None:
    """The Bloq.It webhook's route (``/webhooks/bloq``), from the template Output that documents it."""
    output, _ = WEBHOOK_OUTPUTS["bloq"]
    return output_path(((local.sam.get("Outputs") or {}).get(output) or {}).get("Value"))


# ------------------------------------------------------------------------------- the samples


@dataclass(frozen=True)
class World:
    """What the outside world does before a step, through a sandbox's admin route."""

    sandbox: str
    path: str  # ``{rent_id}``: the order's latest rent
    what: str


DROP_OFF = World("bloqit", "/_admin/rents/{rent_id}/dropoff", "the courier drops the parcel into the locker")
EXPIRY = World("bloqit", "/_admin/rents/{rent_id}/expire", "the customer does not come: the rent expires")

MISSED_DROP_OFF = "missed drop-off"


@dataclass(frozen=True)
class Step:
    """One events/ sample through its function, once the samples it ``needs`` have run."""

    function: str
    sample: str  # events/<sample>.json
    needs: tuple[str, ...] = ()  # samples
    world: World | None = None  # just before it
    story: str = "delivery"  # the samples of one story run on one stack, in SAMPLES order

    @property
    def path(self) -> Path:
        return EVENTS / f"{self.sample}.json"


PARTNER_ORDER = "partner_order_webhook"
# Every events/ sample, in the order a day brings them. The action samples all name the Blend doc
# sample's order (393dfc52…: a locker delivery from branch 12345 with a Blink Logistics courier).
# Its rent can end only one way: it is delivered, expires, goes back and is collected; the other
# ending (the courier never came: cancelled, finished, released) is a story of its own.
SAMPLES: tuple[Step, ...] = (
    # the merchant's set-up
    Step("RegisterBloqWebhookFunction", "register_bloq_webhook"),
    Step("IssueCourierTokenFunction", "issue_courier_token"),
    # Blink's doc sample order arrives; the restaurant rejects it; the ops API shows it
    Step("BlinkOrderWebhookFunction", "blink_order_webhook"),
    Step("BlinkOrderStatusWebhookFunction", "blink_order_status_webhook", needs=("blink_order_webhook",)),
    Step("OpsApiFunction", "ops_api_get_order", needs=("blink_order_webhook",)),
    Step("OpsApiFunction", "ops_api_list_orders"),
    Step("ConsoleFunction", "ops_console_asset"),  # the ops console's script (public)
    # the Blend doc sample's order: into Blink, a courier, a locker
    Step("PartnerOrderWebhookFunction", PARTNER_ORDER),
    Step("SubmitOrderToBlinkFunction", "submit_order_to_blink", needs=(PARTNER_ORDER,)),
    Step("SyncOrderStatusToBlinkFunction", "sync_order_status_to_blink", needs=("submit_order_to_blink",)),
    Step("ReserveLockerFunction", "reserve_locker", needs=(PARTNER_ORDER,)),
    Step("SelectLockerFunction", "select_locker", needs=("reserve_locker",)),
    Step("CreateBlinkLogisticsTaskFunction", "create_blink_logistics_task", needs=(PARTNER_ORDER,)),
    Step("UpdateBlinkLogisticsTaskFunction", "update_blink_logistics_task", needs=("create_blink_logistics_task",)),
    Step(
        "GetBlinkLogisticsTaskStatusFunction", "get_blink_logistics_task_status", needs=("create_blink_logistics_task",)
    ),
    Step("BlinkTaskStatusWebhookFunction", "blink_task_status_webhook"),  # the doc's task is not ours: 202
    Step("CreateDispatchNinjaOrderFunction", "create_dispatchninja_order", needs=(PARTNER_ORDER,)),
    Step(
        "GetDispatchNinjaOrderDetailsFunction", "get_dispatchninja_order_details", needs=("create_dispatchninja_order",)
    ),
    Step("MakeDeliveryFunction", "make_delivery", needs=("select_locker",)),
    Step("NotifyLockerCustomerFunction", "notify_locker_customer", needs=("make_delivery",), world=DROP_OFF),
    Step("BloqWebhookFunction", "bloq_webhook"),  # the doc's placeholder rent is not ours: recorded, 200
    Step("ReturnExpiredDeliveryFunction", "return_expired_delivery", needs=("notify_locker_customer",), world=EXPIRY),
    Step("CollectRentFunction", "collect_rent", needs=("return_expired_delivery",)),
    # the other ending: the courier never came
    Step("CancelRentFunction", "cancel_rent", needs=("reserve_locker",), story=MISSED_DROP_OFF),
    Step("FinishRentFunction", "finish_rent", needs=("cancel_rent",), story=MISSED_DROP_OFF),
    Step("ReleaseEmptyLockerFunction", "release_empty_locker", needs=("reserve_locker",), story=MISSED_DROP_OFF),
)
_BY_SAMPLE = {step.sample: step for step in SAMPLES}


def sample_step(function: str, event_path: Path | None) -> Step | None:
    """The step of ``function`` whose sample is the file ``event_path``, if it is one."""
    if event_path is None or str(event_path) == "-":
        return None
    resolved = event_path.resolve()
    return next((s for s in SAMPLES if s.function == function and s.path.resolve() == resolved), None)


def steps_for(target: Step) -> list[Step]:
    """The steps that must run before ``target`` (what it needs, and what those need), in SAMPLES order."""
    wanted: set[str] = set()
    todo = list(target.needs)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += _BY_SAMPLE[name].needs
    return [s for s in SAMPLES if s.sample in wanted]


def story(name: str) -> list[Step]:
    """Every step of one story, with what they need from other stories first, in SAMPLES order."""
    own = [s for s in SAMPLES if s.story == name]
    wanted = {s.sample for s in own} | {n.sample for s in own for n in steps_for(s)}
    return [s for s in SAMPLES if s.sample in wanted]


def stories() -> list[str]:
    return list(dict.fromkeys(s.story for s in SAMPLES))


def answered_2xx(invocation: Invocation) -> bool:
    """An API function answered 2xx; any other function returned (did not raise)."""
    if not invocation.ok:
        return False
    result = json.loads(invocation.result or "null")
    if isinstance(result, dict) and "statusCode" in result:
        return 200 <= int(result["statusCode"]) < 300
    return True


def outcome(invocation: Invocation) -> str:
    """One line for a person: the HTTP status, ``ok``, or the error."""
    if not invocation.ok:
        error = invocation.error or {}
        return f"{error.get('errorType')}: {error.get('errorMessage')}"
    result = json.loads(invocation.result or "null")
    return str(result["statusCode"]) if isinstance(result, dict) and "statusCode" in result else "ok"


# ---------------------------------------------------------------------------- the fresh stack


class FreshStack(LocalStack):
    """A throwaway stack for ``invoke`` (see the module docstring); a context manager.

    It is a :class:`LocalStack` without schedules and stream pollers — no workflow starts, only
    what is invoked runs, and what the sandboxes send back (their webhooks reach the functions
    through the API front on a free port, as on a real day: a rent that expires at Bloq.It is
    expired in our records too). The sandboxes send their webhooks before they answer the call
    that caused them, so a run is the same every time. No stack.json is written. Its emulator
    starts from an empty account (moto's backends are in-process state: a second fresh stack in
    one process — tests — would otherwise find the first one's tables)."""

    def _invocation_listener(self) -> Callable[..., Any]:
        return self._log_webhook

    def __init__(
        self,
        template: Path,
        *,
        parameter_overrides: dict[str, str] | None = None,
        log: TextIO | None = None,
    ) -> None:
        # Never written: the folder only keeps stop() away from a running stack's stack.json.
        state_dir = Path(tempfile.gettempdir()) / "orderbridge-invoke-writes-no-state"
        super().__init__(
            StackConfig(
                template=template,
                port=0,
                state_dir=state_dir,
                stack_name="orderbridge-invoke",
                max_workers=2,
                warm=False,
                parameter_overrides=parameter_overrides or {},
            ),
            event_log=logs.EventLog(log or sys.stderr),
        )
        self.signing: BloqSigning | None = None
        self.rent_id: str | None = None  # the latest rent an action answered with (for World steps)
        self._http = httpx.Client(timeout=30.0, trust_env=False)

    def start(self) -> FreshStack:
        began = time.monotonic()
        try:
            self._bind_front()
            probe = tpl.load(self.config.template, overrides=self._overrides({}), region=self.config.region)
            webhooks = self._webhook_urls(probe)
            sandbox_urls = self._start_sandboxes(webhooks, probe)
            for handle in self.sandboxes.values():
                handle.sandbox.configure(webhook_mode="sync")
            self.template = tpl.load(
                self.config.template, overrides=self._overrides(sandbox_urls), region=self.config.region
            )
            moto_api_backend.reset()  # what moto's documented POST /moto-api/reset does
            self.emulator = emu.Emulator(region=self.config.region).start()
            self.deployed = emu.deploy(self.emulator, self.template, stack_name=self.config.stack_name)
            self._start_runtime()
            settings = seed.app_settings([f.environment for f in self.deployed.functions.values()])
            seed.seed(
                settings,
                dynamodb=self.emulator.client("dynamodb"),
                secretsmanager=self.emulator.client("secretsmanager"),
                dev=self.dev,
                vendor_credentials=seed.DEV_VENDOR_CREDENTIALS,
            )
            self.signing = BloqSigning(
                bloq_webhook_path(self.template),
                self.dev.bloq_secret,
                settings.bloq.signature_header,
                settings.bloq.timestamp_header,
            )
            self._front_app.app = ApiFront(
                self.template.routes,
                self._invoke_route,
                api_key=self.dev.ops_api_key,
                access_log=self.events.gateway,
            )
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _log_webhook(self, invocation: Invocation) -> None:
        """A line for each call that came through the API front (a sandbox's webhook)."""
        if invocation.source.split(" ", 1)[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
            self.events.invocation(invocation)

    def stop(self) -> None:
        self._http.close()
        super().stop()

    def __enter__(self) -> FreshStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def warm(self, functions: list[str]) -> None:
        """Start one worker of each function at once (their cold starts overlap)."""
        assert self.runtime is not None
        self.runtime.warm(list(dict.fromkeys(functions)))

    def invoke(self, function: str, event: Any, *, source: str = "invoke") -> Invocation:
        """``function`` on ``event`` (a Bloq.It webhook event signed now)."""
        assert self.runtime is not None and self.signing is not None
        if self.signing.applies_to(event):
            event = self.signing.sign(event)
        invocation = self.runtime.invoke(function, event, source=source)
        if invocation.ok:
            result = json.loads(invocation.result or "null")
            if isinstance(result, dict) and result.get("rent_id"):
                self.rent_id = str(result["rent_id"])
        return invocation

    def before(self, step: Step) -> str | None:
        """What the outside world does just before ``step``; a line saying so, or None."""
        if step.world is None:
            return None
        if self.rent_id is None:
            raise RuntimeError(f"{step.world.what}: no rent yet")
        url = self.sandboxes[step.world.sandbox].url + step.world.path.format(rent_id=self.rent_id)
        answer = self._http.post(url, json={})
        if answer.status_code >= 300:
            raise RuntimeError(f"{step.world.what}: {step.world.sandbox} answered {answer.status_code} {answer.text}")
        return f"{step.world.what} ({step.world.sandbox} sandbox)"

    def play(self, step: Step, report: Callable[[str], None] | None = None) -> Invocation:
        """One step: the world's part, then its sample through its function."""
        said = self.before(step)
        if said and report:
            report(said)
        return self.invoke(step.function, json.loads(step.path.read_text()), source=f"events/{step.path.name}")


# ------------------------------------------------------------------------- the running stack


def invoke_on_running_stack(info: dict[str, Any], local: tpl.LocalTemplate, function: str, event: Any) -> Invocation:
    """``function`` on ``event`` in the running stack of ``info`` (its stack.json), with that stack's
    own emulator, data and sandboxes (a Bloq.It webhook event signed now with its secret)."""
    endpoint, region = info["emulator"]["endpoint_url"], info["emulator"]["region"]
    deployed = _deployed_function(endpoint, region, info["emulator"]["stack_name"], function)
    headers = info.get("bloq_signature_headers") or {}
    signing = BloqSigning(
        bloq_webhook_path(local),
        info["bloq_webhook_secret"],
        headers.get("signature", "x-bloq-signature"),
        headers.get("timestamp", "x-bloq-timestamp"),
    )
    if signing.applies_to(event):
        event = signing.sign(event)
    runtime = Runtime(
        {function: local.functions[function]}, {function: deployed}, endpoint_url=endpoint, region=region, max_workers=1
    )
    try:
        return runtime.invoke(function, event, source="invoke")
    finally:
        runtime.stop()


def _deployed_function(endpoint: str, region: str, stack_name: str, logical_id: str) -> emu.DeployedFunction:
    """The deployed function (name, ARN, resolved environment), asked of the emulator's APIs."""
    cfn = emu.client("cloudformation", endpoint, region)
    physical = cfn.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    config = emu.client("lambda", endpoint, region).get_function_configuration(FunctionName=physical)
    variables = (config.get("Environment") or {}).get("Variables") or {}
    return emu.DeployedFunction(
        logical_id=logical_id,
        name=config["FunctionName"],
        arn=config["FunctionArn"],
        environment={k: emu.env_str(v) for k, v in variables.items()},
    )
