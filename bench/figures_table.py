#!/usr/bin/env python3
"""A Markdown table of `onegrid bench figures` beside bench/figures_duckdb.py, with ratios.

    python3 bench/figures_table.py figures.json duckdb.json

Ratios are the other engine's time over the rollups' time (counters of one area, through
`App::counters`): 40× means the rollups answer 40 times faster.
"""

import json
import sys


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        rust = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        duck = json.load(f)
    print(
        "| question | rollups p50 / p95 / max ms | region panel p50 / p95 ms "
        "| SQLite GROUP BY p50 / p95 ms (asked) | DuckDB p50 / p95 ms "
        "| SQLite ÷ rollups p50 / p95 | DuckDB ÷ rollups p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|")
    for cls, r in rust["results"].items():
        c = r["rollups_counters"]
        p = r["rollups_region_figures"]
        s = r.get("sqlite_group_by", {})
        d = duck["results"].get(cls, {})

        def ratio(other, key):
            if not other or not c[key]:
                return "–"
            return f"{other[key] / c[key]:,.0f}×"

        print(
            f"| {cls} | {c['p50_ms']:.3f} / {c['p95_ms']:.3f} / {c['max_ms']:.2f} "
            f"| {p['p50_ms']:.2f} / {p['p95_ms']:.2f} "
            f"| {s.get('p50_ms', float('nan')):,.1f} / {s.get('p95_ms', float('nan')):,.1f} ({s.get('asked', 0)}) "
            f"| {d.get('p50_ms', float('nan')):.1f} / {d.get('p95_ms', float('nan')):.1f} "
            f"| {ratio(s, 'p50_ms')} / {ratio(s, 'p95_ms')} "
            f"| {ratio(d, 'p50_ms')} / {ratio(d, 'p95_ms')} |"
        )


if __name__ == "__main__":
    main()
