"""`make bench` never rots: `python -m bench --smoke` (tiny counts, every benchmark) runs in CI and
its results file has every benchmark with its figures and its bare baseline. Structure and sanity
only — counts may be asserted, timings never (the machine is shared).

It starts a local stack of its own (B2–B4, B6), so it runs with the e2e tests, in group e2e-2 (see
tests/conftest.py), after `sam build` (B2 and B5 read the build output)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.common import BUILD, ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-2")]

SMOKE_TIMEOUT_SECONDS = 900  # a bound on a hang, not a timing assertion


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not BUILD.is_dir():
        pytest.fail("no sam build output: `make test` builds before pytest (`make build`)")
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_SECONDS,
    )
    assert out.exists(), f"no results file; exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    found: dict[str, Any] = json.loads(out.read_text())
    assert done.returncode == 0 and found["failures"] == [], f"{found['failures']}\n{done.stderr[-4000:]}"
    return found


def test_the_smoke_run_records_the_machine_and_every_benchmark(results):
    assert results["mode"] == "smoke"
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["python"].startswith("3.") and machine["date_utc"].endswith("+00:00")
    assert {"B1", "B2", "B3", "B4", "B5", "B6"} <= results.keys()
    assert all("error" not in results[b] for b in ("B1", "B2", "B3", "B4", "B5", "B6"))


def test_b1_has_every_webhook_type_beside_the_bare_handler(results):
    types = results["B1"]["types"]
    assert set(types) == {"blink_new", "blink_duplicate", "blink_status", "task_status", "partner_order", "bloq"}
    requests = results["B1"]["requests_per_type"]
    for kind, row in types.items():
        for side in ("handler", "bare"):
            figures = row[side]
            assert figures["wall_ms"]["n"] == requests and figures["cpu_ms"]["n"] == requests, kind
            assert all(
                _number(figures[m][p]) and figures[m][p] >= 0 for m in ("wall_ms", "cpu_ms") for p in ("p50", "p99")
            )
            assert figures["wall_ms"]["p99"] >= figures["wall_ms"]["p50"]
        assert row["bare"]["aws_calls"] == 1  # parse the body, one PutItem
        assert row["handler"]["aws_calls"] >= 1
        assert _number(row["ratio_cpu_p50"]) and _number(row["ratio_wall_p50"])
        assert sum(row["handler"]["statuses"].values()) == requests
        assert set(row["handler"]["statuses"]) <= {"200", "202"}, (kind, row["handler"]["statuses"])


def test_b2_has_each_function_kind_beside_the_bare_handler(results):
    cold = results["B2"]
    assert _number(cold["bare"]["wall_ms_median"]) and cold["bare"]["wall_ms_median"] > 0
    kinds = {kind.split(":")[0] for kind in cold["kinds"]}
    assert kinds == {"webhook", "action", "ops API", "stream", "sync"}
    for row in cold["kinds"].values():
        assert _number(row["wall_ms_median"]) and _number(row["import_ms_median"]) and _number(row["ratio"])
        assert row["wall_ms_median"] >= row["import_ms_median"]
        assert row["botocore_from"] in {"layer", "runtime"}


def test_b3_burst_answers_every_request_and_checks_exactly_once(results):
    burst = results["B3"]
    assert burst["requests"] == 2 * burst["distinct_orders"]
    for side in ("webhook", "bare"):
        assert sum(burst[side]["statuses"].values()) == burst["requests"]
        assert _number(burst[side]["latency_ms"]["p50"]) and _number(burst[side]["latency_ms"]["p99"])
        # the first wave (workers scaling out) ran before its burst and is reported apart
        wave = burst["first_wave"][side]
        assert sum(wave["statuses"].values()) == wave["requests"] == burst["concurrency"] and wave["all_2xx"]
        assert 0 <= wave["scaled_out_s"] < 120  # the burst waited for the workers it asked for, not for the limit
    once = burst["exactly_once"]
    assert once["error"] is None
    # every order answered 2xx is in the ops API exactly once, and no order twice (a 5xx answer under
    # load may leave an order out: Blink does not retry, the order catch-up sync recovers it)
    assert once["accepted_orders_listed_once"] == once["orders_accepted"] > 0
    assert once["orders_listed_more_than_once"] == 0
    assert (
        once["orders_listed_once"] + once["orders_missing"] + once["orders_listed_more_than_once"]
        == (burst["distinct_orders"])
    )
    assert burst["memory_after"]["tree_mb"] > 0 and burst["memory_after"]["processes"] >= 2


def test_b4_costs_every_path_from_counted_usage_at_dated_prices(results):
    cost = results["B4"]
    assert cost["prices"]["date"] and cost["prices"]["sfn_transition"] > 0
    assert len(cost["paths"]) == 3
    for name, path in cost["paths"].items():
        assert path["transitions"] > 0 and path["invocations"] > 0, name
        assert sum(f["invocations"] for f in path["invocations_per_function"].values()) == path["invocations"]
        assert path["dynamodb"]["wru_estimated"] > 0, name
        assert _number(path["usd_per_1000_total"]) and path["usd_per_1000_total"] > cost["bare_usd_per_1000"]


def test_b5_sizes_the_layer_and_every_function_against_the_budget(results):
    sizes = results["B5"]
    assert sizes["layer"]["unzipped_bytes"] > sizes["layer"]["zipped_bytes"] > 0
    assert sizes["layer"]["budget_unzipped_bytes"] == 15_000_000
    assert isinstance(sizes["layer"]["within_budget"], bool)
    built = {p.name for p in BUILD.iterdir() if p.is_dir() and p.name != "SharedLayer"}
    assert set(sizes["functions"]) == built
    assert sizes["bare"]["files"] >= 1


def test_b6_reads_peak_memory_of_the_functions_that_ran(results):
    peaks = results["B6"]
    assert peaks["bare"] is not None and peaks["bare"]["peak_mb"] > 0
    assert "BlinkOrderWebhookFunction" in peaks["functions"]
    for row in peaks["functions"].values():
        assert row["peak_mb"] > 0 and row["memory_size_mb"] >= 128 and row["workers"] >= 1


def test_bench_folds_in_the_old_import_time_script():
    # its cold-start figure is B2 now (fresh process, import + first answer)
    assert not (Path(ROOT) / "tests" / "benchmarks" / "import_time.py").exists()
