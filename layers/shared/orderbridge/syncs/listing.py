"""What the syncs that walk a vendor listing (branches, customers, abandoned carts) share: a
listing that cannot be read stops that scope — the others go on — and is dead-lettered like an
item, and the customer's phone is reduced to what names a customer without being one."""

from __future__ import annotations

import hashlib
import re

from orderbridge.errors import OrderbridgeError
from orderbridge.observability import logger
from orderbridge.syncs.runner import SyncRun
from orderbridge.vendors.http import VendorError

# A listing call that failed after the client's own retries (or a page the models refused).
LISTING_ERRORS = (VendorError, OrderbridgeError, ValueError)


def listing_failed(run: SyncRun, key: str, error: Exception) -> None:
    """The vendor's listing failed for this scope: counted, logged, dead-lettered; the run is
    unfinished (the next run starts from the cursor again)."""
    run.report.failed += 1
    run.report.finished = False
    logger.warning(
        "sync listing failed", extra={"item": key, "error": type(error).__name__, "reason": str(error)[:300]}
    )
    run.deps.dead_letters.send(run.name, key, error)


def phone_digits(phone: str | None) -> str:
    """The digits of a phone number ("+92 330-0000000" -> "923300000000")."""
    return re.sub(r"\D", "", phone or "")


def short_digest(*parts: str) -> str:
    """A key made of ``parts`` that does not show them (personal data stays out of keys and logs)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
