"""Path parameters of the ops API, checked before any work: an id longer than any key holds is a
400 naming the parameter, never a DynamoDB ``ValidationException`` (a 503 no retry can fix)."""

from __future__ import annotations

from orderbridge.errors import BadRequest, FieldError
from orderbridge.models.types import ID_MAX_LENGTH


def path_id(name: str, value: str) -> str:
    """``value`` of the path parameter ``name``: 1 to :data:`ID_MAX_LENGTH` characters (the limit
    of every id a vendor payload carries), else a 400 naming ``name``."""
    if not value or len(value) > ID_MAX_LENGTH:
        raise BadRequest(
            f"the path parameter {name} is not an id we could hold",
            errors=[FieldError(name, f"an id of 1 to {ID_MAX_LENGTH} characters is expected")],
        )
    return value
