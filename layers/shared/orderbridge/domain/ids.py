"""Our order ids.

An order id is derived from the source's own identity (uuid5), so every delivery of the same
vendor order, sequential or concurrent, names the same order and gets the same answer without
a read. It doubles as the workflow execution name (36 characters, valid for Step Functions).
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c2a4e-4f0b-5d7e-9a51-0b7d2c1e8a90")


def order_id_for(source: str, source_order_id: str) -> str:
    """``source`` is ``blink`` or ``partner:<partner_id>``."""
    return str(uuid.uuid5(_NAMESPACE, f"{source}:{source_order_id}"))
