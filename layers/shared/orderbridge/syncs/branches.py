"""Branches sync: Blink's ``branches`` kept in step with our branch configuration, per merchant.

Our ``Branch.branch_id`` is the code Blink's webhooks send as ``branch_id`` — Blink's ``id`` in the
Branches API — and ``Branch.blink_id`` is Blink's own id (``blink_id``). Each Blink branch is
matched to ours by its code, else by its Blink id:

- matched by code: Blink's ``blink_id``, name (``branch``) and address (``branch_address``) are set
  on ours where they differ (a conditional update: a second run at once finds nothing to change);
  a branch Blink says is not live or not active is flagged ``inactive``;
- matched only by Blink id: the branch's code changed in Blink (webhooks will name it by the new
  code): flagged ``code_changed`` and nothing is rewritten — renaming a branch is a person's call;
- not matched: listed as ``unconfigured``;
- a branch of ours that Blink no longer lists is flagged ``vanished``.

What the sync saw is kept per branch (``store.branch_checks``) for ``GET /ops/branches``. An empty
answer from Blink while branches are configured is taken as a fault, not as every branch gone:
it is dead-lettered and nothing is flagged. The cursor is the time of the last complete check.

A Blink branch whose entry the model refuses (an id empty or over ``ID_MAX_LENGTH``: it could not
key its check) is reported as refused and the others are checked; a name or address too long is
cut with a marker (``models.types.VendorText``). While an entry is refused, no branch of ours is
flagged ``vanished`` (the refused one may be it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orderbridge.deps import Deps
from orderbridge.models.blink import BlinkBranch
from orderbridge.models.blink_records import BranchCheck, BranchFlag
from orderbridge.models.config import Branch
from orderbridge.models.types import RefusedEntry
from orderbridge.store.branch_checks import BranchCheckStore
from orderbridge.store.cursors import Cursor
from orderbridge.syncs.listing import LISTING_ERRORS, listing_failed
from orderbridge.syncs.runner import SyncReport, SyncRun, run_sync

NAME = "branches"


def sync_branches(deps: Deps, context: LambdaContext | Any) -> SyncReport:
    return run_sync(NAME, deps, context, deps.config.merchant_ids(), _step)


@dataclass
class BranchPlan:
    """What the sync does for one branch: its check, and the fields to set on ours."""

    check: BranchCheck
    branch: Branch | None = None
    changes: dict[str, str] = field(default_factory=dict)


def plan_branches(
    merchant_id: str,
    ours: list[Branch],
    blinks: list[BlinkBranch],
    previous: dict[str, BranchCheck],
    now: datetime,
) -> list[BranchPlan]:
    """Match Blink's branches with ours (pure: no AWS, no HTTP)."""
    matcher = _Matcher(
        by_code={b.branch_id: b for b in ours},
        by_blink_id={b.blink_id: b for b in ours if b.blink_id},
        previous=previous,
    )
    plans = [matcher.plan(_seen(merchant_id, blink, now)) for blink in blinks]
    matched = {plan.check.branch_id for plan in plans if plan.check.configured}
    return plans + [BranchPlan(check=_vanished(branch, now)) for branch in ours if branch.branch_id not in matched]


def _seen(merchant_id: str, blink: BlinkBranch, now: datetime) -> dict[str, Any]:
    """What the sync saw of a Blink branch (the fields of its check that come from Blink)."""
    return {
        "merchant_id": merchant_id,
        "blink_code": str(blink.id),
        "blink_id": str(blink.blink_id) if blink.blink_id is not None else None,
        "name": blink.branch or None,
        "address": blink.branch_address or None,
        "is_live": blink.is_live,
        "is_active": blink.is_active,
        "checked_at": now,
    }


