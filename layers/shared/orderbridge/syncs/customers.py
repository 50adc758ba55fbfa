"""Customers sync: the Blink customers created since the cursor, stored per merchant.

Blink's customers carry no id: a customer is named by its phone (what Blink looks one up by),
kept as a digest in the key (``store.customers``). Only what recovery and support need is stored:
name, phone, email, Blink's creation time.

The cursor (JSON, :class:`CustomersCursor`) holds ``after``, the newest ``created_at`` of the last
complete walk; each walk asks for the customers created after ``after`` less
:data:`OVERLAP` (the doc does not say whether ``created_at`` is inclusive, nor how Blink orders
its pages), so a customer created in the same second as the newest one is not missed — and is
found again, which changes nothing. A walk stopped for time keeps how many customers of it were
done (``skip``): the next run asks the same question and goes on after them.

A customer whose entry the model refuses (a phone or e-mail longer than any real one,
``VENDOR_CODE_MAX_LENGTH``; a date that is no date) is reported as refused — counted in the walk,
so ``skip`` stays true — and the walk goes on; a name too long is cut with a marker.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from orderbridge.deps import Deps
from orderbridge.models.base import OurModel
from orderbridge.models.blink import BlinkCustomer
from orderbridge.models.blink_records import CustomerRecord
from orderbridge.models.types import RefusedEntry
from orderbridge.store.cursors import Cursor
from orderbridge.store.customers import CustomerStore
from orderbridge.syncs.listing import LISTING_ERRORS, listing_failed, phone_digits, short_digest
from orderbridge.syncs.runner import SyncReport, SyncRun, run_sync

NAME = "customers"
OVERLAP = timedelta(minutes=5)
# What is kept of a Blink customer: the fields its record has (and nothing else Blink sends).
KEPT_FIELDS = CustomerRecord.model_fields.keys() & BlinkCustomer.model_fields.keys()


class CustomersCursor(OurModel):
    after: datetime | None = None  # the newest created_at of the last complete walk
    skip: int = Field(default=0, ge=0)  # customers of the current walk already done
    newest: datetime | None = None  # the newest created_at seen in the current walk

    @classmethod
    def read(cls, value: str | None) -> CustomersCursor:
        return cls() if not value else cls.model_validate_json(value)

    def text(self) -> str:
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))


def sync_customers(deps: Deps, context: LambdaContext | Any) -> SyncReport:
    return run_sync(NAME, deps, context, deps.config.merchant_ids(), _step)


def customer_record(merchant_id: str, customer: BlinkCustomer, now: datetime) -> CustomerRecord:
    digits = phone_digits(customer.phone)
    identity = (
        short_digest(merchant_id, "phone", digits)
        if digits
        else short_digest(
            merchant_id, "no-phone", customer.full_name or "", customer.email or "", str(customer.created_at)
        )
    )
    kept = customer.model_dump(include=KEPT_FIELDS)
    return CustomerRecord(merchant_id=merchant_id, customer_key=identity, synced_at=now, **kept)


def _step(run: SyncRun, cursor: Cursor) -> None:
    deps, merchant = run.deps, cursor.scope
    now = deps.clock()
    state = CustomersCursor.read(cursor.value)
    since = state.after - OVERLAP if state.after else None
    store = CustomerStore(deps.dynamodb, deps.settings.config_table)
    newest, done = state.newest, 0
    refused: list[RefusedEntry] = []
    try:
        for customer in deps.vendors.blink(merchant).customers(created_at=since, refused=refused):
            done += _report_refused(run, merchant, refused, done, state.skip)
            done += 1
            if done <= state.skip:
                continue
            if not run.time_left():
                run.advance(cursor, state.model_copy(update={"skip": done - 1, "newest": newest}).text())
                run.lag((now - since).total_seconds() if since else 0.0)
                return
            record = customer_record(merchant, customer, now)
            run.item(f"{merchant}:customer:{record.customer_key}", partial(store.keep, record))
            if customer.created_at and (newest is None or customer.created_at > newest):
                newest = customer.created_at
    except LISTING_ERRORS as error:
        listing_failed(run, f"{merchant}:customers", error)
        if done > state.skip:  # keep what this run did of the walk (a page failed after ``done``)
            run.advance(cursor, state.model_copy(update={"skip": done, "newest": newest}).text())
        return
    done += _report_refused(run, merchant, refused, done, state.skip)
    run.lag(0.0)
    after = max((t for t in (newest, state.after) if t is not None), default=None)
    run.advance(cursor, CustomersCursor(after=after).text())


def _report_refused(run: SyncRun, merchant: str, refused: list[RefusedEntry], done: int, skip: int) -> int:
    """Report the customers the model refused (those of the walk not done by an earlier run, as
    the walk counts them); how many there were (each counts as one customer of the walk)."""
    count = len(refused)
    for offset, entry in enumerate(refused):
        if done + offset + 1 > skip:
            run.refused(f"{merchant}:customers", entry)
    refused.clear()
    return count
