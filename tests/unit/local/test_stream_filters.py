"""The local stack's stream poller applies an event source mapping's FilterCriteria as Lambda does:
the examples of Lambda's guide ("Using event filtering with a DynamoDB event source", "Control which
events Lambda sends to your function"), then the order stream's own filters from template.yaml
against the writes an order goes through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from orderbridge_local.streams import matches, passes_filters
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[3]

# The guide's sample record: a table with the primary key CustomerName and two attributes.
GUIDE_RECORD = {
    "eventID": "1",
    "eventVersion": "1.0",
    "dynamodb": {
        "ApproximateCreationDateTime": "1678831218.0",
        "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
        "NewImage": {
            "AccountManager": {"S": "Pat Candella"},
            "PaymentTerms": {"S": "60 days"},
            "CustomerName": {"S": "AnyCompany Industries"},
        },
        "SequenceNumber": "111",
        "SizeBytes": 26,
        "StreamViewType": "NEW_IMAGE",
    },
}


def criteria(*patterns: dict[str, Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


@pytest.mark.parametrize(
    ("pattern", "passes"),
    [
        # Filtering with the table key
        ({"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}, True),
        ({"dynamodb": {"Keys": {"CustomerName": {"S": ["Another Company"]}}}}, False),
        # Filtering with table attributes
        ({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}}}}, True),
        # A Boolean expression: every key of a pattern must match (AND)
        (
            {"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}, "PaymentTerms": {"S": ["30 days"]}}}},
            False,
        ),
        # ... and the alternatives of one field any (OR)
        ({"dynamodb": {"NewImage": {"PaymentTerms": {"S": ["30 days", "60 days"]}}}}, True),
        # The Exists operator works on leaf nodes: the attribute's type key, not the attribute
        ({"dynamodb": {"NewImage": {"AccountManager": {"S": [{"exists": True}]}}}}, True),
        ({"dynamodb": {"NewImage": {"AccountManager": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"Discount": {"S": [{"exists": False}]}}}}, True),
        ({"dynamodb": {"NewImage": {"AccountManager": {"S": [{"exists": False}]}}}}, False),
        # A missing parent (a NEW_IMAGE record has no OldImage) is a missing leaf
        ({"dynamodb": {"OldImage": {"CustomerName": {"S": [{"exists": False}]}}}}, True),
        # The comparison operators of the rule syntax
        ({"dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"prefix": "60"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"suffix": "days"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"AccountManager": {"S": [{"equals-ignore-case": "pat candella"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"anything-but": ["60 days"]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"anything-but": "30 days"}]}}}}, True),
        ({"dynamodb": {"SizeBytes": [{"numeric": [">", 10, "<=", 26]}]}}, True),
        ({"dynamodb": {"SizeBytes": [{"numeric": ["<", 10]}]}}, False),
        # Or across fields
        (
            {
                "dynamodb": {
                    "$or": [
                        {"NewImage": {"PaymentTerms": {"S": ["30 days"]}}},
                        {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}},
                    ]
                }
            },
            True,
        ),
    ],
)
def test_lambda_s_documented_filter_rules(pattern, passes):
    assert matches(pattern, GUIDE_RECORD) is passes


def test_the_filters_of_a_mapping_are_ored_and_no_filters_pass_everything():
    wrong = {"dynamodb": {"Keys": {"CustomerName": {"S": ["Another Company"]}}}}
    right = {"dynamodb": {"NewImage": {"PaymentTerms": {"S": ["60 days"]}}}}
    assert passes_filters(criteria(wrong, right), GUIDE_RECORD)
    assert not passes_filters(criteria(wrong), GUIDE_RECORD)
    assert passes_filters(None, GUIDE_RECORD) and passes_filters({"Filters": []}, GUIDE_RECORD)


# -- the order stream's filters (template.yaml) ------------------------------------------------------

TEMPLATE = yaml_parse((ROOT / "template.yaml").read_text())
ORDER_STREAM = TEMPLATE["Resources"]["OrderStreamFunction"]["Properties"]["Events"]["OrderChanges"]["Properties"]
ORDER_STREAM_FILTERS = ORDER_STREAM["FilterCriteria"]


def order_item(**attrs: Any) -> dict[str, Any]:
    item = {"pk": {"S": "ORDER#o-1"}, "sk": {"S": "META"}, "state": {"S": "in_progress"}}
    for name, value in attrs.items():
        item[name] = {"SS": sorted(value)} if isinstance(value, set) else {"S": value}
    return item


def change(old: dict[str, Any] | None, new: dict[str, Any] | None, sk: str = "META") -> dict[str, Any]:
    """A stream record as the function receives it (NEW_AND_OLD_IMAGES)."""
    body: dict[str, Any] = {"Keys": {"pk": {"S": "ORDER#o-1"}, "sk": {"S": sk}}, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if old is not None:
        body["OldImage"] = old
    if new is not None:
        body["NewImage"] = new
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return {"eventID": "e", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body}


WAITING = {"waiting_for": {"courier_picked_up"}}
CASES = {
    # what starts a workflow or brings kept events: passes
    "a new order": (None, order_item(), True),
    "a new Blink order (its Blink id)": (None, order_item(blink_order_id="123"), True),
    "a partner order's Blink id, first set": (order_item(), order_item(blink_order_id="123"), True),
    "the courier job, first set": (order_item(), order_item(courier_job="t-1"), True),
    "the rent, first set": (order_item(), order_item(rent_id="r-1"), True),
    # a track moving while a wait is open: passes
    "a courier event while waiting": (
        order_item(courier_job="t-1", courier_status="TASK_CREATED", **WAITING),
        order_item(courier_job="t-1", courier_status="TASK_STARTED", **WAITING),
        True,
    ),
    # what cannot settle a wait: dropped
    "the wait registered (the mark appears)": (
        order_item(courier_job="t-1"),
        order_item(courier_job="t-1", **WAITING),
        False,
    ),
    "the wait closed (the mark goes)": (order_item(**WAITING), order_item(), False),
    "Blink told ready with no wait open": (
        order_item(blink_order_id="123", status="accepted"),
        order_item(blink_order_id="123", status="ready"),
        False,
    ),
    "the lifecycle moving": (order_item(state_step="starting"), order_item(state_step="dropoff"), False),
    "a timeline event item": (None, {"pk": {"S": "ORDER#o-1"}, "sk": {"S": "EVENT#x"}}, False),
    "a wait item": (None, {"pk": {"S": "ORDER#o-1"}, "sk": {"S": "WAIT#dropoff"}}, False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_order_stream_gets_only_the_changes_that_can_start_bring_or_settle(case):
    old, new, passes = CASES[case]
    sk = new["sk"]["S"] if new else "META"
    assert passes_filters(ORDER_STREAM_FILTERS, change(old, new, sk)) is passes


def test_the_order_stream_s_filters_stay_within_lambda_s_default_quota():
    # Lambda takes five filters per event source mapping unless the quota is raised
    assert 1 <= len(ORDER_STREAM_FILTERS["Filters"]) <= 5