@dataclass
class _Matcher:
    """Our branches by code and by Blink id, and the last checks: a Blink branch's plan."""

    by_code: dict[str, Branch]
    by_blink_id: dict[str, Branch]
    previous: dict[str, BranchCheck]

    def plan(self, seen: dict[str, Any]) -> BranchPlan:
        code, blink_id = seen["blink_code"], seen["blink_id"]
        if code in self.by_code:
            return self._matched(seen, self.by_code[code])
        if blink_id is not None and blink_id in self.by_blink_id:
            branch = self.by_blink_id[blink_id]
            note = (
                f"Blink's branch {blink_id} now has the code {code} (ours: {branch.branch_id}); its webhooks "
                f"name it {code}: configure that code or fix Blink's Third Party Branches"
            )
            return _flagged(seen, branch.branch_id, True, BranchFlag.CODE_CHANGED, note)
        note = "in Blink, not configured here: its orders are refused as an unknown branch"
        return _flagged(seen, code, False, BranchFlag.UNCONFIGURED, note)

    def _matched(self, seen: dict[str, Any], branch: Branch) -> BranchPlan:
        """Matched by code: Blink's id, name and address set on ours where they differ."""
        wanted = {key: seen[key] for key in ("blink_id", "name", "address")}
        changes = {k: v for k, v in wanted.items() if v is not None and getattr(branch, k) != v}
        kept = self.previous.get(branch.branch_id)
        updated = sorted(changes) if changes else (kept.updated if kept else [])
        inactive = seen["is_live"] is False or seen["is_active"] is False
        flag = BranchFlag.INACTIVE if inactive else None
        check = {**seen, "branch_id": branch.branch_id, "configured": True, "flag": flag, "updated": updated}
        return BranchPlan(check=BranchCheck.model_validate(check), branch=branch, changes=changes)


def _flagged(seen: dict[str, Any], branch_id: str, configured: bool, flag: BranchFlag, note: str) -> BranchPlan:
    """A Blink branch a person must look at: only its check is kept."""
    check = {**seen, "branch_id": branch_id, "configured": configured, "flag": flag, "note": note}
    return BranchPlan(check=BranchCheck.model_validate(check))


def _vanished(branch: Branch, now: datetime) -> BranchCheck:
    """A branch of ours Blink no longer lists: its check shows ours (the fields both have)."""
    ours = branch.model_dump(include=BranchCheck.model_fields.keys() & Branch.model_fields.keys())
    note = "configured here, no longer among Blink's branches"
    return BranchCheck(**ours, configured=True, flag=BranchFlag.VANISHED, note=note, checked_at=now)


def _step(run: SyncRun, cursor: Cursor) -> None:
    deps, merchant = run.deps, cursor.scope
    now = deps.clock()
    store = BranchCheckStore(deps.dynamodb, deps.settings.config_table)
    ours = [b for b in deps.config.records(Branch) if b.merchant_id == merchant]
    refused: list[RefusedEntry] = []
    try:
        blinks = deps.vendors.blink(merchant).branches(refused=refused)
        if not blinks and ours and not refused:
            raise ValueError("Blink listed no branches while some are configured: nothing is flagged")
    except LISTING_ERRORS as error:
        listing_failed(run, f"{merchant}:branches", error)
        return
    for entry in refused:
        run.refused(f"{merchant}:branches", entry)
    previous = {check.branch_id: check for check in store.of_merchant(merchant)}
    plans = plan_branches(merchant, ours, blinks, previous, now)
    if refused:  # a branch not listed may be the one refused: not "vanished" on this answer
        plans = [plan for plan in plans if plan.check.flag is not BranchFlag.VANISHED]
    for plan in plans:
        if not run.time_left():
            return
        run.item(f"{merchant}:branch:{plan.check.branch_id}", partial(_apply, store, plan))
    current = {plan.check.branch_id for plan in plans}
    for branch_id in sorted(set(previous) - current):
        store.remove(merchant, branch_id)  # neither configured nor in Blink any more
    run.lag(0.0)
    run.advance(cursor, now.isoformat())


def _apply(store: BranchCheckStore, plan: BranchPlan) -> bool:
    """Update our branch (if Blink changed it), then keep the check. Of two runs at once, the one
    whose conditional update of the branch went through counts the change (the check may be
    written by either); without a branch change, the one whose check write went through."""
    if plan.branch is not None and plan.changes:
        updated = store.update_branch(plan.branch, plan.changes)
        store.keep(plan.check)
        return updated
    return store.keep(plan.check)
