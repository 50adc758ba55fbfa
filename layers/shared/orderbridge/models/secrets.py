"""The shape of the webhook secret (one Secrets Manager secret, read by ``store.secrets``)::

    {"blink": ["..."], "blink_logistics": ["..."], "bloq": ["current", "previous"],
     "partners": {"<partner_id>": ["..."]}}

Every source accepts a list of secrets (or one), so a new one can be rolled out while the old one
still works.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class WebhookSecrets(BaseModel):
    blink: list[SecretStr] = Field(default_factory=list)
    blink_logistics: list[SecretStr] = Field(default_factory=list)
    bloq: list[SecretStr] = Field(default_factory=list)
    partners: dict[str, list[SecretStr]] = Field(default_factory=dict)

    @field_validator("blink", "blink_logistics", "bloq", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("partners", mode="before")
    @classmethod
    def _partners_one_or_many(cls, value: Any) -> Any:
        return {k: _as_list(v) for k, v in (value or {}).items()}
