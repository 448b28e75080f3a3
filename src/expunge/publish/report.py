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


_PATH_NAMES = {"auto": "Automatic (§ 2.10(8))", "petition": "By petition (§ 2.10(7))"}
_PATH_COLOURS = {"auto": "#1f6feb", "petition": "#bf8700"}
_GAP_COLUMNS = (("waiting_charges", "Charges waiting"), ("waiting_people", "People"),
                ("median_days_waiting", "Median days"), ("waiting_2_years_or_more", "2 years or more"),
                ("delivered_since_last_night", "Delivered since last night"),
                ("delivered_last_30_days", "Delivered, 30 days"), ("delivered_total", "Delivered in all"))
_BAND_NAMES = (("waiting_under_90_days", "under 90 days"), ("waiting_90_to_364_days", "90 days to a year"),
               ("waiting_1_to_2_years", "1 to 2 years"), ("waiting_2_years_or_more", "2 years or more"))


def waiting_order_key(rows: pd.DataFrame) -> pd.Series:
    """Charges waiting, for ordering the gap's rows most first: a suppressed count (at least 1,
    under the threshold) between the published ones and the zeros."""
    return rows["waiting_charges"].astype("Float64").fillna(0.5)


def _gap_cell(row: Any, column: str) -> str:
    """A figure of the gap tables: a median of no charge waiting is a dash, not a blank."""
    if column == "median_days_waiting" and _fmt(row.waiting_charges) == "0":
        return "–"
    return _fmt(getattr(row, column))


def _trend_chart(trend: pd.DataFrame, width: int = 720, height: int = 220) -> str:
    """Charges waiting per path over the nights of ``trend``: one line each."""
    nights = sorted(trend["as_of"].astype(str).unique())
    if len(nights) < 2:
        return '<p class="note">The trend over nights starts with the second night of this output folder.</p>'
    left, right, top, bottom = 60, 20, 10, 30
    peak = float(trend["waiting_charges"].max()) or 1.0
    x = {n: left + (width - left - right) * i / (len(nights) - 1) for i, n in enumerate(nights)}
    parts = [f'<svg role="img" aria-label="Charges waiting over nights" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" data-test="delivery-trend">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#d0d7de"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{int(peak):,}</text>'
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>',
             f'<text x="{left}" y="{height - 8}">{escape(nights[0])}</text>'
             f'<text x="{width - right}" y="{height - 8}" text-anchor="end">{escape(nights[-1])}</text>']
    for path, rows in trend.groupby("path", sort=True):
        rows = rows.sort_values("as_of")
        span = height - top - bottom
        points = " ".join(f"{x[str(r.as_of)]:.1f},{height - bottom - span * r.waiting_charges / peak:.1f}"
                          for r in rows.itertuples(index=False))
        colour = _PATH_COLOURS.get(str(path), "#57606a")
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        end = points.split()[-1].split(",")
        parts.append(f'<text x="{float(end[0]) - 4:.1f}" y="{float(end[1]) - 6:.1f}" text-anchor="end" '
                     f'data-test="trend-{escape(str(path))}-last">{int(rows.iloc[-1]["waiting_charges"]):,}</text>')
    parts.append("</svg>")
    keys = " ".join(f'<span class="key" style="background:{_PATH_COLOURS[p]}"></span>{escape(_PATH_NAMES[p])}'
                    for p in sorted(set(trend["path"]) & set(_PATH_COLOURS)))
    return "".join(parts) + f'<p class="note">{keys}</p>'


