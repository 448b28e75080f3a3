"""Every charge code of a code table as a charge: how the law's reading lands on each one.

Counsel's question "what happens to every code MSHP publishes, with every drug modifier it
allows?" is answered by deciding one single-charge case per (code, modifier, wording)
built from the MSHP Charge Code CSV and its NCIC Modifiers CSV: with the code and its short
or long description, and with the description alone (no code, no statute), as a
hand-keyed export would carry it. ``docs/normalization.md`` reports the figures;
``tests/test_mshp_table.py`` holds the pipeline to them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from expunge.normalize.mshp import read_mshp_charge_codes

#: NCIC modifiers of category 35 (dangerous drugs) that name marijuana.
MARIJUANA_MODIFIERS = ("3560", "3561", "3562", "3563", "3564")


def allowed_drug_modifiers(modifiers_csv: str | Path) -> pd.DataFrame:
    """``charge_code`` -> each category-35 modifier it may carry (``3562``), one row each."""
    m = pd.read_csv(modifiers_csv, dtype="str", keep_default_na=False)
    m = m[m["ncic_category"].str.zfill(2) == "35"]
    return pd.DataFrame({"charge_code": m["charge_code"].str.strip().str.upper(),
                         "modifier": "35" + m["ncic_modifier"].str.zfill(2)}).drop_duplicates()


def code_table_charges(charge_codes_csv: str | Path, modifiers_csv: str | Path) -> pd.DataFrame:
    """One charge per code x (no modifier, each allowed drug modifier) x wording.

    Wordings: ``code+short``, ``code+long`` (the full charge code with its description) and
    ``short``, ``long`` (the description alone). Columns are the export's canonical fields
    plus ``probe_code``, ``probe_modifier`` and ``probe_wording``; every row is its own case.
    The offense date is the code's effective date, so the code's own version is in force.
    """
    table = read_mshp_charge_codes(charge_codes_csv)
    table["charge_code"] = table["charge_code"].str.strip().str.upper()
    mods = allowed_drug_modifiers(modifiers_csv)
    base = table[["charge_code", "short_description", "long_description", "effective_date"]]
    with_mod = base.merge(mods, on="charge_code", how="left")
    plain = base.assign(modifier=None)
    rows = pd.concat([plain, with_mod[with_mod["modifier"].notna()]], ignore_index=True)
    parts = []
    for wording, text, code in (("code+short", "short_description", True), ("code+long", "long_description", True),
                                ("short", "short_description", False), ("long", "long_description", False)):
        part = pd.DataFrame({
            "probe_code": rows["charge_code"], "probe_modifier": rows["modifier"], "probe_wording": wording,
            "charge_code": rows["charge_code"] if code else None, "ncic_modifier": rows["modifier"],
            "charge_description": rows[text].str.strip().replace("", None),
            "offense_date": pd.to_datetime(rows["effective_date"], format="%Y%m%d", errors="coerce"),
        })
        parts.append(part[part["charge_description"].notna() | code])
    out = pd.concat(parts, ignore_index=True)
    # Dates: the code's effective date when it predates the amendment, else a day before it.
    out["offense_date"] = out["offense_date"].where(out["offense_date"] < "2022-12-08", pd.Timestamp("2022-12-01"))
    out["case_number"] = [f"0000-CR{i:07d}" for i in range(len(out))]
    out["charge_seq"] = 1
    out["disposition"] = "GUILTY PLEA"
    out["supervision_status"] = "COMPLETED"
    out["court"] = "22ND JUDICIAL CIRCUIT"
    out["county"] = "ST. LOUIS CITY"
    out["case_type"] = "CR"
    return out


def decide_code_table(charge_codes_csv: str | Path, modifiers_csv: str | Path, load_codes: bool,
                      rules: str | Path | None = None, policies: dict[str, str] | None = None) -> pd.DataFrame:
    """``code_table_charges`` decided under a rule file (the default v2) with the shipped
    reference, or with the table itself loaded as ``--charge-codes`` (``load_codes``).
    Returns the ``probe_*`` columns beside the ``charges/`` columns."""
    from datetime import date

    from expunge.decide.charges import decide_charges
    from expunge.ingest.profiles import input_schema
    from expunge.law.rules import load_rules
    from expunge.normalize.offenses import Normalizer

    probe = code_table_charges(charge_codes_csv, modifiers_csv)
    charges = probe.drop(columns=["probe_code", "probe_modifier", "probe_wording"])
    for name in input_schema().fields:
        if name not in charges:
            charges[name] = None
    charges["source_file"] = "code-table"
    charges["source_line"] = range(2, len(charges) + 2)
    norm = Normalizer.build(charge_codes=charge_codes_csv if load_codes else None)
    rs = load_rules(rules)
    out = decide_charges(charges, rs, rs.resolve_policies(policies), date(2026, 11, 27), norm=norm).charges
    return pd.concat([probe[["probe_code", "probe_modifier", "probe_wording"]].reset_index(drop=True),
                      out.reset_index(drop=True)], axis=1)
