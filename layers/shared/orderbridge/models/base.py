"""Base classes for vendor payload models.

``defer_build``: a model's validator and serializer are built when it is first used, not when its
module is imported — a cold start builds only the models its first request reads or writes.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class VendorModel(BaseModel):
    """A payload as a vendor sends it.

    Unknown extra fields are ignored here, not rejected: the raw body is stored verbatim with
    the order for audit, so nothing the vendor sent is lost.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True, defer_build=True)


class OurModel(BaseModel):
    """A model we own (internal records, our answers): strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)
