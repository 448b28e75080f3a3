"""What-if runs: re-decide a finished run under other policies or another rule file.

Stage: decide, again, without re-reading the export: the normalized facts of every charge
are in the run's ``charges/`` dataset. The conflated-code policy is re-applied through the
``CONFLATED_CODE_WITHOUT_MODIFIER`` caveat; clerk decisions (rule ``CLERK``) are kept.
The result says how every count moves: charges per determination, the transitions, and
people and cases with eligible charges (lower and upper bounds).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from expunge.engine import evaluate
from expunge.errors import InputFileError
from expunge.rollup import headline
from expunge.rules import load_rules

FACT_COLUMNS = ("case_number", "case_kind", "offense_family", "substance", "level", "class", "amount_g",
                "disposition_class", "serving", "offense_after_effective", "already_expunged")


def whatif(run_dir: str | Path, policies: dict[str, str] | None = None,
           rules: str | Path | None = None) -> dict[str, Any]:
    """Re-decide the charges of ``run_dir`` and compare with the run's own decisions.

    Raises:
        InputFileError: ``run_dir`` is not a finished run folder.
    """
    run = Path(run_dir)
    manifest_path = run / "manifest.json"
    if not (run / "charges").is_dir() or not manifest_path.is_file():
        raise InputFileError(f"{run} is not a finished run folder (no charges/ or manifest.json). "
                             "Give the folder 'expunge run' printed.")
    manifest = json.loads(manifest_path.read_text())
    ruleset = load_rules(rules)
    base_policies = {k: v for k, v in manifest.get("policies", {}).items() if k in ruleset.policies}
    chosen = ruleset.resolve_policies({**base_policies, **(policies or {})})
    table = ds.dataset(run / "charges", format="parquet", partitioning="hive").to_table()
    lists = table["caveats"].combine_chunks()
    hit = pc.equal(pc.list_flatten(lists), "CONFLATED_CODE_WITHOUT_MODIFIER")
    conflated = np.zeros(table.num_rows, dtype=bool)
    conflated[pc.list_parent_indices(lists).filter(hit).to_numpy()] = True
    charges = table.drop_columns(["caveats"]).to_pandas()
    facts = charges[list(FACT_COLUMNS)].copy()
    facts["case_number"] = facts["case_number"].astype(str)
    assume = chosen.get("conflated_code_without_modifier") == "assume_marijuana"
    facts.loc[conflated, "substance"] = "MARIJUANA" if assume else "UNKNOWN"
    facts["marijuana"] = facts["substance"].isin(["MARIJUANA", "THC"])
    decided = evaluate(facts, ruleset, chosen, date.fromisoformat(manifest["as_of"]))
    clerk = (charges["rule_id"] == "CLERK").to_numpy()
    after = pd.Series(np.where(clerk, charges["determination"], decided["determination"]), index=charges.index)
    before = charges["determination"]
    moved = pd.crosstab(before, after).stack()
    transitions = [{"from": f, "to": t, "charges": int(n)} for (f, t), n in moved.items() if f != t and n]
    base = charges.assign(overdue=charges["overdue"].astype(bool))
    new = base.assign(determination=after.to_numpy(), overdue=decided["overdue"].to_numpy() & ~clerk)
    return {
        "run_id": manifest["run_id"], "as_of": manifest["as_of"],
        "policies_before": manifest.get("policies", {}), "policies_after": chosen,
        "rules_before": manifest.get("ruleset", {}), "rules_after": {"name": ruleset.name, "version": ruleset.version,
                                                                     "sha256": ruleset.sha256},
        "charges_changed": int((before.to_numpy() != after.to_numpy()).sum()),
        "transitions": transitions,
        "before": headline(base), "after": headline(new),
    }
