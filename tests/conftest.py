"""Shared fixtures: a fixed as-of date, the shipped rule set, a charge factory with safe
defaults, and the path to the real public data in ../shared (tests that need it skip
with a reason where it is absent)."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from expunge.decide.charges import decide_charges
from expunge.law.rules import RuleSet, load_rules

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "sample_data" / "mo_charges_sample.csv"
AS_OF = date(2026, 11, 27)


@pytest.fixture
def as_of() -> date:
    return AS_OF


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "mshp" / "charge_codes_2021-08-05.csv").exists():
        pytest.skip(f"real MSHP data not found at {SHARED_DATA} (it sits beside the project in CI)")
    return SHARED_DATA


DEFAULTS = {
    "case_number": "1622-CR00001",
    "court": "22ND JUDICIAL CIRCUIT",
    "county": "ST. LOUIS CITY",
    "case_type": "CR",
    "filing_date": "2019-03-01",
    "defendant_id": None,
    "last_name": "DOE",
    "first_name": "JANE",
    "middle_name": None,
    "dob": "1990-01-01",
    "sex": "F",
    "race": "W",
    "address": "1 MAIN ST",
    "charge_seq": 1,
    "charge_code": None,
    "ncic_modifier": None,
    "statute": None,
    "charge_description": "STEALING",
    "charge_level": None,
    "charge_class": None,
    "offense_date": "2019-01-15",
    "disposition": "GUILTY PLEA",
    "disposition_date": "2019-06-01",
    "sentence": None,
    "supervision_status": "COMPLETED",
    "arresting_agency": "ST LOUIS METROPOLITAN PD",
    "expunged": None,
}


def make_charges(*rows: dict) -> pd.DataFrame:
    """Charges with safe defaults; each dict overrides only what a test is about."""
    frame = pd.DataFrame([{**DEFAULTS, **r} for r in rows])
    for c in ("filing_date", "dob", "offense_date", "disposition_date"):
        frame[c] = pd.to_datetime(frame[c])
    frame["source_file"] = "test.csv"
    frame["source_line"] = range(2, len(frame) + 2)
    return frame


def decide(*rows: dict, policies: dict | None = None, as_of: date = AS_OF, rules: str | None = None) -> pd.DataFrame:
    """Decide charges built with ``make_charges`` under the shipped rules (v2, or ``rules``)."""
    rs = load_rules(rules)
    return decide_charges(make_charges(*rows), rs, rs.resolve_policies(policies), as_of, run_id="test").charges


def decide_one(policies: dict | None = None, rules: str | None = None, **row) -> pd.Series:
    return decide(row, policies=policies, rules=rules).iloc[0]


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory, _test_environment: None) -> Path:
    """One run of the sample export under the defaults, shared by the tests that only read its
    outputs (a test that changes a run folder makes its own)."""
    from expunge.ops.run import run_pipeline

    return run_pipeline([SAMPLE], tmp_path_factory.mktemp("sample-run"), AS_OF, run_id="sample")


@pytest.fixture(scope="session")
def two_sample_nights(tmp_path_factory: pytest.TempPathFactory, _test_environment: None) -> tuple[Path, Path]:
    """The sample, then the next day the sample with 3 % of its cases gone (nights whose small
    cells differ, and charges delivered); the delivery history as the first night left it is
    kept beside the output folder (``history-night-1.parquet``)."""
    from expunge.ops.run import run_pipeline

    folder = tmp_path_factory.mktemp("two-nights")
    export = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    gone = export["case_number"].drop_duplicates().sample(frac=0.03, random_state=1)
    smaller = folder / "night-2.csv"
    export[~export["case_number"].isin(gone)].to_csv(smaller, index=False)
    out = folder / "out"
    first = run_pipeline([str(SAMPLE)], out, AS_OF, run_id="night-1", documents=False)
    shutil.copy(out / "history" / "eligible.parquet", folder / "history-night-1.parquet")
    second = run_pipeline([str(smaller)], out, AS_OF + timedelta(days=1), run_id="night-2", documents=False)
    return Path(first), Path(second)


@pytest.fixture(scope="session")
def golden_nights(tmp_path_factory: pytest.TempPathFactory, _test_environment: None) -> Path:
    """The golden run's output folder (two nights, three partitions, two workers: tests/golden.py),
    made once for the golden test and the tests that read what it published."""
    from golden import run_nights

    out = tmp_path_factory.mktemp("golden") / "out"
    run_nights(out, out.parent / "cache")
    return out


@pytest.fixture(autouse=True, scope="session")
def _test_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Prefect's home is the session's own (each worker's, when the tests run in parallel), never
    # the project's .prefect, whose database a demo or another session may hold open.
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The same salt in every environment, so no run makes an installation salt file; a test of
    # that file unsets it, and finds its file under this session's own config folder.
    os.environ["EXPUNGE_SALT"] = "test-suite-salt"
    os.environ.pop("EXPUNGE_SALT_FILE", None)
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    # Runs that do not name a cache use a fresh one, not the user's ~/.cache.
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


def truncated_gzip(path: Path) -> Path:
    """The sample export twice over (2.3 MB), gzipped and cut off at 70 %: its first megabyte
    reads (the header and columns check passes), its end is missing."""
    import gzip

    text = SAMPLE.read_bytes()
    data = gzip.compress(text + text.split(b"\n", 1)[1])
    path.write_bytes(data[: len(data) * 7 // 10])
    return path

