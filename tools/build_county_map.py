"""Build the Missouri county outlines the report page draws (src/expunge/publish/templates/mo_counties.json).

Source: the U.S. Census Bureau's cartographic boundary file cb_2016_us_county_500k, as shipped
offline by the PyPI package plotly-geo 1.0.0 (read with pyshp). Missouri is state FIPS 29: its
114 counties and the City of St. Louis (county FIPS 510). Each outline is projected (longitude
scaled by the cosine of Missouri's middle latitude), simplified (Douglas-Peucker, tolerance
TOLERANCE in output units) and written as an SVG path, keyed by the county's name as
``ingest.places.county_name`` spells it. Only needed when the outlines change:

    .venv/bin/pip install plotly-geo==1.0.0 pyshp   # only for this tool; not a dependency of expunge
    .venv/bin/python tools/build_county_map.py
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "expunge" / "publish" / "templates" / "mo_counties.json"
WIDTH = 600.0
TOLERANCE = 0.6
MIDDLE_LATITUDE = 38.3


def _simplify(points: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas-Peucker simplification of an open or closed line."""
    if len(points) < 3:
        return points
    (x1, y1), (x2, y2) = points[0], points[-1]
    dx, dy = x2 - x1, y2 - y1
    norm = math.hypot(dx, dy)
    far, index = -1.0, 0
    for i, (x, y) in enumerate(points[1:-1], 1):
        d = abs(dy * x - dx * y + x2 * y1 - y2 * x1) / norm if norm else math.hypot(x - x1, y - y1)
        if d > far:
            far, index = d, i
    if far <= tol:
        return [points[0], points[-1]]
    return _simplify(points[:index + 1], tol)[:-1] + _simplify(points[index:], tol)


def build() -> dict:
    import os

    import _plotly_geo
    import shapefile

    sys.path.insert(0, str(ROOT / "src"))
    import pandas as pd

    from expunge.ingest.places import county_name

    data = os.path.join(os.path.dirname(_plotly_geo.__file__), "package_data", "cb_2016_us_county_500k")
    reader = shapefile.Reader(data)
    rings: dict[str, list[list[tuple[float, float]]]] = {}
    for shape, rec in zip(reader.shapes(), reader.records(), strict=True):
        if rec["STATEFP"] != "29":
            continue
        name = "ST. LOUIS CITY" if rec["COUNTYFP"] == "510" else county_name(pd.Series([rec["NAME"]])).iloc[0]
        parts = [*shape.parts, len(shape.points)]
        rings[name] = [shape.points[a:b] for a, b in itertools.pairwise(parts)]
    lons = [x for rs in rings.values() for r in rs for x, _ in r]
    lats = [y for rs in rings.values() for r in rs for _, y in r]
    scale_x = math.cos(math.radians(MIDDLE_LATITUDE))
    x0, x1, y0, y1 = min(lons) * scale_x, max(lons) * scale_x, min(lats), max(lats)
    k = WIDTH / (x1 - x0)
    height = round((y1 - y0) * k, 1)
    paths = {}
    for name, rs in sorted(rings.items()):
        d = []
        for ring in rs:
            pts = [(round((lon * scale_x - x0) * k, 1), round((y1 - lat) * k, 1)) for lon, lat in ring]
            pts = _simplify(pts, TOLERANCE)
            if len(pts) >= 3:
                d.append("M" + "L".join(f"{x:g},{y:g}" for x, y in pts) + "Z")
        paths[name] = "".join(d)
    return {"source": "U.S. Census Bureau, cartographic boundary file cb_2016_us_county_500k (via PyPI plotly-geo "
                      "1.0.0), Missouri (state FIPS 29), simplified by tools/build_county_map.py",
            "width": WIDTH, "height": height, "counties": paths}


if __name__ == "__main__":
    doc = build()
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"{len(doc['counties'])} counties, {OUT.stat().st_size:,} bytes: {OUT}")
