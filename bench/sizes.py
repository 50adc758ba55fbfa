"""B5 — artifact sizes from the ``sam build`` output: each function's directory and the layer,
unzipped (the bytes Lambda unpacks) and zipped (deflate, as ``sam deploy`` uploads), vs the budget
(the layer ≤ 15 MB unzipped; Lambda's own limit: function + layers ≤ 250 MB unzipped). The bare
baseline is the bare function (``bench/bare``)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

from bench.common import BARE_DIR, BUILD, table

MB = 1_000_000
LAYER_BUDGET_BYTES = 15 * MB
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024


def sizes(folder: Path) -> dict[str, int]:
    unzipped = files = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                path = Path(root) / name
                if path.is_symlink() or not path.is_file():
                    continue
                unzipped += path.stat().st_size
                files += 1
                archive.write(path, path.relative_to(folder))
    return {"unzipped_bytes": unzipped, "zipped_bytes": buffer.tell(), "files": files}


def run() -> dict[str, Any]:
    if not BUILD.is_dir():
        raise RuntimeError("no sam build output: run `make build` first")
    layer = sizes(BUILD / "SharedLayer")
    functions = {p.name: sizes(p) for p in sorted(BUILD.iterdir()) if p.is_dir() and p.name != "SharedLayer"}
    largest = max((f["unzipped_bytes"] for f in functions.values()), default=0)
    return {
        "what": "artifact sizes from .aws-sam/build, bytes",
        "layer": {
            **layer,
            "budget_unzipped_bytes": LAYER_BUDGET_BYTES,
            "within_budget": layer["unzipped_bytes"] <= LAYER_BUDGET_BYTES,
            "largest_function_plus_layer_within_lambda_limit": largest + layer["unzipped_bytes"]
            <= LAMBDA_UNZIPPED_LIMIT_BYTES,
        },
        "functions": functions,
        "bare": sizes(BARE_DIR),
    }


def render(result: dict[str, Any]) -> str:
    layer = result["layer"]
    functions = result["functions"]
    function_rows = sorted(functions.items(), key=lambda kv: -kv[1]["unzipped_bytes"])
    rows = [
        [
            "SharedLayer",
            layer["unzipped_bytes"] / MB,
            layer["zipped_bytes"] / MB,
            layer["files"],
            f"{layer['budget_unzipped_bytes'] / MB:.0f} MB: " + ("ok" if layer["within_budget"] else "OVER"),
        ]
    ]
    for name, row in function_rows[:3]:
        rows.append([name, row["unzipped_bytes"] / MB, row["zipped_bytes"] / MB, row["files"], ""])
    total = sum(f["unzipped_bytes"] for f in functions.values())
    rows.append(
        [
            f"all {len(functions)} functions",
            total / MB,
            sum(f["zipped_bytes"] for f in functions.values()) / MB,
            sum(f["files"] for f in functions.values()),
            "",
        ]
    )
    bare = result["bare"]
    rows.append(["bare function", bare["unzipped_bytes"] / MB, bare["zipped_bytes"] / MB, bare["files"], ""])
    return table(
        "B5 artifact sizes (MB = 10^6 bytes; the 3 largest functions shown)",
        ["artifact", "unzipped", "zipped", "files", "budget"],
        rows,
    )
