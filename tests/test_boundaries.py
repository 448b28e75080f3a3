"""Architecture rules: the library has no Prefect in it and reads no clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LIBRARY = ROOT / "src" / "expunge"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_library_modules_never_import_prefect():
    offenders = [p.name for p in LIBRARY.rglob("*.py") if "prefect" in imported_modules(p)]
    assert offenders == []


def test_importing_the_pipeline_does_not_load_prefect():
    code = "import sys, expunge.ops.run, expunge.cli; print('prefect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_the_cli_the_manifest_and_the_run_log_read_the_clock():
    readers = []
    for p in LIBRARY.rglob("*.py"):
        text = p.read_text()
        for needle in ("date.today(", "datetime.now(", "Timestamp.now(", "time.time("):
            if needle in text:
                readers.append((p.name, needle))
    assert sorted(readers) == [("cli.py", "date.today("), ("run.py", "Timestamp.now("), ("runlog.py", "Timestamp.now(")]


STAGES = {"law", "ingest", "normalize", "decide", "publish", "ops"}
TOP_MODULES = {"__init__.py", "cli.py", "query.py", "sample.py", "errors.py"}


def test_every_module_lives_in_a_stage_package_except_the_entry_points():
    top = {p.name for p in LIBRARY.glob("*.py")}
    packages = {p.name for p in LIBRARY.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert top == TOP_MODULES
    assert packages == STAGES


def test_each_stage_package_says_in_two_lines_what_it_takes_and_returns():
    for stage in sorted(STAGES):
        doc = ast.get_docstring(ast.parse((LIBRARY / stage / "__init__.py").read_text())) or ""
        first = doc.split("\n\n")[0].splitlines()
        assert len(first) == 2 and " takes " in first[0] and " return" in first[1], stage
