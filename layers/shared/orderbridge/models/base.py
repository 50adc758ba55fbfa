"""Base classes for vendor payload models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class VendorModel(BaseModel):
    """A payload as a vendor sends it.

    Unknown extra fields are ignored here, not rejected: the raw body is stored verbatim with
    the order for audit, so nothing the vendor sent is lost.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)


class OurModel(BaseModel):
    """A model we own (internal records, our answers): strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
