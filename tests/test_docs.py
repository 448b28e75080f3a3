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
