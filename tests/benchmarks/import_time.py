"""Cold-start import time of each function's handler module, as Lambda would load it.

Run after `sam build` (make bench): each handler is imported in a fresh interpreter with only
the built layer (and, as the Lambda runtime provides it, boto3) on the path, under
`python -X importtime`; the figure is the median over several runs of the cumulative time of
importing `app`.

    .venv/bin/python -m tests.benchmarks.import_time [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"


def import_time_ms(function_dir: Path) -> float:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(
            [str(function_dir), str(BUILD / "SharedLayer" / "python"), sysconfig.get_paths()["purelib"]]
        ),
        "POWERTOOLS_SERVICE_NAME": "orderbridge",
        "POWERTOOLS_METRICS_NAMESPACE": "Orderbridge",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=function_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    for line in reversed(result.stderr.splitlines()):
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+app$", line)
        if match:
            return int(match.group(1)) / 1000
    raise RuntimeError(f"no import line for app in {function_dir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not BUILD.exists():
        sys.exit("run `make build` (sam build) first")
    functions = sorted(p for p in BUILD.iterdir() if (p / "app.py").exists())
    print(f"{'function':36} {'median ms':>10} {'min ms':>8}  ({args.runs} runs each)")
    for function_dir in functions:
        samples = [import_time_ms(function_dir) for _ in range(args.runs)]
        print(f"{function_dir.name:36} {statistics.median(samples):10.0f} {min(samples):8.0f}", flush=True)


if __name__ == "__main__":
    main()
