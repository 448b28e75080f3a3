"""One set of run settings: built once from Python values, planned once, every export hashed once."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from expunge.ingest import read
from expunge.ops.run import run_pipeline
from expunge.ops.settings import RunSettings, plan_run
from tests.conftest import AS_OF, SAMPLE


def test_settings_are_built_from_python_values_as_text(tmp_path):
    s = RunSettings.of([SAMPLE], tmp_path, date(2026, 11, 27), policies={"b": "2", "a": "1"}, workers=1)
    assert s.inputs == (str(SAMPLE),) and s.out_dir == str(tmp_path) and s.as_of == "2026-11-27"
    assert list(s.policies) == ["a", "b"] and s.workers == 1


def test_an_unknown_setting_is_refused_with_the_names_that_exist(tmp_path):
    with pytest.raises(TypeError, match=r"unknown run setting.*partition.*the settings are.*partitions"):
        RunSettings.of([SAMPLE], tmp_path, AS_OF, partition=4)


def test_settings_cannot_be_changed_once_built(tmp_path):
    s = RunSettings.of([SAMPLE], tmp_path, AS_OF)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.workers = 2  # type: ignore[misc]


def test_the_plan_carries_the_settings_it_was_made_from(tmp_path):
    s = RunSettings.of([SAMPLE], tmp_path, AS_OF, run_id="r", partitions=2)
    plan = plan_run(s)
    assert plan.settings is s and plan.run_id == "r" and plan.partitions == 2 and len(plan.input_sha256) == 1


def test_an_export_is_hashed_once_per_run(tmp_path, monkeypatch):
    hashed: list[str] = []
    real = read._sha256.__wrapped__
    monkeypatch.setattr(read, "_sha256", lambda path, *stamp: (hashed.append(path), real(path, *stamp))[1])
    run_pipeline(RunSettings.of([SAMPLE], tmp_path, AS_OF, run_id="once", workers=1, documents=False))
    assert hashed == [str(SAMPLE.resolve())]


def test_the_normalizer_is_built_once_per_process_while_its_files_are_unchanged(tmp_path):
    import os

    from expunge.ops.settings import run_normalizer

    crosswalk = tmp_path / "crosswalk.csv"
    crosswalk.write_text("match_on,value,offense_family\ndescription,WEED THING,MJ_POSSESSION\n")
    s = RunSettings.of([SAMPLE], tmp_path, AS_OF, crosswalk=crosswalk)
    first = run_normalizer(s)
    assert run_normalizer(s) is first
    crosswalk.write_text("match_on,value,offense_family\ndescription,WEED THINGS,MJ_POSSESSION\n")
    os.utime(crosswalk, ns=(1, 1))  # a clerk's edit: another modification time
    assert run_normalizer(s) is not first


def test_every_setting_is_classed_as_part_of_the_run_id_speed_only_a_salt_choice_or_a_guard():
    from itertools import combinations

    from expunge.ops.settings import GUARD, IN_RUN_ID, SALT_CHOICE, SPEED_ONLY

    names = {f.name for f in dataclasses.fields(RunSettings)}
    assert names == IN_RUN_ID | SPEED_ONLY | SALT_CHOICE | GUARD
    assert not any(a & b for a, b in combinations((IN_RUN_ID, SPEED_ONLY, SALT_CHOICE, GUARD), 2))


def test_settings_that_change_the_outputs_change_the_default_run_id(tmp_path):
    base = plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF)).run_id
    assert plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, workers=1, cache_dir=tmp_path)).run_id == base
    assert plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, suppress_below=5)).run_id != base
    assert plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, documents=False)).run_id != base


def test_the_delivery_and_its_scope_change_the_run_id_and_the_shrink_guard_does_not(tmp_path):
    base = plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF)).run_id
    assert plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, delivery="increment")).run_id != base
    assert plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, scope="BOONE,COLE")).run_id != base
    assert plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, scope="statewide")).run_id == base
    assert plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, accept_shrink=True, max_shrink=0.5)).run_id == base


def test_a_profile_says_what_its_deliveries_are_and_an_option_overrides_it(tmp_path):
    profile = tmp_path / "boone.yaml"
    profile.write_text("profile: boone\ndelivery: increment\nscope: [Boone, cole county]\n")
    plan = plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, profile=profile))
    assert (plan.delivery.kind, plan.delivery.scope) == ("increment", ("BOONE", "COLE"))
    assert plan.delivery_set_by == {"kind": "profile", "scope": "profile"}
    plan = plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, profile=profile, delivery="snapshot", scope="statewide"))
    assert (plan.delivery.kind, plan.delivery.scope) == ("snapshot", None)


def test_a_scope_naming_no_missouri_county_is_refused_before_any_work(tmp_path):
    from expunge.errors import InputFileError

    with pytest.raises(InputFileError, match=r"not a Missouri county: 'BOON'"):
        plan_run(RunSettings.of([SAMPLE], tmp_path, AS_OF, scope="BOON,COLE"))


def test_an_output_folder_that_is_a_file_is_refused_in_a_clerks_words(tmp_path):
    from expunge.errors import InputFileError

    (tmp_path / "out").write_text("")
    with pytest.raises(InputFileError, match=r"is a file\. Give --out a folder"):
        plan_run(RunSettings.of([SAMPLE], tmp_path / "out", AS_OF))
