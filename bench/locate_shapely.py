"""The same point -> grid question as `onegrid bench locate`, asked through shapely's STRtree.

Usage: onegrid --data D bench locate --export-dir OUT   (writes OUT/points.csv, OUT/grids.geojson)
       python3 bench/locate_shapely.py OUT
Prints lookups per second on one core, for the side-by-side ratio in docs/benchmarks.md.
"""

import csv
import json
import sys
import time

import numpy as np
import shapely
from shapely.geometry import shape


def main(directory):
    with open(f"{directory}/grids.geojson", encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    codes = [f["properties"]["code"] for f in features]
    polygons = [shape(f["geometry"]) for f in features]
    with open(f"{directory}/points.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    lon = np.array([float(r[0]) for r in rows])
    lat = np.array([float(r[1]) for r in rows])
    points = shapely.points(lon, lat)
    tree = shapely.STRtree(polygons)
    # Vectorised bulk query (shapely's fastest path): every (point, polygon) pair that
    # intersects, so boundary points count as located, as in onegrid.
    started = time.perf_counter()
    point_index, polygon_index = tree.query(points, predicate="intersects")
    seconds = time.perf_counter() - started
    located = len(np.unique(point_index))
    # One point at a time, as a server answering one request would ask (a sample of 100,000).
    sample = points[:100_000]
    one_started = time.perf_counter()
    for point in sample:
        tree.query(point, predicate="intersects")
    one_seconds = time.perf_counter() - one_started
    print(json.dumps({
        "benchmark": "locate (shapely STRtree, bulk query)",
        "shapely": shapely.__version__,
        "grids": len(codes),
        "points": len(rows),
        "points_in_a_grid": int(located),
        "seconds": seconds,
        "lookups_per_second_one_core": len(rows) / seconds,
        "one_at_a_time_lookups_per_second": len(sample) / one_seconds,
    }, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
