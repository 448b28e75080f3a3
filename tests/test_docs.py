"""The README documents every command, every command has help, and the README starts with
the two commands a new user runs."""

from __future__ import annotations

import click
from click.testing import CliRunner

from expunge.cli import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def commands(group: click.Group, prefix: str = "expunge") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out += commands(cmd, full)
        else:
            out.append((full, cmd))
    return out


def test_every_command_is_documented_in_the_readme():
    missing = [name for name, _ in commands(main) if f"### `{name}`" not in README]
    assert missing == []


def test_every_command_has_help_text():
    for name, cmd in commands(main):
        result = CliRunner().invoke(main, [*name.split()[1:], "--help"])
        assert result.exit_code == 0 and cmd.help, name


def test_readme_opens_with_make_demo_then_make_test():
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert lines[:2] == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readmes_python_example_runs_as_written(tmp_path):
    import re
    import subprocess
    import sys

    [example] = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "RunSettings" in b]
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    (tmp_path / "example.py").write_text(example + "    print(run_dir)\n")
    out = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / out.stdout.strip().splitlines()[-1] / "manifest.json").is_file()
