"""The advocates' report: self-contained, rendered in a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from tests.conftest import SAMPLE

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr",
                  "--v=0"]


@pytest.fixture(scope="module")
def run_dir(sample_run):
    return sample_run


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")
    return path


def test_report_loads_nothing_from_the_network(run_dir):
    html = (run_dir / "summary" / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html


def test_report_renders_in_headless_chromium_with_the_headline_numbers(run_dir, tmp_path):
    head = json.loads((run_dir / "summary" / "headline.json").read_text())
    out = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          (run_dir / "summary" / "report.html").as_uri()], capture_output=True, text=True, timeout=120)
    dom = out.stdout
    assert f'data-test="people-lower">{head["people"]["affected_lower"]:,}<' in dom
    assert f'data-test="people-upper">{head["people"]["affected_upper"]:,}<' in dom
    assert f'data-test="charges-total">{head["charges"]["total"]:,}<' in dom
    assert "<svg" in dom and "ST. LOUIS CITY" in dom
    assert ":CONSOLE(" not in out.stderr  # no console message of any level


def test_report_has_no_personal_data(run_dir):
    import pandas as pd

    sample = pd.read_csv(SAMPLE, dtype=str, on_bad_lines="skip")
    html = (run_dir / "summary" / "report.html").read_text()
    full = set((sample["first_name"] + " " + sample["last_name"]).dropna()) | set(sample["case_number"].dropna())
    assert not any(v in html for v in full)


def test_report_lists_every_disputed_reading_with_the_charges_and_people_it_moves_to_the_nearest_ten(run_dir):
    from expunge.law.rules import load_rules
    from expunge.publish.whatif import each_policy

    html = (run_dir / "summary" / "report.html").read_text()
    section = html.split('<h2 id="readings">Readings the sources dispute</h2>', 1)[1].split("<h2", 1)[0]
    head = json.loads((run_dir / "summary" / "headline.json").read_text())
    below = head["small_cell_threshold"]
    readings = each_policy(run_dir)["readings"]
    disputed = [name for name, spec in load_rules().policies.items() if spec.get("disputed")]
    assert disputed and {r["policy"] for r in readings if r["disputed"]} == set(disputed)
    for r in readings:
        for key, n in (("charges", r["charges_changed"]), ("people", r["people_changed"])):
            shown = f"fewer than {below}" if 0 < n < below else ("0" if n == 0 else f"about {round(n / 10) * 10:,}")
            assert f'data-test="reading-{r["policy"]}-{r["value"]}-{key}">{shown}<' in section, (r["policy"], key)
    # The sample moves charges under every disputed policy: each shows a number, not only zeros.
    for name in disputed:
        assert any(r["charges_changed"] >= below for r in readings if r["policy"] == name), name


def test_the_maps_draw_all_115_counties_lower_and_upper_bound(run_dir):
    from expunge.law import county_circuits

    html = (run_dir / "summary" / "report.html").read_text()
    for bound in ("lower", "upper"):
        svg = html.split(f'data-test="map-{bound}"', 1)[1].split("</svg>", 1)[0]
        assert set(re.findall(r'data-county="([^"]+)"', svg)) == set(county_circuits())


def test_a_suppressed_county_is_hatched_and_shows_no_number():
    import pandas as pd

    from expunge.publish.report import county_maps

    bounds = pd.DataFrame({"county": ["BOONE", "COLE"], "people_lower": [40, None], "people_upper": [55, None]})
    html = county_maps(bounds, below=10)
    cole = html.split('data-county="COLE"', 1)[1].split("</path>", 1)[0]
    boone = html.split('data-county="BOONE"', 1)[1].split("</path>", 1)[0]
    assert "suppressed" in cole and not re.search(r"\d+ people", cole)
    assert "40 people (lower bound)" in boone


def test_the_report_with_its_maps_renders_to_a_screenshot_in_headless_chromium(run_dir, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
                    "--window-size=1100,1000", f"--screenshot={shot}", (run_dir / "summary" / "report.html").as_uri()],
                   capture_output=True, text=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    dom = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom",
                          (run_dir / "summary" / "report.html").as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert 'data-test="map-lower"' in dom and 'data-test="map-upper"' in dom


def _shown(n: object) -> str:
    return "suppressed" if pd.isna(n) else f"{int(n):,}"


def test_the_delivery_section_renders_in_headless_chromium_showing_only_what_delivery_csv_publishes(
        two_sample_nights, tmp_path):
    from expunge.publish.report import _GAP_COLUMNS, _gap_cell

    run = two_sample_nights[1]
    page = (run / "summary" / "report.html").as_uri()
    shot = tmp_path / "report.png"
    subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
                    "--window-size=1100,6000", f"--screenshot={shot}", page], capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    dom = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom",
                          page], capture_output=True, text=True, timeout=120).stdout
    table = pd.read_csv(run / "summary" / "delivery.csv", dtype={"circuit": str, "county": str})
    shown = dict(re.findall(r'data-test="(delivery-(?:county|circuit)-[^"]+)">([^<]*)<', dom))
    rows = table[table["level"] != "state"]
    want = {f"delivery-{r.level}-{r.county if r.level == 'county' else r.circuit}-{r.path}-{c}": _gap_cell(r, c)
            for r in rows.itertuples(index=False) for c, _ in _GAP_COLUMNS}
    assert all(v == _shown(getattr(r, c)) or v == "–" for r in rows.itertuples(index=False)
               for c, _ in _GAP_COLUMNS for v in [_gap_cell(r, c)])
    assert shown == want
    assert "suppressed" in want.values() and any(v not in ("0", "suppressed") for k, v in want.items()
                                                 if k.endswith("delivered_since_last_night"))
    for r in table[table["level"] == "state"].itertuples(index=False):
        assert f'data-test="delivery-{r.path}-waiting">{_shown(r.waiting_charges)}<' in dom
        assert f'data-test="delivery-{r.path}-last-night">{_shown(r.delivered_since_last_night)}<' in dom
    assert 'data-test="delivery-trend"' in dom
