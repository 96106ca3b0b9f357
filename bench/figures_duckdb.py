#!/usr/bin/env python3
"""The figures questions of `onegrid bench figures`, asked of DuckDB.

Loads DIR/bench_cases.csv (one row per synthetic case, written by `onegrid bench figures`) into
an in-memory DuckDB table, then asks every question of DIR/questions.json as
`SELECT sum(...) FROM bench_cases WHERE <region> AND day BETWEEN ? AND ?`, checks each answer
against the counters the rollups gave, and prints p50/p95/max per kind of question as JSON.

    pip install duckdb
    python3 bench/figures_duckdb.py DIR [--threads N]
"""

import argparse
import json
import math
import os
import sys
import time

import duckdb


def percentile(sorted_ms, p):
    """Nearest-rank percentile, as in bench.rs."""
    if not sorted_ms:
        return float("nan")
    rank = math.ceil(p / 100 * len(sorted_ms))
    return sorted_ms[min(max(rank, 1), len(sorted_ms)) - 1]


def summary(ms):
    ms = sorted(ms)
    return {
        "asked": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": ms[-1] if ms else float("nan"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    with open(os.path.join(args.dir, "questions.json"), encoding="utf-8") as f:
        spec = json.load(f)
    columns = spec["columns"]
    questions = spec["questions"]

    con = duckdb.connect(":memory:")
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    csv = os.path.join(args.dir, "bench_cases.csv")
    text_columns = [
        "county_code",
        "township_code",
        "village_code",
        "grid_code",
        "day",
        "category",
        "channel",
    ]
    types = {c: "VARCHAR" for c in text_columns}
    types.update({c: "BIGINT" for c in columns})
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE bench_cases AS SELECT * FROM read_csv(?, header = true, columns = ?)",
        [csv, types],
    )
    load_seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM bench_cases").fetchone()[0]

    sums = ", ".join(f"sum({c})" for c in columns)
    by_class = {}
    for q in questions:
        by_class.setdefault(q["class"], []).append(q)

    results = {}
    checked = 0
    for cls, qs in by_class.items():
        # One untimed warm-up per kind, as in bench.rs.
        first = qs[0]
        con.execute(f"SELECT {sums} FROM bench_cases WHERE {first['where']}", first["params"]).fetchone()
        ms = []
        for q in qs:
            sql = f"SELECT {sums} FROM bench_cases WHERE {q['where']}"
            t0 = time.perf_counter()
            row = con.execute(sql, q["params"]).fetchone()
            ms.append((time.perf_counter() - t0) * 1000)
            got = [int(v) if v is not None else 0 for v in row]
            if got != q["expected"]:
                print(
                    f"MISMATCH {cls} {q['code']} {q['from']}..{q['to']}: duckdb {got}, rollups {q['expected']}",
                    file=sys.stderr,
                )
                sys.exit(1)
            checked += 1
        results[cls] = summary(ms)
        print(f"duckdb {cls} done", file=sys.stderr)

    print(
        json.dumps(
            {
                "benchmark": "figures-duckdb",
                "duckdb": duckdb.__version__,
                "threads": threads,
                "rows": rows,
                "load_seconds": load_seconds,
                "answers_checked_identical": checked,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
