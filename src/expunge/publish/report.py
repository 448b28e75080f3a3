"""The sizing report for advocacy groups: one self-contained HTML page.

Input: the de-identified summaries (small cells already suppressed) and the
headline. Output: ``summary/report.html`` — headline counts of charges, cases and people
with lower and upper bounds, a ranked chart of counties, the trend by offense year, the
determinations, the readings the sources dispute (from ``whatif.report_readings``: for
each other value of each policy, the charges and people that would move), and notes on
method. Inline CSS and SVG only: no script, no font, no
image or style sheet from the network, so it opens anywhere, offline.
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from importlib import resources
from typing import Any

import pandas as pd

CSS = """
.maps{display:flex;gap:1rem;flex-wrap:wrap}.half{flex:1 1 20rem;margin:0}.half figcaption{font-weight:600}
.map{width:100%;display:block;margin:.3rem 0}.key{display:inline-block;width:1.1rem;height:.8rem;
vertical-align:middle;margin:0 .2rem;border:1px solid #bbb}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:62rem;
color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
.sub{color:#57606a;margin-top:0}.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem;margin:1.5rem 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:1rem}.card .n{font-size:1.9rem;font-weight:650}
.card .b{color:#57606a;font-size:.9rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #eaeef2;text-align:right}
th:first-child,td:first-child{text-align:left}
.note{color:#57606a;font-size:.88rem}svg text{font:12px system-ui,sans-serif;fill:#1b1f24}
.lower{fill:#1f6feb}.upper{fill:#9ec5fe}
"""


def _fmt(n: Any) -> str:
    return "suppressed" if n is None or pd.isna(n) else f"{int(n):,}"


def _card(title: str, lower: int, upper: int, unit: str) -> str:
    return (f'<div class="card"><div>{escape(title)}</div><div class="n" data-test="{unit}-lower">{lower:,}</div>'
            f'<div class="b">up to <span data-test="{unit}-upper">{upper:,}</span> if every charge in review '
            "turned out eligible</div></div>")


def _bars(rows: pd.DataFrame, label: str, lower: str, upper: str, width: int = 720) -> str:
    """Horizontal bars: dark = lower bound, light = upper bound. Suppressed rows are skipped."""
    rows = rows.dropna(subset=[lower, upper])
    if rows.empty:
        return '<p class="note">Every value here is suppressed (fewer than the threshold).</p>'
    top = float(rows[upper].max()) or 1.0
    bar_h, gap, left = 18, 6, 170
    height = len(rows) * (bar_h + gap) + 10
    parts = [f'<svg role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">']
    for i, r in enumerate(rows.itertuples(index=False)):
        y = i * (bar_h + gap) + 5
        lo, up = float(getattr(r, lower)), float(getattr(r, upper))
        w_up = (width - left - 70) * up / top
        w_lo = (width - left - 70) * lo / top
        name = escape(str(getattr(r, label)))
        parts.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{name}</text>'
                     f'<rect class="upper" x="{left}" y="{y}" width="{w_up:.1f}" height="{bar_h}"/>'
                     f'<rect class="lower" x="{left}" y="{y}" width="{w_lo:.1f}" height="{bar_h}"/>'
                     f'<text x="{left + w_up + 6:.1f}" y="{y + 13}">{int(lo):,}–{int(up):,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def rounded(n: int, below: int, signed: bool = False) -> str:
    """A count of the readings table: these counts overlap the audited cells (a policy can move
    exactly the charges of one reason) without being part of the audit, so they are published
    to the nearest 10 and, when not zero and under ``below``, as "fewer than ``below``"."""
    if 0 < abs(n) < below:
        return f"{'a change of ' if signed else ''}fewer than {below}"
    near = int(10 * round(n / 10))
    if not n:
        return "0"
    return f"about {near:+,}" if signed else f"about {near:,}"


def _reading_rows(rows: list[dict[str, Any]], below: int) -> str:
    body = []
    for r in rows:
        low = r["people_affected_lower"]
        test = escape(f'{r["policy"]}-{r["value"]}')
        run_value = escape(r["run_value"]) + ("" if r["run_value"] == r["default"] else
                                              f" (default {escape(r['default'])})")
        body.append(
            f"<tr><td>{escape(r['policy'])}</td><td>{run_value}</td><td>{escape(r['value'])}</td>"
            f'<td data-test="reading-{test}-charges">{rounded(r["charges_changed"], below)}</td>'
            f'<td data-test="reading-{test}-people">{rounded(r["people_changed"], below)}</td>'
            f"<td>{rounded(low['change'], below, signed=True)}</td></tr>")
    return ("<table><thead><tr><th>Policy</th><th>This run</th><th>Other value</th><th>Charges that move</th>"
            "<th>People that move</th><th>People with an eligible charge</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def readings_section(readings: dict[str, Any] | None, below: int) -> str:
    """"Readings the sources dispute": one row per value of a disputed policy other than the
    run's, with the charges and people it moves (``whatif.policy_readings``), then the same
    for the other policies of the rule file."""
    if not readings:
        return ""
    if "skipped_charges" in readings:
        return ('<h2 id="readings">Readings the sources dispute</h2>\n<p class="note">This run has '
                f"{readings['skipped_charges']:,} charges; above {readings['limit']:,} the table of what each policy "
                "value would move is left out of this page to keep publishing fast. "
                "<code>expunge whatif RUN --each-policy</code> prints it.</p>")
    disputed = [r for r in readings["readings"] if r["disputed"]]
    other = [r for r in readings["readings"] if not r["disputed"]]
    out = ['<h2 id="readings">Readings the sources dispute</h2>',
           '<p class="note">Where the sources disagree, the rule file has a policy with a default. Each row '
           "re-decides every charge of this run with one policy set to another value and counts what moves against "
           "this run's decisions (the table <code>expunge whatif RUN --each-policy</code> prints). People that move: "
           "distinct people with a charge whose determination changes; the last column is the change in people "
           f"with at least one eligible charge (lower bound). Counts are rounded to the nearest 10 and counts "
           f"under {below} are suppressed: a policy can move exactly the charges of one reason, and rounding keeps "
           "these figures from giving a suppressed cell away.</p>"]
    out.append(_reading_rows(disputed, below) if disputed else '<p class="note">The rule file marks no policy '
               "as disputed.</p>")
    if other:
        out += ["<h3>The other policies of the rule file</h3>", _reading_rows(other, below)]
    return "\n".join(out)


@lru_cache(maxsize=1)
def _outlines() -> dict[str, Any]:
    """Missouri's 115 county outlines as SVG paths (``templates/mo_counties.json``, built from the
    Census cartographic boundary file by ``tools/build_county_map.py``)."""
    return json.loads((resources.files("expunge.publish") / "templates" / "mo_counties.json").read_text("utf-8"))


#: County names title case gets wrong.
_DISPLAY = {"DEKALB": "DeKalb", "MCDONALD": "McDonald", "ST. LOUIS CITY": "St. Louis City"}
#: Shades of the map, lightest to darkest (a colour-blind-safe sequential blue).
_SHADES = ("#deebf7", "#9ecae1", "#4292c6", "#08519c")


def county_maps(counties: pd.DataFrame, below: int) -> str:
    """Two maps of Missouri's counties on one scale: people affected, lower and upper bound."""
    top = counties["people_upper"].max()
    top = float(top) if pd.notna(top) else 0.0
    maps = "".join(f'<figure class="half"><figcaption>{caption}</figcaption>'
                   f'{county_map(counties, value, below, top, bound)}</figure>'
                   for value, bound, caption in (("people_lower", "lower", "Lower bound"),
                                                 ("people_upper", "upper", "Upper bound")))
    edges = [0.0, *(top * q for q in (0.25, 0.5, 0.75)), top]
    legend = "".join(f'<span class="key" style="background:{s}"></span>{round(a):,}–{round(b):,} '
                     for s, a, b in zip(_SHADES, edges[:-1], edges[1:], strict=True))
    return (f'<div class="maps">{maps}</div><p class="note">People affected, one scale for both maps: {legend}· '
            f'hatched: suppressed (fewer than {below}, or a count that would give a smaller one away) · white: the '
            'export has no charge of the county. '
            f'Outlines: {escape(_outlines()["source"])}.</p>')


def county_map(counties: pd.DataFrame, value: str, below: int, top: float, bound: str) -> str:
    """An SVG map of Missouri's counties shaded by ``value`` on the scale 0..``top``, the count in
    each county's tooltip; a county whose cell is suppressed is hatched and says so, with no
    number. Drawn from shipped outlines: no network, no script."""
    shapes = _outlines()
    known = counties.set_index(counties["county"].astype(str))
    cuts = [top * q for q in (0.25, 0.5, 0.75)]
    paths = []
    for name, d in shapes["counties"].items():
        title = _DISPLAY.get(name, name.title())
        if name in known.index and pd.notna(known.at[name, value]):
            n = known.at[name, value]
            shade = _SHADES[sum(float(n) > c for c in cuts)]
            title += f": {_fmt(n)} people ({bound} bound)"
            fill = f'fill="{shade}"'
        elif name in known.index:
            fill, title = f'fill="url(#suppressed-{bound})"', f"{title}: suppressed"
        else:
            fill, title = 'fill="#ffffff"', f"{title}: no charge of this county in the export"
        paths.append(f'<path d="{d}" {fill} data-county="{escape(name)}"><title>{escape(title)}</title></path>')
    return (f'<svg class="map" viewBox="0 0 {shapes["width"]:g} {shapes["height"]:g}" role="img" '
            f'aria-label="Missouri counties shaded by people affected ({bound} bound)" data-test="map-{bound}">'
            f'<defs><pattern id="suppressed-{bound}" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f0f0f0"/><line x1="0" y1="0" x2="0" '
            'y2="6" stroke="#bdbdbd" stroke-width="2"/></pattern></defs>'
            f'<g stroke="#636363" stroke-width="0.4">{"".join(paths)}</g></svg>')


def render_report(headline: dict[str, Any], tables: dict[str, pd.DataFrame], run: dict[str, Any],
                  readings: dict[str, Any] | None = None) -> str:
    """The report page as HTML text (``readings``: ``whatif.policy_readings`` of the run, for
    the section on disputed readings; left out when None)."""
    people, cases, charges = headline["people"], headline["cases"], headline["charges"]
    counties = tables["bounds_by_county"].sort_values("people_upper", ascending=False, na_position="last")
    years = tables["bounds_by_year"].dropna(subset=["offense_year"]).sort_values("offense_year")
    years = years.assign(offense_year=years["offense_year"].astype(int))
    years = years[years["charges_upper"].fillna(1) > 0]
    det_rows = "".join(f'<tr><td>{escape(d)}</td><td data-test="determination-{escape(d)}">{n:,}</td></tr>'
                       for d, n in sorted(charges["by_determination"].items()))
    det_rows += f'<tr><td><strong>All charges</strong></td><td><strong>{charges["total"]:,}</strong></td></tr>'
    county_rows = "".join(
        f"<tr><td>{escape(str(r.county))}</td><td>{_fmt(r.people_lower)}</td><td>{_fmt(r.people_upper)}</td>"
        f"<td>{_fmt(r.cases_lower)}</td><td>{_fmt(r.charges_lower)}</td><td>{_fmt(r.charges_upper)}</td></tr>"
        for r in counties.itertuples(index=False))
    below = headline.get("small_cell_threshold", 10)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Missouri Amendment 3 expungement: who is affected</title><style>{CSS}</style></head>
<body>
<h1>Missouri Amendment 3 marijuana expungement</h1>
<p class="sub">Run {escape(run['run_id'])}, as of {escape(run['as_of'])}; rule set {escape(run['rules'])}.
Counts of people, cases and charges are different things and are labelled as such.</p>
<div class="cards">
{_card("People with at least one eligible charge", people["affected_lower"], people["affected_upper"], "people")}
{_card("Cases with at least one eligible charge", cases["with_eligible_charge_lower"],
       cases["with_eligible_charge_upper"], "cases")}
{_card("Eligible charges", charges["eligible_lower"], charges["eligible_upper"], "charges")}
</div>
<p>Of <strong data-test="charges-total">{charges["total"]:,}</strong> charges read,
<strong data-test="overdue">{charges["overdue"]:,}</strong> are eligible, past their constitutional deadline
and not marked expunged.</p>
<h2>People affected, by county</h2>
<p class="note">Lower bound: charges in review counted as not eligible; upper bound: counted as eligible.</p>
{county_maps(counties, below)}
<p class="note">Bars: dark is the lower bound, light the upper bound. A county whose counts are suppressed is
left out of the chart and shows "suppressed" in the table.</p>
{_bars(counties, "county", "people_lower", "people_upper")}
<table><thead><tr><th>County</th><th>People (lower)</th><th>People (upper)</th><th>Cases (lower)</th>
<th>Charges (lower)</th><th>Charges (upper)</th></tr></thead><tbody>{county_rows}</tbody></table>
<h2>Eligible charges by year of offense</h2>
<p class="note">A year whose lower or upper bound is suppressed is left out of the chart
(<code>bounds_by_year.csv</code> lists every year).</p>
{_bars(years, "offense_year", "charges_lower", "charges_upper")}
<h2>Charges by determination</h2>
<table><thead><tr><th>Determination</th><th>Charges</th></tr></thead><tbody>{det_rows}</tbody></table>
{readings_section(readings, below)}
<h2>Method</h2>
<ul class="note">
<li>Every charge is decided under the versioned rule table of the run (Mo. Const. art. XIV, § 2.10 as read in
the project's rule table, docs/eligibility.md of expunge); each decision carries a rule id, reason code and
citation in the run's data.</li>
<li>Lower bounds count charges that need a clerk's review as not eligible; upper bounds count them as eligible.
The truth lies between.</li>
<li>People are linked by the export's person id, else by name and date of birth; records without either are
counted within their case only, so people counts can be slightly high.</li>
<li>Cells with fewer than {below} charges, cases or people are suppressed, and so are the other cells that would
let anyone work them out by subtraction (from totals, bounds, another table, or the previous night's figures)
or pin them with whole numbers (a blank holds at least one charge); the counts of cases and people of a cell
follow its charges. Totals are never suppressed and always match the
headline. No names, dates of birth, addresses or case numbers are used on this page.</li>
<li>This is not legal advice. Parts of the rule table rest on secondary sources and await counsel's review.</li>
</ul>
</body></html>
"""
