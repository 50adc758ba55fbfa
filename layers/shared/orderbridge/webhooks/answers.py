"""What the webhooks answer (the Blend contract's answer is ``models.blend.BlendAnswer``)."""

from __future__ import annotations

from typing import Literal

from orderbridge.models.base import OurModel


class WebhookAck(OurModel):
    """``accepted``: recorded against an order (or, for non-rent Bloq.It events, recorded).
    ``unmatched``: recorded, but no order of ours is known for it yet (HTTP 202)."""

    status: Literal["accepted", "unmatched"]
    order_id: str | None = None
