"""``python -m orderbridge_local`` — the local stack's command line.

run      the whole product on 127.0.0.1 (``make run``)
demo     place a sample order through the running stack and follow its timeline
invoke   run one function on an event file (``sam local invoke`` without Docker), on a fresh
         stack of its own unless ``--stack`` (the running stack) is given
fire     fire a schedule of the running stack now
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

DEFAULT_STATE = Path(".local/stack.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orderbridge_local", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the local stack until Ctrl-C")
    run.add_argument("--port", type=int, default=3000, help="API port (default 3000; 0 = any free port)")
    run.add_argument("--emulator-port", type=int, default=0, help="AWS emulator port (default: any free port)")
    run.add_argument("--template", type=Path, default=None, help="SAM template (default: ./template.yaml)")
    run.add_argument(
        "--state-dir", type=Path, default=None, help="where stack.json goes (default: <template folder>/.local)"
    )
    run.add_argument("--no-sandboxes", action="store_true", help="do not start the vendor sandboxes")
    run.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, as with sam deploy",
    )
    run.add_argument("--stage", default="local", help="the Stage parameter (default local)")
    run.add_argument(
        "--schedule-speed", type=float, default=1.0, help="run the schedules' clock this many times faster (default 1)"
    )
    run.add_argument("--max-workers", type=int, default=4, help="warm workers per function at most (default 4)")
    run.add_argument("--no-warm", action="store_true", help="do not start one worker per function at start-up")
    run.add_argument("--verbose", "-v", action="store_true", help="also print every line the functions log")

    demo = commands.add_parser("demo", help="place a sample order and print its timeline as it grows")
    demo.add_argument("--state", type=Path, default=DEFAULT_STATE)
    demo.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    demo.add_argument("--idle", type=float, default=5.0, help="stop after this many seconds without news")

    invoke = commands.add_parser(
        "invoke",
        help="run one function on an event (sam local invoke, no Docker)",
        description="Run one function on an event. By default on a fresh stack of its own (the template "
        "deployed into a new in-process emulator, demo data seeded, the vendor sandboxes "
        "started): a running stack's data is never touched. An events/ sample first gets "
        "what it needs, played from the samples before it (the order it names, its rent, "
        "its courier task), so it answers as on a real day. An event for the Bloq.It "
        "webhook is signed now with the stack's secret. --stack runs it on the running "
        "stack instead.",
    )
    invoke.add_argument("function", help="the function's logical id in the template")
    invoke.add_argument("-e", "--event", type=Path, default=None, help="event JSON file ('-' for stdin; default {})")
    invoke.add_argument(
        "--stack",
        action="store_true",
        help="run on the running stack (make run) and change its data; nothing is prepared",
    )
    invoke.add_argument(
        "--state",
        type=Path,
        default=DEFAULT_STATE,
        help="with --stack: the running stack's stack.json (default .local/stack.json)",
    )
    invoke.add_argument("--template", type=Path, default=None, help="SAM template (default: ./template.yaml)")
    invoke.add_argument(
        "--no-prepare",
        action="store_true",
        help="on the fresh stack, do not first play the samples an events/ sample needs",
    )

    fire = commands.add_parser("fire", help="fire a schedule of the running stack now")
    fire.add_argument("name", help="rule or schedule (name or logical id), or the function/state machine it targets")
    fire.add_argument("--state", type=Path, default=DEFAULT_STATE)

    args = parser.parse_args(argv)
    return {"run": _run, "demo": _demo, "invoke": _invoke, "fire": _fire}[args.command](args)


# ------------------------------------------------------------------------------------- run


def _run(args: argparse.Namespace) -> int:
    from orderbridge_local.stack import LocalStack, StackConfig, default_template

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = StackConfig(
        template=args.template or default_template(),
        port=args.port,
        emulator_port=args.emulator_port,
        state_dir=args.state_dir,
        stage=args.stage,
        parameter_overrides=_pairs(args.parameter_overrides),
        sandboxes=not args.no_sandboxes,
        schedule_speed=args.schedule_speed,
        max_workers=args.max_workers,
        warm=not args.no_warm,
        verbose=args.verbose,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if not stop.is_set():
            stop.set()
            if not started.is_set():
                raise KeyboardInterrupt  # interrupt the start-up; LocalStack.start cleans up

    started = threading.Event()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(config)
    print(f"Starting the Orderbridge local stack from {config.template} …", flush=True)
    try:
        stack.start()
    except KeyboardInterrupt:
        print("Interrupted during start-up; everything started was stopped.", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"The local stack could not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    started.set()
    print(stack.banner(), flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        print("Stopping …", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return 0


def _pairs(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            raise SystemExit(f"--parameter-overrides wants KEY=VALUE, got {value!r}")
        out[key] = rest
    return out


# ------------------------------------------------------------------------------- the state


def read_state(path: Path) -> dict[str, Any] | None:
    """The running stack's stack.json, if the stack answers (a stale file is ignored)."""
    try:
        info = json.loads(path.read_text())
        response = httpx.get(f"{info['admin']}/health", timeout=2.0, trust_env=False)
        return info if response.status_code == 200 else None
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        return None


