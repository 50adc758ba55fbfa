"""Every vendor call attempt writes one ``VendorErrors`` value with the vendor as its ``Vendor``
dimension (``vendors/http.py``): 1 when the vendor failed us, else 0, so the per-vendor alarms in
``template.yaml`` read the error rate as Sum / SampleCount."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from orderbridge.vendors.http import (
    VENDOR_ERRORS_METRIC,
    PermanentVendorError,
    RetryableVendorError,
    VendorAuthError,
    VendorHttpClient,
)

from tests.support.template import resources

from .support import ScriptedTransport, SleepRecorder, json_response

BASE_URL = "https://vendor.example.test/api"


def metric_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]


def value(line: dict[str, Any]) -> float:
    (counted,) = line[VENDOR_ERRORS_METRIC]  # one value per line
    return float(counted)


def client(transport: ScriptedTransport, max_attempts: int = 1) -> VendorHttpClient:
    return VendorHttpClient(
        vendor="bloqit", base_url=BASE_URL, transport=transport, sleep=SleepRecorder(), max_attempts=max_attempts
    )


def test_a_successful_call_counts_one_call_and_no_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a vendor that answers 200
    transport = ScriptedTransport(json_response({"ok": True}))

    # When a call is made
    client(transport).request("GET", "/lockers")

    # Then one metric line says: Bloq.It, one call, no error - in its own line with only its dimensions
    (line,) = metric_lines(capsys.readouterr().out)
    assert (line["Vendor"], line["service"], value(line)) == ("bloqit", "orderbridge", 0.0)
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Orderbridge"
    assert sorted(directive["Dimensions"][0]) == ["Vendor", "service"]
    assert [m["Name"] for m in directive["Metrics"]] == [VENDOR_ERRORS_METRIC]


def test_each_failed_attempt_of_a_retried_call_counts_as_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a vendor that answers 503 twice, then 200
    transport = ScriptedTransport(
        json_response({"message": "busy"}, 503), json_response({"message": "busy"}, 503), json_response({"ok": 1})
    )

    # When a call is made with retries
    client(transport, max_attempts=3).request("GET", "/lockers")

    # Then three attempts are counted: two errors, one success (error rate 2/3)
    values = [value(line) for line in metric_lines(capsys.readouterr().out)]
    assert values == [1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("answer", "raised", "counted"),
    [
        (httpx.ConnectError("refused"), RetryableVendorError, 1.0),
        (json_response({"message": "rate limited"}, 429), RetryableVendorError, 1.0),
        (json_response({"message": "bad key"}, 401), VendorAuthError, 1.0),
        (json_response({"message": "no such rent"}, 404), PermanentVendorError, 0.0),
        (json_response({"message": "invalid"}, 422), PermanentVendorError, 0.0),
    ],
    ids=["no-connection", "429", "401", "404", "422"],
)
def test_only_failures_of_the_vendor_count_against_it(
    capsys: pytest.CaptureFixture[str], answer: Any, raised: type[Exception], counted: float
) -> None:
    # Given a vendor whose answer is `answer`
    transport = ScriptedTransport(answer)

    # When a call is made (no retries)
    with pytest.raises(raised):
        client(transport).request("GET", "/rents/1")

    # Then it counts as the vendor's error only when the vendor failed us (no answer, 5xx, 429,
    # refused credentials); a "no" about our request (404, 422) is not the vendor's ill health
    (line,) = metric_lines(capsys.readouterr().out)
    assert value(line) == counted


def test_the_template_alarms_on_the_error_rate_of_each_vendor_the_clients_name() -> None:
    # Given the vendors our clients call (credentials.VendorName)
    from orderbridge.vendors.credentials import VendorName

    vendors = set(VendorName.__args__)

    # Then each has an alarm reading this metric with its Vendor dimension
    alarmed: set[str] = set()
    for alarm in resources("AWS::CloudWatch::Alarm").values():
        for query in alarm["Properties"].get("Metrics", []):
            stat = query.get("MetricStat")
            if stat and stat["Metric"]["MetricName"] == VENDOR_ERRORS_METRIC:
                dims = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
                assert dims["service"] == "orderbridge"
                alarmed.add(dims["Vendor"])
    assert alarmed == vendors
