"""Draw docs/images/report_delivery.png: the report page's delivery-gap section after five
nights of the sample export, in headless Chromium.

The nights: each county delivers a share of its eligible cases per night (gone from the
export), JACKSON never delivers, and ST. LOUIS catches up on the third night (the shrink
guard holds it; the operator accepts). The section is rendered alone, with the page's own
style sheet, so the picture shows it whole.

    .venv/bin/python tools/picture_delivery.py [--out docs/images/report_delivery.png]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from expunge.ops.run import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "mo_charges_sample.csv"
FIRST = date(2026, 11, 2)
SHARE_PER_NIGHT = 0.08  # of a county's eligible cases, delivered each night


def nights(folder: Path) -> Path:
    """Run the five nights in ``folder``; returns the last run folder."""
    export = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    out = folder / "out"
    run = None
    for i in range(5):
        path = folder / f"night-{i + 1}.csv"
        export.to_csv(path, index=False)
        run = run_pipeline([path], out, FIRST + timedelta(days=7 * i), run_id=f"night-{i + 1}", documents=False,
                           accept_shrink=True)
        decided = pd.read_parquet(run / "charges", columns=["case_number", "county", "determination"])
        eligible = decided[decided["determination"].str.startswith("ELIGIBLE")]
        gone: list[str] = []
        for county, rows in eligible.groupby("county"):
            cases = sorted(rows["case_number"].unique())
            if county == "JACKSON":
                continue
            share = 1.0 if county == "ST. LOUIS" and i == 1 else SHARE_PER_NIGHT
            gone += cases[:round(len(cases) * share)]
        export = export[~export["case_number"].isin(gone)]
    assert run is not None
    return run


def section_page(report: Path, target: Path) -> None:
    """The report page with only its delivery section in the body."""
    html = report.read_text(encoding="utf-8")
    start = html.index('<h2 id="delivery"')
    end = html.index("<h2", start + 10)
    target.write_text(html[:html.index("<body>") + 6] + html[start:end] + "</body></html>", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "report_delivery.png")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is needed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run = nights(folder)
        page = folder / "delivery.html"
        section_page(run / "summary" / "report.html", page)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={folder / 'profile'}", "--window-size=1000,2300",
                        f"--screenshot={args.out}", page.as_uri()], check=True, capture_output=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
