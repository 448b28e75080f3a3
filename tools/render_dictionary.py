"""Render docs/data_dictionary.md from the schema files (a test keeps it current).

    python tools/render_dictionary.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATASETS = (("charges", "charges/ — every charge, for clerks and analysts (no names, dates of birth or addresses)"),
            ("analytics", "analytics/ — the de-identified dataset (salted keys, year of birth)"),
            ("cases", "cases.parquet — one row per case"),
            ("quarantine", "quarantine.parquet — rows that are not charges, with file, line, field and reason"),
            ("review_queue", "review_queue.csv — the charges a person must settle, one question each"),
            ("summaries", "summary/*.csv — counts for advocates, small cells suppressed"))


def render() -> str:
    out = ["# Data dictionary", "", "Generated from `schemas/*.v1.yaml` by `python tools/render_dictionary.py`;",
           "do not edit by hand. `charges/` and `analytics/` are Parquet, hive-partitioned by `county`;",
           "`cases` and `quarantine` are single Parquet files; the review queue and summaries are CSV.", ""]
    for name, title in DATASETS:
        doc = yaml.safe_load((ROOT / "schemas" / f"{name}.v1.yaml").read_text())
        out += [f"## {title}", "", "| column | type | meaning | allowed values |", "| --- | --- | --- | --- |"]
        for col, spec in doc["columns"].items():
            values = ", ".join(str(v) for v in spec.get("values", [])) if isinstance(spec.get("values"), list) else ""
            meaning = str(spec.get("description", "")).replace("|", "\\|")
            out.append(f"| `{col}` | {spec['type']} | {meaning} | {values} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    (ROOT / "docs" / "data_dictionary.md").write_text(render())
    print("wrote docs/data_dictionary.md")
