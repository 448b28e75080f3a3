"""The analytics salt: the operator's EXPUNGE_SALT, else the installation's own salt file, and
the public demo salt for the demo alone; never in the run id or any output."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from expunge.cli import main
from expunge.errors import SaltError
from expunge.ops.run import run_pipeline
from expunge.ops.salt import DEMO_SALT, SAMPLE_SHA256, fingerprint, resolve_salt
from expunge.ops.settings import RunSettings, plan_run
from tests.conftest import AS_OF, SAMPLE

EXPORT = ("case_number,last_name,first_name,dob,disposition,charge_description\n"
          "C1,DOE,JANE,1990-01-01,SIS,POSS MARIJ <10G\n"
          "C2,ROE,RICHARD,1985-05-05,SIS,STEALING\n")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "night.csv"
    path.write_text(EXPORT)
    return path


@pytest.fixture
def salt_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No EXPUNGE_SALT: the installation's salt file, under a config folder of this test's own."""
    monkeypatch.delenv("EXPUNGE_SALT", raising=False)
    monkeypatch.delenv("EXPUNGE_SALT_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "expunge" / "salt"


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def test_the_demo_recognises_the_shipped_sample_by_its_content():
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == SAMPLE_SHA256


def test_the_demo_salt_is_refused_for_an_export_other_than_the_sample(export, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT", DEMO_SALT)
    with pytest.raises(SaltError, match=r"public demo salt.*secrets\.token_hex\(32\).*remove EXPUNGE_SALT"):
        plan_run(RunSettings.of([export], tmp_path / "out", AS_OF))


def test_the_demo_salt_is_refused_for_the_sample_with_another_export(export, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT", DEMO_SALT)
    with pytest.raises(SaltError):
        plan_run(RunSettings.of([SAMPLE, export], tmp_path / "out", AS_OF))


def test_the_demo_salt_is_accepted_for_the_sample_alone_whatever_its_name(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT", DEMO_SALT)
    renamed = shutil.copy(SAMPLE, tmp_path / "export.csv")
    plan_run(RunSettings.of([renamed], tmp_path / "out", AS_OF))
    assert resolve_salt(tmp_path / "out", [SAMPLE_SHA256]).source == "demo"


def test_a_demo_run_uses_the_demo_salt_for_any_export(export, tmp_path, salt_file):
    run = run_pipeline([export], tmp_path / "out", AS_OF, run_id="demo", demo=True)
    assert manifest(run)["analytics_salt"] == {"source": "demo", "fingerprint": fingerprint(DEMO_SALT)}
    assert (run / "analytics").is_dir() and not salt_file.exists()


def test_expunge_run_demo_accepts_the_demo_salt_that_it_refuses_without(export, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT", DEMO_SALT)
    args = ["run", str(export), "--out", str(tmp_path / "out"), "--as-of", "2026-11-27", "--orchestrator", "none"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and "token_hex(32)" in refused.output and "--demo" in refused.output
    assert json.loads((tmp_path / "out" / "runs.jsonl").read_text().splitlines()[-1])["status"] == "failed"
    assert CliRunner().invoke(main, [*args, "--demo"]).exit_code == 0


def test_expunge_serve_refuses_the_demo_salt_before_it_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT", DEMO_SALT)
    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(main, ["serve", "--inbox", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"),
                                       "--api-url", "http://127.0.0.1:9/api"])
    assert result.exit_code == 1 and "public demo salt" in result.output


def test_without_expunge_salt_a_run_makes_an_owner_only_salt_file_and_writes_analytics(export, tmp_path, salt_file):
    run = run_pipeline([export], tmp_path / "out", AS_OF, run_id="first")
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(salt_file.parent.stat().st_mode) == 0o700
    assert len(salt_file.read_text().strip()) == 64
    assert len(pd.read_parquet(run / "analytics")) == 2


def test_a_second_run_reuses_the_installation_salt(export, tmp_path, salt_file):
    first = run_pipeline([export], tmp_path / "out", AS_OF, run_id="first")
    second = run_pipeline([export], tmp_path / "out", AS_OF, run_id="second")
    keys = [sorted(pd.read_parquet(r / "analytics")["person_key"].dropna()) for r in (first, second)]
    assert keys[0] == keys[1] and len(keys[0]) == 2


def test_the_salt_file_path_is_printed_once_when_it_is_made(tmp_path, salt_file, capsys):
    resolve_salt(tmp_path / "out")
    resolve_salt(tmp_path / "out")
    assert capsys.readouterr().err.count(str(salt_file)) == 1


def test_the_manifest_has_the_salts_source_and_fingerprint_but_no_output_has_its_value(export, tmp_path, salt_file):
    out = tmp_path / "out"
    run = run_pipeline([export], out, AS_OF, run_id="first")
    value = salt_file.read_text().strip()
    assert manifest(run)["analytics_salt"] == {"source": "installation file", "fingerprint": fingerprint(value),
                                               "file": str(salt_file)}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and not [p for p in files if value.encode() in p.read_bytes()]


def test_expunge_salt_file_names_the_salt_file(tmp_path, salt_file, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT_FILE", str(tmp_path / "keys" / "analytics.salt"))
    assert resolve_salt(tmp_path / "out").file == str(tmp_path / "keys" / "analytics.salt")
    assert not salt_file.exists()


def test_a_salt_file_inside_the_output_folder_is_refused(export, tmp_path, salt_file, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT_FILE", str(tmp_path / "out" / "salt"))
    with pytest.raises(SaltError, match="inside the output folder"):
        plan_run(RunSettings.of([export], tmp_path / "out", AS_OF))
    assert not (tmp_path / "out" / "salt").exists()


def test_an_empty_salt_file_is_refused_not_replaced(tmp_path, salt_file):
    salt_file.parent.mkdir(parents=True)
    salt_file.write_text("\n")
    with pytest.raises(SaltError, match=r"is empty\. Restore it from its backup"):
        resolve_salt(tmp_path / "out")


def test_the_salt_and_the_demo_flag_are_not_part_of_the_run_id(export, tmp_path, monkeypatch):
    ids = set()
    for salt, demo in (("one", False), ("two", False), ("two", True)):
        monkeypatch.setenv("EXPUNGE_SALT", salt)
        ids.add(plan_run(RunSettings.of([export], tmp_path / "out", AS_OF, demo=demo)).run_id)
    assert len(ids) == 1