def _need_state(path: Path) -> dict[str, Any]:
    info = read_state(path)
    if info is None:
        raise SystemExit(f"no running local stack ({path} missing or not answering): start it with `make run`")
    return info


# ------------------------------------------------------------------------------------ fire


def _fire(args: argparse.Namespace) -> int:
    info = _need_state(args.state)
    response = httpx.post(f"{info['admin']}/schedules/{args.name}/fire", timeout=30.0, trust_env=False)
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code == 200 else 1


# ------------------------------------------------------------------------------------ demo


def _demo(args: argparse.Namespace) -> int:
    from orderbridge.domain.ids import order_id_for

    info = _need_state(args.state)
    with httpx.Client(timeout=15.0, trust_env=False) as http:
        blink = info.get("sandboxes", {}).get("blink")
        if blink:
            # The doc sample as a DELIVERY: branch 12345 sends it to a Bloq.It locker with a Blink
            # Logistics courier (as a PICK-UP it would wait at the counter for the kitchen).
            placed = http.post(f"{blink}/_admin/place-order", json={"type": "DELIVERY"})
            placed.raise_for_status()
            blink_order_id = str(placed.json()["order"]["blink_order_id"])
            print(
                f"Placed Blink delivery order {blink_order_id} in the Blink sandbox (branch 12345: to a locker); "
                "it sends the Order Webhook to the stack."
            )
        else:
            sample = json.loads(
                (Path(__file__).resolve().parents[2] / "tests/samples/blink_order_webhook.json").read_text()
            )
            blink_order_id = str(int(time.time() * 1000) % 10**9)
            sample["blink_order_id"] = blink_order_id
            answer = http.post(info["webhooks"]["blink_orders"], json=sample)
            print(f"POSTed the Blink sample as order {blink_order_id}: {answer.status_code} {answer.text}")
        order_id = order_id_for("blink", blink_order_id)
        print(f"Order id {order_id}; its timeline (GET /ops/orders/{order_id}):")
        sandboxes = info.get("sandboxes", {})
        drive = _HappyPath(http, sandboxes) if {"blink_logistics", "bloqit"} <= set(sandboxes) else None
        return _follow(http, info, order_id, timeout=args.timeout, idle=args.idle, drive=drive)


class _HappyPath:
    """Plays the courier and the customer through the sandboxes, each step once the order is ready
    for it: the courier picks up, drops the parcel into the locker, the customer collects it."""

    def __init__(self, http: httpx.Client, sandboxes: dict[str, str]) -> None:
        self.http = http
        self.sandboxes = sandboxes
        self.done: set[str] = set()

    def __call__(self, detail: dict[str, Any]) -> None:
        order, timeline = detail.get("order") or {}, detail.get("timeline") or []
        task = order.get("blink_logistics_task_id")
        rent = next((e["detail"].get("rent_id") for e in timeline if e.get("kind") == "rent_reserved"), None)
        notified = any(
            e.get("kind") == "rent_action" and (e.get("detail") or {}).get("action") == "notify_customer"
            for e in timeline
        )
        if task and "courier" not in self.done:
            self._step(
                "courier",
                "the courier picks the order up (Blink Logistics events 23-26)",
                f"{self.sandboxes['blink_logistics']}/_admin/tasks/{task}/advance",
                {"to": 26},
            )
        elif rent and detail.get("status") == "dispatched" and "dropoff" not in self.done:
            self._step(
                "dropoff",
                "the courier drops the parcel into the locker",
                f"{self.sandboxes['bloqit']}/_admin/rents/{rent}/dropoff",
                {},
            )
        elif rent and notified and "pickup" not in self.done:
            self._step(
                "pickup",
                "the customer collects it with the pick-up code",
                f"{self.sandboxes['bloqit']}/_admin/rents/{rent}/pickup",
                {},
            )

    def _step(self, name: str, what: str, url: str, body: dict[str, Any]) -> None:
        self.done.add(name)
        answer = self.http.post(url, json=body)
        print(f"  demo: {what}" + ("" if answer.status_code < 300 else f" — {answer.status_code} {answer.text}"))


