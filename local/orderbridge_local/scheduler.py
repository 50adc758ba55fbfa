"""Schedules: the EventBridge rules with a ``ScheduleExpression`` that the emulator holds (SAM
``Schedule`` events of functions and state machines) and the EventBridge Scheduler schedules of
the template (SAM ``ScheduleV2``, which the emulator's CloudFormation cannot create), fired on
their ``rate()``, ``cron()`` or ``at()`` expressions, or now on request (``fire``).

A target gets what EventBridge would send it: the rule's ``Input``, the part of the event an
``InputPath`` selects, an ``InputTransformer`` template, or the "Scheduled Event" itself; a
Scheduler target gets its ``Input`` (``{}`` without one). Lambda targets are invoked
asynchronously (as EventBridge does), state machines get ``StartExecution``, queues a message.

``speed`` runs the schedules' clock faster than real time (tests: a ``rate(1 minute)`` rule with
``speed=30`` fires every two seconds); it does not change what they fire.
"""

from __future__ import annotations

import calendar
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

logger = logging.getLogger("orderbridge_local.scheduler")

_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)", re.I)
_CRON = re.compile(r"cron\((.*)\)", re.I)
_AT = re.compile(r"at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)", re.I)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class ExpressionError(ValueError):
    pass


# --------------------------------------------------------------------------------- expressions


