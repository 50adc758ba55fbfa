"""The ops API over what the branches and abandoned-carts syncs keep of Blink's records:

- ``GET /ops/branches?merchant=&flag=``: each branch as the last branches sync saw it (ours and
  Blink's), with its ``flag`` (``vanished``, ``unconfigured``, ``code_changed``, ``inactive``;
  ``flag=any`` lists only the flagged ones);
- ``GET /ops/abandoned-carts?merchant=&from=&to=&limit=&cursor=``: a merchant's abandoned carts
  created in a time range, oldest first, a page at a time;
- ``GET /ops/abandoned-carts.csv?...`` (or ``?format=csv``): the same range as one CSV file for a
  recovery campaign (a header row; money as exact decimal text; cells that a spreadsheet would
  run as a formula are quoted, see :func:`safe_cell`).

``from`` / ``to`` are a date (``YYYY-MM-DD``: the whole day) or an ISO-8601 time (UTC when it has
no offset); ``to`` defaults to now and ``from`` to seven days before ``to``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import Field

from orderbridge.deps import Deps
from orderbridge.errors import BadRequest, FieldError
from orderbridge.models.base import OurModel
from orderbridge.models.blink_records import AbandonedCartRecord, BranchCheck, BranchFlag
from orderbridge.store.abandoned_carts import AbandonedCartStore
from orderbridge.store.branch_checks import BranchCheckStore
from orderbridge.web.paging import decode_cursor, encode_cursor, page_limit

DEFAULT_RANGE = timedelta(days=7)
MAX_RANGE = timedelta(days=93)
MAX_CSV_ROWS = 5000
CSV_PAGE = 500
CSV_COLUMNS = (
    "created_at",
    "merchant_id",
    "branch_id",
    "customer_name",
    "customer_phone",
    "cart_value",
    "item_count",
    "items",
    "notification_status",
    "notification_sent_at",
    "order_id",
    "cart_key",
)


class BranchList(OurModel):
    branches: list[BranchCheck]
    filters: dict[str, str] = Field(default_factory=dict)


class CartList(OurModel):
    carts: list[AbandonedCartRecord]
    next_cursor: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)


class CsvExport(OurModel):
    filename: str
    text: str
    rows: int


def list_branches(query: dict[str, str], deps: Deps) -> BranchList:
    errors: list[FieldError] = []
    known = deps.config.merchant_ids()
    merchant = query.get("merchant") or None
    if merchant and merchant not in known:
        errors.append(FieldError("merchant", "not a configured merchant"))
    flag = query.get("flag") or None
    flags = {f.value for f in BranchFlag}
    if flag and flag not in flags | {"any"}:
        errors.append(FieldError("flag", f"one of any, {', '.join(sorted(flags))}"))
    if errors:
        raise BadRequest("invalid query", errors=errors)
    store = BranchCheckStore(deps.dynamodb, deps.settings.config_table)
    checks = [check for m in ([merchant] if merchant else known) for check in store.of_merchant(m)]
    if flag == "any":
        checks = [check for check in checks if check.flag is not None]
    elif flag:
        checks = [check for check in checks if check.flag == flag]
    filters = {k: v for k, v in {"merchant": merchant, "flag": flag}.items() if v}
    return BranchList(branches=checks, filters=filters)


def list_abandoned_carts(query: dict[str, str], deps: Deps) -> CartList:
    errors: list[FieldError] = []
    merchant, start, end = _cart_range(query, deps, errors)
    limit = page_limit(query, errors)
    after = decode_cursor(query.get("cursor"), errors, partition=f"CART#{merchant}")
    if errors:
        raise BadRequest("invalid query", errors=errors)
    store = AbandonedCartStore(deps.dynamodb, deps.settings.config_table)
    carts, last_key = store.between(merchant, start, end, limit=limit, after=after)
    return CartList(carts=carts, next_cursor=encode_cursor(last_key), filters=_filters(merchant, start, end))


def export_abandoned_carts(query: dict[str, str], deps: Deps) -> CsvExport:
    errors: list[FieldError] = []
    merchant, start, end = _cart_range(query, deps, errors)
    if errors:
        raise BadRequest("invalid query", errors=errors)
    store = AbandonedCartStore(deps.dynamodb, deps.settings.config_table)
    carts: list[AbandonedCartRecord] = []
    after: dict[str, Any] | None = None
    while True:
        page, after = store.between(merchant, start, end, limit=CSV_PAGE, after=after)
        carts.extend(page)
        if len(carts) > MAX_CSV_ROWS:
            raise BadRequest(
                "too many carts for one file",
                errors=[FieldError("from", f"the range holds more than {MAX_CSV_ROWS} carts: narrow from/to")],
            )
        if after is None:
            break
    name = f"abandoned-carts-{merchant}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.csv"
    return CsvExport(filename=re.sub(r"[^A-Za-z0-9._-]", "_", name), text=carts_csv(carts), rows=len(carts))


def carts_csv(carts: list[AbandonedCartRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for cart in carts:
        items = "; ".join(f"{line.quantity} x {line.name or line.dish_id}" for line in cart.lines)
        row = {
            "created_at": cart.created_at.isoformat(),
            "merchant_id": cart.merchant_id,
            "branch_id": cart.branch_id,
            "customer_name": cart.customer_name,
            "customer_phone": cart.customer_phone,
            "cart_value": cart.cart_value,
            "item_count": sum(line.quantity for line in cart.lines),
            "items": items,
            "notification_status": cart.notification_status,
            "notification_sent_at": cart.notification_sent_at.isoformat() if cart.notification_sent_at else None,
            "order_id": cart.order_id,
            "cart_key": cart.cart_key,
        }
        writer.writerow([safe_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


# A cell a spreadsheet would read as a formula starts with one of these (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ... unless it is only a number or a phone number ("-12.50", "+923300000000"): kept as it is.
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .]*$")


def safe_cell(value: Any) -> str:
    """``value`` as CSV text that no spreadsheet runs: a formula-like cell gets a leading ``'``.
    Decimals are written exactly as they are (``str``), never through a float."""
    text = "" if value is None else str(value)
    if text.lstrip(" ").startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _cart_range(query: dict[str, str], deps: Deps, errors: list[FieldError]) -> tuple[str, datetime, datetime]:
    merchant = query.get("merchant") or ""
    if not merchant:
        errors.append(FieldError("merchant", "required: the merchant whose carts to list"))
    elif merchant not in deps.config.merchant_ids():
        errors.append(FieldError("merchant", "not a configured merchant"))
    fmt = query.get("format") or None
    if fmt and fmt not in ("json", "csv"):
        errors.append(FieldError("format", "json or csv"))
    end = _moment(query.get("to"), "to", errors, end_of_day=True) or deps.clock()
    start = _moment(query.get("from"), "from", errors, end_of_day=False) or end - DEFAULT_RANGE
    if start > end:
        errors.append(FieldError("from", "must not be after to"))
    elif end - start > MAX_RANGE:
        errors.append(FieldError("from", f"the range is at most {MAX_RANGE.days} days"))
    return merchant, start, end


def _moment(raw: str | None, name: str, errors: list[FieldError], *, end_of_day: bool) -> datetime | None:
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(name, "a date (YYYY-MM-DD) or an ISO-8601 time"))
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _filters(merchant: str, start: datetime, end: datetime) -> dict[str, str]:
    return {"merchant": merchant, "from": start.isoformat(), "to": end.isoformat()}
