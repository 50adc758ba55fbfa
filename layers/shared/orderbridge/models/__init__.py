"""Pydantic models: one module per vendor, plus the internal order model (``order``)."""
