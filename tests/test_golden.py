"""The layout can change; what a run writes must not: every output of the golden run (two
nights, three partitions, two workers) matches the record made before the code moved. The
other tests that read the golden run live here too, so that it is made once per worker."""

from __future__ import annotations

import json
from pathlib import Path

from golden import RECORD, digest_tree
from test_disclosure import one_night, pinned, recovered


def test_every_output_of_the_golden_run_matches_the_record(golden_nights: Path) -> None:
    recorded = json.loads(RECORD.read_text())
    produced = digest_tree(golden_nights)
    missing = sorted(set(recorded) - set(produced))
    extra = sorted(set(produced) - set(recorded))
    changed = sorted(k for k in set(recorded) & set(produced) if recorded[k] != produced[k])
    assert not (missing or extra or changed), (
        f"missing {missing[:5]}, new {extra[:5]}, changed {changed[:10]} ({len(changed)} in all). "
        "If the change is intended, run `.venv/bin/python tests/golden.py --record` and say why in the commit.")


def test_no_suppressed_cell_of_a_run_in_several_partitions_can_be_worked_out(golden_nights: Path) -> None:
    run = golden_nights / "night-1"
    assert json.loads((run / "manifest.json").read_text())["partitions"] == 3
    cells = one_night(run)
    assert recovered(cells) == []
    assert pinned(cells) == []
