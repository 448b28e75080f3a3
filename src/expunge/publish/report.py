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

from html import escape
from typing import Any

import pandas as pd

CSS = """
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


def _count(n: int, below: int, signed: bool = False) -> str:
    """A count (or, ``signed``, a change) of charges or people, suppressed like the other
    cells of the page when it is not zero and under ``below``."""
    if 0 < abs(n) < below:
        return f"{'a change of ' if signed else ''}fewer than {below}"
    return f"{n:+,}" if signed and n else f"{n:,}"


def _reading_rows(rows: list[dict[str, Any]], below: int) -> str:
    body = []
    for r in rows:
        low = r["people_affected_lower"]
        test = escape(f'{r["policy"]}-{r["value"]}')
        run_value = escape(r["run_value"]) + ("" if r["run_value"] == r["default"] else
                                              f" (default {escape(r['default'])})")
        body.append(
            f"<tr><td>{escape(r['policy'])}</td><td>{run_value}</td><td>{escape(r['value'])}</td>"
            f'<td data-test="reading-{test}-charges">{_count(r["charges_changed"], below)}</td>'
            f'<td data-test="reading-{test}-people">{_count(r["people_changed"], below)}</td>'
            f"<td>{_count(low['change'], below, signed=True)}</td></tr>")
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
           f"with at least one eligible charge (lower bound). Counts under {below} are suppressed.</p>"]
    out.append(_reading_rows(disputed, below) if disputed else '<p class="note">The rule file marks no policy '
               "as disputed.</p>")
    if other:
        out += ["<h3>The other policies of the rule file</h3>", _reading_rows(other, below)]
    return "\n".join(out)


def render_report(headline: dict[str, Any], tables: dict[str, pd.DataFrame], run: dict[str, Any],
                  readings: dict[str, Any] | None = None) -> str:
    """The report page as HTML text (``readings``: ``whatif.policy_readings`` of the run, for
    the section on disputed readings; left out when None)."""
    people, cases, charges = headline["people"], headline["cases"], headline["charges"]
    counties = tables["bounds_by_county"].sort_values("people_upper", ascending=False, na_position="last")
    years = tables["bounds_by_year"].dropna(subset=["offense_year"]).sort_values("offense_year")
    years = years.assign(offense_year=years["offense_year"].astype(int))
    years = years[years["charges_upper"].fillna(1) > 0]
    dets = tables["by_determination"].groupby("determination", as_index=False)[["charges"]].sum(min_count=1)
    det_rows = "".join(f"<tr><td>{escape(r.determination)}</td><td>{_fmt(r.charges)}</td></tr>"
                       for r in dets.itertuples(index=False))
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
<p class="note">Dark: lower bound (charges in review counted as not eligible). Light: upper bound (counted as
eligible). Counties whose counts fall under {below} are suppressed and left out of the chart.</p>
{_bars(counties, "county", "people_lower", "people_upper")}
<table><thead><tr><th>County</th><th>People (lower)</th><th>People (upper)</th><th>Cases (lower)</th>
<th>Charges (lower)</th><th>Charges (upper)</th></tr></thead><tbody>{county_rows}</tbody></table>
<h2>Eligible charges by year of offense</h2>
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
<li>Cells with fewer than {below} charges, cases or people are suppressed. No names, dates of birth, addresses or
case numbers are used on this page.</li>
<li>This is not legal advice. Parts of the rule table rest on secondary sources and await counsel's review.</li>
</ul>
</body></html>
"""