def _follow(
    http: httpx.Client,
    info: dict[str, Any],
    order_id: str,
    *,
    timeout: float,
    idle: float,
    drive: Any = None,
) -> int:
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    last_news = time.monotonic()
    state = status = None
    ended = False  # the workflow recorded its outcome

    def keep_going() -> bool:
        if time.monotonic() >= deadline:
            return False
        if drive is not None and not ended:  # driving: follow the order to its end, however slow
            return True
        return time.monotonic() - last_news < idle

    while keep_going():
        response = http.get(f"{info['api']}/ops/orders/{order_id}", headers={"X-Api-Key": info["ops_api_key"]})
        if response.status_code == 200:
            detail = response.json()
            for event in detail.get("timeline", []):
                key = json.dumps(event, sort_keys=True, default=str)
                if key not in seen:
                    seen.add(key)
                    last_news = time.monotonic()
                    when = event.get("received_at") or event.get("at") or ""
                    print(f"  {when}  [{event.get('source')}] {event.get('kind')}: {event.get('summary')}")
            if (detail.get("state"), detail.get("status")) != (state, status):
                state, status = detail.get("state"), detail.get("status")
                print(f"  state: {state}  status: {status}  tracks: {json.dumps(detail.get('tracks'))}")
                last_news = time.monotonic()
            ended = ended or any(e.get("kind") == "workflow" for e in detail.get("timeline", []))
            if drive is not None:
                drive(detail)
        elif response.status_code != 404:
            print(f"  ops API: {response.status_code} {response.text}")
        time.sleep(0.5)
    if not seen:
        print("  the order did not appear; see the stack's log")
        return 1
    if drive is not None and not ended:
        print(f"  the workflow did not end within {timeout:.0f} s; see the stack's log")
        return 1
    print(f"Idle for {idle:.0f} s: done.")
    return 0


# ---------------------------------------------------------------------------------- invoke


def _invoke(args: argparse.Namespace) -> int:
    from orderbridge_local import invoking
    from orderbridge_local import template as tpl
    from orderbridge_local.stack import default_template

    event = _read_event(args.event)
    info = _need_state(args.state) if args.stack else None
    template_path = args.template or (Path(info["template"]) if info else default_template())
    local = tpl.load(template_path, overrides={"Stage": "local"})
    if args.function not in local.functions:
        raise SystemExit(f"no function {args.function!r} in {template_path}; functions: {', '.join(local.functions)}")

    if info is not None:
        endpoint = info["emulator"]["endpoint_url"]
        _say(f"Invoking {args.function} against the running stack ({endpoint}): its data changes")
        invocation = invoking.invoke_on_running_stack(info, local, args.function, event)
    else:
        _say(
            f"Invoking {args.function} on a fresh stack of its own (template deployed, demo data seeded, "
            "vendor sandboxes started; a running stack is not touched) …"
        )
        target = None if args.no_prepare else invoking.sample_step(args.function, args.event)
        with invoking.FreshStack(template_path) as fresh:
            if target is not None:
                fresh.warm([s.function for s in invoking.steps_for(target)])  # the target's own cold start shows
                for step in invoking.steps_for(target):
                    played = fresh.play(step, report=lambda line: _say(f"  first: {line}"))
                    _say(f"  first: events/{step.path.name} through {step.function}: {invoking.outcome(played)}")
                    if not invoking.answered_2xx(played):
                        _say("  preparing failed; the invocation's answer may differ from a real day's")
                said = fresh.before(target)
                if said:
                    _say(f"  first: {said}")
            invocation = fresh.invoke(args.function, event)
    for line in invocation.logs:
        print(line, file=sys.stderr)
    cold = f", init {invocation.cold_init_ms:.0f} ms" if invocation.cold_init_ms is not None else ""
    print(f"REPORT RequestId: {invocation.request_id} Duration: {invocation.duration_ms:.1f} ms{cold}", file=sys.stderr)
    print(invocation.payload().decode())
    return 0 if invocation.ok else 1


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _read_event(path: Path | None) -> Any:
    if path is None:
        return {}
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    return json.loads(text)