def delivery_section(delivery: tuple[pd.DataFrame, pd.DataFrame] | None, below: int) -> str:
    """"The delivery gap": statewide figures per path, the trend over nights, how long charges
    have waited, and the circuits and counties with the most charges waiting (``gap.report``)."""
    if delivery is None:
        return ""
    table, trend = delivery
    state = table[table["level"] == "state"].set_index("path")
    cards = []
    for path in ("auto", "petition"):
        if path not in state.index:
            continue
        r = state.loc[path]
        since = "its deadline" if path == "auto" else "first seen eligible (petitions have no deadline)"
        cards.append(
            f'<div class="card"><div>{escape(_PATH_NAMES[path])}: charges still on the record</div>'
            f'<div class="n" data-test="delivery-{path}-waiting">{_fmt(r["waiting_charges"])}</div>'
            f'<div class="b">waiting since {since}, <span data-test="delivery-{path}-people">'
            f'{_fmt(r["waiting_people"])}</span> people; median <span data-test="delivery-{path}-median">'
            f'{_fmt(r["median_days_waiting"])}</span> {"day" if _fmt(r["median_days_waiting"]) == "1" else "days"}. '
            f'Delivered since last night: '
            f'<span data-test="delivery-{path}-last-night">{_fmt(r["delivered_since_last_night"])}</span>; '
            f'in 30 days: <span data-test="delivery-{path}-30-days">{_fmt(r["delivered_last_30_days"])}</span>; '
            f'in all: <span data-test="delivery-{path}-total">{_fmt(r["delivered_total"])}</span>.</div></div>')
    bands = "".join(
        f"<tr><td>{escape(_PATH_NAMES[p])}</td>"
        + "".join(f'<td data-test="delivery-{p}-{c}">{_fmt(state.loc[p, c])}</td>' for c, _ in _BAND_NAMES)
        + "</tr>" for p in ("auto", "petition") if p in state.index)

    def rows(level: str, name: str) -> str:
        part = table[table["level"] == level]
        part = part.assign(_order=waiting_order_key(part)).sort_values(["_order", name], ascending=[False, True],
                                                                        kind="stable")
        out = []
        for r in part.itertuples(index=False):
            place = escape(str(getattr(r, name)))
            cells = "".join(f'<td data-test="delivery-{level}-{place}-{r.path}-{c}">{_gap_cell(r, c)}</td>'
                            for c, _ in _GAP_COLUMNS)
            first = f"<td>{place}</td>" + (f"<td>{escape(str(r.circuit))}</td>" if level == "county" else "")
            out.append(f"<tr>{first}<td>{escape(str(r.path))}</td>{cells}</tr>")
        return "".join(out)

    heads = "".join(f"<th>{escape(h)}</th>" for _, h in _GAP_COLUMNS)
    return f"""<h2 id="delivery">The delivery gap: eligible charges still on the record</h2>
<p class="note">Of the charges this output folder has seen eligible, those still on the record tonight. Automatic
expungement (§ 2.10(8)) had deadlines (misdemeanors 2023-06-08, felonies 2023-12-08): an automatic charge waits
from its deadline. Petitions (§ 2.10(7)) have no deadline: a petition charge waits from the night this output
folder first saw it eligible. A charge counts as delivered when the record marks it expunged or when it is gone
from a later export (an expunged record usually leaves the export: an assumption, not a court's word).</p>
<div class="cards">{"".join(cards)}</div>
<h3>Charges waiting, night by night</h3>
{_trend_chart(trend)}
<h3>How long charges have waited</h3>
<table><thead><tr><th>Path</th>{"".join(f"<th>{escape(h)}</th>" for _, h in _BAND_NAMES)}</tr></thead>
<tbody>{bands}</tbody></table>
<h3>By circuit</h3>
<table data-test="delivery-circuits"><thead><tr><th>Circuit</th><th>Path</th>{heads}</tr></thead>
<tbody>{rows("circuit", "circuit")}</tbody></table>
<h3>By county</h3>
<table data-test="delivery-counties"><thead><tr><th>County</th><th>Circuit</th><th>Path</th>{heads}</tr></thead>
<tbody>{rows("county", "county")}</tbody></table>
<p class="note">Counts under {below}, and the counts that would let anyone work them out, are suppressed as in
the other tables (<code>summary/delivery.csv</code> has every row; <code>delivery_trend.csv</code> every night).
</p>"""


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
                  readings: dict[str, Any] | None = None,
                  delivery: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> str:
    """The report page as HTML text (``readings``: ``whatif.policy_readings`` of the run, for
    the section on disputed readings; ``delivery``: ``gap.report`` and ``gap.trend`` of the run,
    for the section on the delivery gap; each left out when None)."""
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
{delivery_section(delivery, below)}
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
