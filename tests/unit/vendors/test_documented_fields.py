"""Every key of every vendor doc sample is a field of its model (answer models ignore unknown keys,
so without this a documented field could be dropped silently)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, get_args

import pytest
from orderbridge.models import blink, blink_logistics, dispatchninja
from pydantic import BaseModel

from . import samples


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def unmodelled_keys(model: type[BaseModel], value: Any, path: str = "") -> list[str]:
    """Dotted paths of the keys in ``value`` that ``model`` has no field for, at any depth."""
    if isinstance(value, list):
        return [key for item in value for key in unmodelled_keys(model, item, f"{path.rstrip('.')}[].")]
    if not isinstance(value, dict):
        return []
    by_key = {(field.alias or name): field for name, field in model.model_fields.items()}
    missing = []
    for key, item in value.items():
        field = by_key.get(key)
        if field is None:
            missing.append(f"{path}{key}")
            continue
        for inner in _models_in(field.annotation):
            missing += unmodelled_keys(inner, item, f"{path}{key}.")
    return missing


CASES = [
    ("BLINK_LOGIN_RESPONSE", blink.BlinkLoginResponse),
    ("BLINK_FETCH_MENU_RESPONSE", blink.BlinkMenuPage),
    ("BLINK_STOCK_AND_PRICE_PAYLOAD", blink.BlinkStockAndPriceSync),
    ("BLINK_BRANCHES_RESPONSE", blink.BlinkBranchesResponse),
    ("BLINK_CUSTOMERS_RESPONSE", blink.BlinkCustomersResponse),
    ("BLINK_SUBMIT_ORDER_PAYLOAD", blink.BlinkSubmitOrderRequest),
    ("BLINK_SUBMIT_ORDER_RESPONSE", blink.BlinkSubmitOrderResponse),
    ("BLINK_GET_ORDER_RESPONSE", blink.BlinkOrderResponse),
    ("BLINK_ORDER_LIST_RESPONSE", blink.BlinkOrderListResponse),
    ("BLINK_ABANDONED_CARTS_RESPONSE", blink.BlinkAbandonedCartsResponse),
    ("BLINK_ACCEPT_ORDER_PAYLOAD", blink.BlinkOrderStatusSync),
    ("BLINK_REJECT_ORDER_PAYLOAD", blink.BlinkOrderStatusSync),
    ("LOGISTICS_CREATE_TASK_PAYLOAD", blink_logistics.TaskCreateRequest),
    ("LOGISTICS_CREATE_TASK_RESPONSE", blink_logistics.TaskStatusResponse),
    ("LOGISTICS_UPDATE_TASK_RESPONSE", blink_logistics.TaskStatusResponse),
    ("LOGISTICS_TASK_STATUS_RESPONSE", blink_logistics.TaskStatusResponse),
    ("NINJA_ADD_ORDER_RESPONSE", dispatchninja.DispatchNinjaAddOrderResponse),
    ("NINJA_ORDER_DETAILS_RESPONSE", dispatchninja.DispatchNinjaOrderDetailsResponse),
]


@pytest.mark.parametrize(("sample", "model"), CASES, ids=[name for name, _ in CASES])
def test_every_documented_field_is_modelled_and_the_sample_parses(sample: str, model: type[BaseModel]) -> None:
    body = json.loads(getattr(samples, sample), parse_float=Decimal)

    assert unmodelled_keys(model, body) == []
    model.model_validate(body)  # and the doc's own sample is accepted as it is


def test_the_check_itself_notices_a_missing_field() -> None:
    body = json.loads(samples.BLINK_GET_ORDER_RESPONSE)
    body["data"]["items"][0]["surprise"] = 1
    assert unmodelled_keys(blink.BlinkOrderResponse, body) == ["data.items[].surprise"]
