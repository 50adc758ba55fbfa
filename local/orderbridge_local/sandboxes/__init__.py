"""Local HTTP sandboxes of the vendors (work in progress)."""