def _values(expr: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    def value(text: str) -> int:
        text = text.upper()
        if names and text in names:
            return names[text]
        if not text.isdigit():
            raise ExpressionError(f"{text!r} is not a value between {low} and {high}")
        number = int(text)
        if not low <= number <= high:
            raise ExpressionError(f"{number} is not between {low} and {high}")
        return number

    out: set[int] = set()
    for part in expr.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ExpressionError(f"bad increment in {part!r}")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = value(first), value(last)
        else:
            start = value(base)
            end = high if step_text else start
        if start > end:  # a wrapping range such as FRI-MON
            out.update(range(start, high + 1, step))
            out.update(range(low, end + 1, step))
        else:
            out.update(range(start, end + 1, step))
    return out


@dataclass(frozen=True)
class Cron:
    """An EventBridge cron expression: minutes hours day-of-month month day-of-week year."""

    minutes: frozenset[int]
    hours: frozenset[int]
    dom: str
    months: frozenset[int]
    dow: str
    years: frozenset[int]

    @classmethod
    def parse(cls, fields: str) -> Cron:
        parts = fields.split()
        if len(parts) != 6:
            raise ExpressionError(f"cron() needs 6 fields, got {len(parts)}: {fields!r}")
        minutes, hours, dom, month, dow, year = parts
        if (dom == "?") == (dow == "?"):
            raise ExpressionError("one (and only one) of day-of-month and day-of-week must be '?'")
        cron = cls(
            minutes=frozenset(_values(minutes, 0, 59)),
            hours=frozenset(_values(hours, 0, 23)),
            dom=dom.upper(),
            months=frozenset(_values(month, 1, 12, _MONTHS)),
            dow=dow.upper(),
            years=frozenset(_values(year, 1970, 2199)),
        )
        cron.day_matches(datetime(2024, 1, 1).date())  # validates the day fields
        return cron

    def day_matches(self, day: Any) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if self.dow == "?":
            return any(self._dom_part(part, day, last) for part in self.dom.split(","))
        aws_dow = (day.weekday() + 1) % 7 + 1  # 1 = Sunday … 7 = Saturday
        return any(self._dow_part(part, day, last, aws_dow) for part in self.dow.split(","))

    @staticmethod
    def _dom_part(part: str, day: Any, last: int) -> bool:
        if part == "L":
            return day.day == last
        if part.endswith("W"):
            target = last if part == "LW" else int(part[:-1])
            target = min(target, last)
            wanted = day.replace(day=target)
            if wanted.weekday() == 5:  # Saturday → Friday (or Monday when the 1st)
                wanted = wanted - timedelta(days=1) if target > 1 else wanted + timedelta(days=2)
            elif wanted.weekday() == 6:  # Sunday → Monday (or Friday when the last day)
                wanted = wanted + timedelta(days=1) if target < last else wanted - timedelta(days=2)
            return day == wanted
        return day.day in _values(part, 1, 31)

    @staticmethod
    def _dow_part(part: str, day: Any, last: int, aws_dow: int) -> bool:
        if "#" in part:
            weekday, nth = part.split("#", 1)
            return aws_dow == _values(weekday, 1, 7, _DAYS).pop() and (day.day - 1) // 7 + 1 == int(nth)
        if part.endswith("L") and len(part) > 1:
            return aws_dow == _values(part[:-1], 1, 7, _DAYS).pop() and day.day + 7 > last
        if part == "L":
            return aws_dow == 7
        return aws_dow in _values(part, 1, 7, _DAYS)

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after ``moment`` (in ``moment``'s time zone)."""
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(100_000):
            if t.year > 2199:
                break
            if t.year not in self.years:
                t = t.replace(year=t.year + 1, month=1, day=1, hour=0, minute=0)
                continue
            if t.month not in self.months:
                t = (t.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0)
                continue
            if not self.day_matches(t.date()):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        raise ExpressionError("the cron expression never fires")


def next_fire(expression: str, after: float, *, created: float | None = None, timezone: str = "UTC") -> float | None:
    """When ``expression`` fires next after epoch ``after`` (None: never again).

    ``rate()`` fires every period counted from ``created`` (when the rule appeared)."""
    expression = expression.strip()
    if m := _RATE.fullmatch(expression):
        period = int(m.group(1)) * _UNIT_SECONDS[m.group(2).lower().rstrip("s")]
        if period <= 0:
            raise ExpressionError("a rate must be positive")
        origin = created if created is not None else after
        periods = max(1, int((after - origin) // period) + 1)
        return origin + periods * period
    zone = ZoneInfo(timezone or "UTC")
    if m := _CRON.fullmatch(expression):
        moment = datetime.fromtimestamp(after, zone)
        return Cron.parse(m.group(1)).next_after(moment).timestamp()
    if m := _AT.fullmatch(expression):
        when = datetime.fromisoformat(m.group(1)).replace(tzinfo=zone).timestamp()
        return when if when > after else None
    raise ExpressionError(f"not a schedule expression: {expression!r}")


# ----------------------------------------------------------------------------------- schedules


@dataclass
class Target:
    arn: str
    id: str = ""
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None


@dataclass
class Schedule:
    name: str
    expression: str
    targets: list[Target]
    kind: str  # "rule" (EventBridge) or "schedule" (EventBridge Scheduler)
    arn: str = ""
    logical_id: str | None = None
    timezone: str = "UTC"
    enabled: bool = True
    created: float = 0.0
    next_fire: float | None = None
    fired: int = 0
    last_fired: float | None = None

    @property
    def label(self) -> str:
        return self.logical_id or self.name

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "logical_id": self.logical_id,
            "kind": self.kind,
            "expression": self.expression,
            "enabled": self.enabled,
            "targets": [t.arn for t in self.targets],
            "next_fire": _iso(self.next_fire),
            "fired": self.fired,
            "last_fired": _iso(self.last_fired),
        }


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


def scheduled_event(schedule: Schedule, moment: float, region: str, account: str) -> dict[str, Any]:
    """EventBridge's "Scheduled Event"."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [schedule.arn] if schedule.arn else [],
        "detail": {},
    }


def json_path(document: Any, path: str) -> Any:
    """The simple JSONPath EventBridge input paths use: ``$``, ``$.a.b``, ``$.a[0]``."""
    if path in ("$", ""):
        return document
    current = document
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path[1:] if path.startswith("$") else path):
        key, index = part
        try:
            current = current[int(index)] if index else current[key]
        except (KeyError, IndexError, TypeError):
            return None
    return current


def target_payload(schedule: Schedule, target: Target, event: dict[str, Any]) -> Any:
    if schedule.kind == "schedule":
        return _loads(target.input) if target.input is not None else {}
    if target.input is not None:
        return _loads(target.input)
    if target.input_path:
        return json_path(event, target.input_path)
    if target.input_transformer:
        values = {
            name: json_path(event, path) for name, path in (target.input_transformer.get("InputPathsMap") or {}).items()
        }
        text = str(target.input_transformer.get("InputTemplate", ""))
        as_json = text.strip().startswith(("{", "["))
        for name, value in values.items():
            raw = value if isinstance(value, str) else json.dumps(value)
            if as_json:  # a JSON template: a bare placeholder becomes a JSON value, a quoted one text
                text = text.replace(f'"<{name}>"', json.dumps(raw)).replace(f"<{name}>", json.dumps(value))
            else:
                text = text.replace(f"<{name}>", raw)
        return _loads(text)
    return event


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class Clock:
    """Real time, or real time run ``speed`` times faster from the moment it was made."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = max(speed, 0.001)
        self._origin = time.time()

    def now(self) -> float:
        return self._origin + (time.time() - self._origin) * self.speed

    def real_seconds(self, virtual_seconds: float) -> float:
        return virtual_seconds / self.speed


# ----------------------------------------------------------------------------------- scheduler


Dispatcher = Callable[[Schedule, Target, Any], str]  # returns a short note of what it did
Discover = Callable[[], list[Schedule]]


class Scheduler:
    """Fires the schedules ``discover`` finds (re-read every ``refresh_seconds``)."""

    def __init__(
        self,
        discover: Discover,
        dispatch: Dispatcher,
        *,
        region: str,
        account: str,
        clock: Clock | None = None,
        refresh_seconds: float = 5.0,
        on_fire: Callable[[Schedule, list[str]], None] | None = None,
    ) -> None:
        self.discover = discover
        self.dispatch = dispatch
        self.region = region
        self.account = account
        self.clock = clock or Clock()
        self.refresh_seconds = refresh_seconds
        self.on_fire = on_fire
        self.schedules: dict[str, Schedule] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refreshed = 0.0

    def refresh(self) -> None:
        now = self.clock.now()
        found = {f"{s.kind}:{s.name}": s for s in self.discover()}
        with self._lock:
            for key, schedule in found.items():
                known = self.schedules.get(key)
                if known and known.expression == schedule.expression and known.timezone == schedule.timezone:
                    known.targets, known.enabled = schedule.targets, schedule.enabled
                    known.logical_id = schedule.logical_id
                    continue
                schedule.created = now
                try:
                    schedule.next_fire = next_fire(schedule.expression, now, created=now, timezone=schedule.timezone)
                except (ExpressionError, ValueError) as exc:
                    logger.warning("schedule %s: %s; it will not fire", schedule.label, exc)
                    schedule.next_fire = None
                self.schedules[key] = schedule
            for key in set(self.schedules) - set(found):
                del self.schedules[key]
        self._refreshed = time.monotonic()

    def start(self) -> Scheduler:
        self.refresh()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self._sleep_seconds()):
            try:
                if time.monotonic() - self._refreshed >= self.refresh_seconds:
                    self.refresh()
                self.tick()
            except Exception:
                logger.exception("scheduler tick failed")

    def _sleep_seconds(self) -> float:
        with self._lock:
            due = [s.next_fire for s in self.schedules.values() if s.enabled and s.next_fire is not None]
        if not due:
            return 0.5
        return min(0.5, max(0.01, self.clock.real_seconds(min(due) - self.clock.now())))

    def tick(self) -> list[Schedule]:
        """Fire every schedule that is due (once, however many periods were missed)."""
        now = self.clock.now()
        with self._lock:
            due = [s for s in self.schedules.values() if s.enabled and s.next_fire is not None and s.next_fire <= now]
            for schedule in due:
                moment = schedule.next_fire or now
                try:
                    schedule.next_fire = next_fire(
                        schedule.expression, max(now, moment), created=schedule.created, timezone=schedule.timezone
                    )
                except (ExpressionError, ValueError):
                    schedule.next_fire = None
        for schedule in due:
            self._fire(schedule, moment=now)
        return due

    def fire_now(self, name: str, matches: Callable[[Schedule, str], bool] | None = None) -> list[dict[str, Any]]:
        """Fire the schedules named ``name`` (rule or schedule name, logical id, or — through
        ``matches`` — a target's logical id) now, outside their expression."""
        if time.monotonic() - self._refreshed > 1.0:
            self.refresh()
        with self._lock:
            chosen = [
                s
                for s in self.schedules.values()
                if name in (s.name, s.logical_id, s.arn) or (matches is not None and matches(s, name))
            ]
        if not chosen:
            known = sorted(s.label for s in self.schedules.values())
            raise KeyError(f"no schedule {name!r}; known: {', '.join(known) or 'none'}")
        out = []
        for schedule in chosen:
            notes = self._fire(schedule, moment=self.clock.now())
            out.append({**schedule.summary(), "dispatched": notes})
        return out

    def _fire(self, schedule: Schedule, *, moment: float) -> list[str]:
        event = scheduled_event(schedule, moment, self.region, self.account)
        notes = []
        for target in schedule.targets:
            try:
                notes.append(self.dispatch(schedule, target, target_payload(schedule, target, event)))
            except Exception as exc:
                logger.exception("schedule %s: target %s failed", schedule.label, target.arn)
                notes.append(f"{target.arn}: failed ({type(exc).__name__}: {exc})")
        with self._lock:
            schedule.fired += 1
            schedule.last_fired = moment
        if self.on_fire is not None:
            self.on_fire(schedule, notes)
        return notes

    def summary(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.summary() for s in sorted(self.schedules.values(), key=lambda s: s.label)]


# ------------------------------------------------------------------------- from the emulator


def schedules_from_rules(events: Any, logical_by_physical: dict[str, str]) -> list[Schedule]:
    """The emulator's EventBridge rules that have a schedule expression (default bus)."""
    out: list[Schedule] = []
    token: str | None = None
    for _ in range(100):  # bounded pagination
        page = events.list_rules(**({"NextToken": token} if token else {}))
        for rule in page.get("Rules", []):
            if not rule.get("ScheduleExpression"):
                continue
            targets = events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", [])
            out.append(
                Schedule(
                    name=rule["Name"],
                    arn=rule.get("Arn", ""),
                    expression=rule["ScheduleExpression"],
                    kind="rule",
                    enabled=rule.get("State", "ENABLED") == "ENABLED",
                    logical_id=logical_by_physical.get(rule["Name"]) or logical_by_physical.get(rule.get("Arn", "")),
                    targets=[
                        Target(
                            arn=t["Arn"],
                            id=t.get("Id", ""),
                            input=t.get("Input"),
                            input_path=t.get("InputPath"),
                            input_transformer=t.get("InputTransformer"),
                        )
                        for t in targets
                    ],
                )
            )
        token = page.get("NextToken")
        if not token:
            break
    return out


def schedule_from_scheduler_resource(logical_id: str, props: dict[str, Any], region: str, account: str) -> Schedule:
    """An ``AWS::Scheduler::Schedule`` (properties already resolved)."""
    target = props.get("Target") or {}
    name = str(props.get("Name") or logical_id)
    group = str(props.get("GroupName") or "default")
    return Schedule(
        name=name,
        arn=f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}",
        expression=str(props.get("ScheduleExpression", "")),
        timezone=str(props.get("ScheduleExpressionTimezone") or "UTC"),
        kind="schedule",
        enabled=str(props.get("State", "ENABLED")).upper() == "ENABLED",
        logical_id=logical_id,
        targets=[Target(arn=str(target.get("Arn", "")), input=target.get("Input"))] if target else [],
    )


@dataclass
class TargetDispatcher:
    """Delivers a schedule's payload to its target, as EventBridge would."""

    invoke_async: Callable[[str, Any, str], Any]  # (function arn, payload, source)
    client: Callable[[str], Any]  # service -> boto3 client for the emulator
    notes: list[str] = field(default_factory=list)

    def __call__(self, schedule: Schedule, target: Target, payload: Any) -> str:
        arn = target.arn
        source = f"schedule {schedule.label}"
        if ":lambda:" in arn and ":function:" in arn:
            self.invoke_async(arn, payload, source)
            return f"invoked {arn.split(':function:')[-1]}"
        if ":states:" in arn and ":stateMachine:" in arn:
            execution = self.client("stepfunctions").start_execution(
                stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(payload)
            )
            return f"started {execution['executionArn'].split(':')[-1]} of {arn.split(':')[-1]}"
        if ":sqs:" in arn:
            sqs = self.client("sqs")
            url = sqs.get_queue_url(QueueName=arn.split(":")[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=payload if isinstance(payload, str) else json.dumps(payload))
            return f"sent to {arn.split(':')[-1]}"
        if ":sns:" in arn:
            message = payload if isinstance(payload, str) else json.dumps(payload)
            self.client("sns").publish(TopicArn=arn, Message=message)
            return f"published to {arn.split(':')[-1]}"
        raise ValueError(f"targets like {arn} are not fired locally")
