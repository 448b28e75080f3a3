"""Drafts follow the change: a night builds the drafts of people whose charges changed and
carries the others over from the previous night as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from expunge.ops.run import run_pipeline
from expunge.publish.documents import DRAFTS_INDEX
from expunge.sample import next_night
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, _test_environment: None) -> tuple[Path, Path]:
    """The sample decided on one night, then its next night (2 % newly disposed, 2 % new)."""
    root = tmp_path_factory.mktemp("drafts")
    second = root / "night-2.csv"
    next_night(SAMPLE, second, changed=0.02, new=0.02, seed=5)
    out = root / "out"
    one = run_pipeline([SAMPLE], out, "2026-11-27", run_id="night-1")
    two = run_pipeline([second], out, "2026-11-28", run_id="night-2")
    return Path(one), Path(two)


def _index(run: Path) -> pd.DataFrame:
    frames = [pd.DataFrame(json.loads(p.read_text())).assign(folder=str(p.parent.relative_to(run)))
              for p in sorted(run.glob(f"petitions/*/documents/*/{DRAFTS_INDEX}"))]
    return pd.concat(frames, ignore_index=True)


def test_every_draft_of_a_first_night_is_prepared_by_that_night(nights):
    one, _ = nights
    index = _index(one)
    assert len(index) == json.loads((one / "manifest.json").read_text())["outputs"]["documents"]
    assert set(index["prepared_by"]) == {"night-1"}
    assert json.loads((one / "manifest.json").read_text())["outputs"]["documents_carried"] == 0


def test_a_draft_whose_person_rows_did_not_change_is_carried_over_byte_for_byte(nights):
    one, two = nights
    index = _index(two)
    carried = index[index["prepared_by"] == "night-1"]
    assert len(carried) > len(index) / 2  # most people's charges did not change
    assert carried["carried_over"].all() and not index.loc[index["prepared_by"] == "night-2", "carried_over"].any()
    for _, row in carried.iterrows():
        assert (two / row["folder"] / row["draft"]).read_bytes() == (one / row["folder"] / row["draft"]).read_bytes()
    assert json.loads((two / "manifest.json").read_text())["outputs"]["documents_carried"] == len(carried)


def test_the_drafts_of_people_whose_charges_changed_are_built_again(nights):
    one, two = nights
    index, before = _index(two), _index(one).set_index(["folder", "draft"])
    built = index[index["prepared_by"] == "night-2"]
    assert len(built)
    for _, row in built.iterrows():
        key = (row["folder"], row["draft"])
        assert key not in before.index or before.loc[key, "digest"] != row["digest"]
        assert "expunge run night-2 as of 2026-11-28" in _document_xml(two / row["folder"] / row["draft"])


def test_a_carried_draft_is_a_copy_so_editing_one_nights_file_leaves_the_other(nights):
    one, two = nights
    row = _index(two).query("prepared_by == 'night-1'").iloc[0]
    assert (two / row["folder"] / row["draft"]).stat().st_ino != (one / row["folder"] / row["draft"]).stat().st_ino


def _document_xml(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml").decode("utf-8")
