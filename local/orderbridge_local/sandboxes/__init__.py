"""Local HTTP sandboxes of the vendors, for the local stack and the tests (no Docker, no network).

Each sandbox is a WSGI app with in-memory state, served on 127.0.0.1 by werkzeug in a daemon thread,
faithful to the vendor documentation in ``vendor-docs/``:

==================  =====================================================================================
``blink``           Blink interface API (login, menu, branches, customers, orders, statuses) + its Order
                    and Order Status webhooks (:mod:`.blink`)
``blink_logistics`` Blink Logistics tasks + the Task Status Webhook (:mod:`.blink_logistics`)
``dispatchninja``   DispatchNINJA ``orders/add`` and ``orders/details``, form-encoded (:mod:`.dispatchninja`)
``bloqit``          Bloq.It Partner API: bloqs, lockers, rents, customers, signed webhooks (:mod:`.bloqit`)
``partner``         A delivery partner sending Blend ``order_created`` orders, with retries (:mod:`.partner`)
==================  =====================================================================================

Every sandbox also has the admin routes of :mod:`.base` under ``/_admin/`` (faults, request and
webhook logs, settings, reset) and vendor-specific admin commands (documented in each module).

Usage::

    sandboxes = build_sandboxes(SandboxesConfig(bloqit={"webhooks": [{"url": ..., "secret": ...}]}))
    handles = {name: sandbox.serve() for name, sandbox in sandboxes.items()}   # ephemeral ports
    ...
    for handle in handles.values():
        handle.stop()

or :func:`serve_sandboxes` / :class:`ServedSandboxes` to start and stop them together.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orderbridge_local.sandboxes.base import FaultSettings, Sandbox, SandboxSettings, ServerHandle
from orderbridge_local.sandboxes.blink import BlinkSandbox, BlinkSettings
from orderbridge_local.sandboxes.blink_logistics import BlinkLogisticsSandbox, BlinkLogisticsSettings
from orderbridge_local.sandboxes.bloqit import BloqitSandbox, BloqitSettings
from orderbridge_local.sandboxes.dispatchninja import DispatchNinjaSandbox, DispatchNinjaSettings
from orderbridge_local.sandboxes.partner import PartnerSandbox, PartnerSettings

__all__ = [
    "BlinkLogisticsSandbox",
    "BlinkLogisticsSettings",
    "BlinkSandbox",
    "BlinkSettings",
    "BloqitSandbox",
    "BloqitSettings",
    "DispatchNinjaSandbox",
    "DispatchNinjaSettings",
    "FaultSettings",
    "PartnerSandbox",
    "PartnerSettings",
    "Sandbox",
    "SandboxSettings",
    "SandboxesConfig",
    "ServedSandboxes",
    "ServerHandle",
    "build_sandboxes",
    "serve_sandboxes",
]


class SandboxesConfig(BaseModel):
    """The settings of every sandbox, by name (each field documented in its module)."""

    model_config = ConfigDict(extra="forbid")

    blink: BlinkSettings = Field(default_factory=BlinkSettings)
    blink_logistics: BlinkLogisticsSettings = Field(default_factory=BlinkLogisticsSettings)
    dispatchninja: DispatchNinjaSettings = Field(default_factory=DispatchNinjaSettings)
    bloqit: BloqitSettings = Field(default_factory=BloqitSettings)
    partner: PartnerSettings = Field(default_factory=PartnerSettings)


SANDBOX_CLASSES: dict[str, type[Sandbox]] = {
    "blink": BlinkSandbox,
    "blink_logistics": BlinkLogisticsSandbox,
    "dispatchninja": DispatchNinjaSandbox,
    "bloqit": BloqitSandbox,
    "partner": PartnerSandbox,
}


def build_sandboxes(config: SandboxesConfig | dict[str, Any] | None = None) -> dict[str, Sandbox]:
    """One sandbox per vendor, configured, not yet served: ``{name: sandbox}``."""
    if config is None:
        config = SandboxesConfig()
    elif isinstance(config, dict):
        config = SandboxesConfig.model_validate(config)
    return {name: cls(getattr(config, name)) for name, cls in SANDBOX_CLASSES.items()}


class ServedSandboxes(dict[str, ServerHandle]):
    """``{name: handle}`` of served sandboxes; ``stop()`` (or leaving the ``with`` block) stops all."""

    def stop(self) -> None:
        for handle in self.values():
            handle.stop()

    def __enter__(self) -> ServedSandboxes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_sandboxes(
    sandboxes: dict[str, Sandbox], host: str = "127.0.0.1", ports: dict[str, int] | None = None
) -> ServedSandboxes:
    """Serve each sandbox (on ``ports[name]``, or an ephemeral port). Stops those started on failure."""
    served = ServedSandboxes()
    try:
        for name, sandbox in sandboxes.items():
            served[name] = sandbox.serve(host=host, port=(ports or {}).get(name, 0))
    except BaseException:
        served.stop()
        raise
    return served
