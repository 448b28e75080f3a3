"""The salt of the de-identified ``analytics/`` keys: the operator's ``EXPUNGE_SALT``, else this
installation's own salt file (made once, owner-only, outside every output folder), or the
public demo salt for the demo alone.

The salt is read when a run is planned (to refuse a bad one before any work) and again at
publish time; it is never part of the settings, the plan, the run id or any output. The
manifest carries only where it came from and a fingerprint that cannot be turned back into it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from expunge.errors import SaltError

SALT_ENV = "EXPUNGE_SALT"
SALT_FILE_ENV = "EXPUNGE_SALT_FILE"
#: Public, so analytics keys made with it can be undone: for ``make demo`` and the tests only.
DEMO_SALT = "demo-salt-not-secret"
#: SHA-256 of the shipped synthetic sample, ``sample_data/mo_charges_sample.csv`` (checked by a
#: test): with it as the only input, the demo salt is accepted without ``--demo``.
SAMPLE_SHA256 = "d30704e4057d0eb4fbdf2db4469e84b920751471647e545f90e201c9d595bfde"

SOURCES = ("environment", "installation file", "demo")
_MAKE_ONE = 'python -c "import secrets; print(secrets.token_hex(32))"'


@dataclass(frozen=True)
class Salt:
    """A run's salt and where it came from; the value never shows in a repr or the manifest."""

    value: str = field(repr=False)
    source: str  # one of SOURCES
    file: str | None = None  # the installation file, when it came from one

    def fingerprint(self) -> str:
        return fingerprint(self.value)

    def manifest(self) -> dict[str, Any]:
        """What the manifest says about the salt: its source, its fingerprint, the file's path."""
        return {"source": self.source, "fingerprint": self.fingerprint(),
                **({"file": self.file} if self.file else {})}


def fingerprint(value: str) -> str:
    """Twelve hex digits that tell two salts apart (the same salt, the same fingerprint)."""
    return hashlib.sha256(f"expunge-salt-fingerprint:{value}".encode()).hexdigest()[:12]


def salt_file() -> Path:
    """``$EXPUNGE_SALT_FILE``, else ``$XDG_CONFIG_HOME/expunge/salt`` (``~/.config/expunge/salt``)."""
    if os.environ.get(SALT_FILE_ENV):
        return Path(os.environ[SALT_FILE_ENV]).expanduser()
    return _default_dir() / "salt"


def _default_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "expunge"


def is_sample_alone(input_sha256: Iterable[str]) -> bool:
    """The shipped sample is the only input (by content, whatever the file is called)."""
    return set(input_sha256) == {SAMPLE_SHA256}


def resolve_salt(out_dir: str | Path, input_sha256: Iterable[str] = (), demo: bool = False) -> Salt:
    """The salt for a run writing into ``out_dir``: the demo salt for a ``demo`` run, else
    ``EXPUNGE_SALT``, else the installation's salt file (created on first use; its path is
    printed once, to stderr).

    Raises:
        SaltError: ``EXPUNGE_SALT`` is the demo salt and the inputs are not the shipped sample
            alone; the salt file would sit inside ``out_dir``; the salt file is empty.
    """
    if demo:
        return Salt(DEMO_SALT, "demo")
    env = os.environ.get(SALT_ENV, "").strip()
    if env == DEMO_SALT:
        if is_sample_alone(input_sha256):
            return Salt(DEMO_SALT, "demo")
        raise SaltError(_demo_refused(f"{SALT_ENV} is set to the public demo salt ({DEMO_SALT!r})"))
    if env:
        return Salt(env, "environment")
    path = salt_file()
    where = path.resolve()
    out = Path(out_dir).resolve()
    if where.is_relative_to(out):
        raise SaltError(f"The salt file {path} is inside the output folder {out_dir}, where it would be copied, "
                        f"backed up and shared with the outputs. Point {SALT_FILE_ENV} at a file outside it (or "
                        f"unset it to use {_default_dir() / 'salt'}), and keep that file's permissions owner-only.")
    value = _read(path) if path.exists() else _create(path)
    if value == DEMO_SALT:
        raise SaltError(_demo_refused(f"The salt file {path} holds the public demo salt"))
    return Salt(value, "installation file", str(path))


def _demo_refused(what: str) -> str:
    return (f"{what}, which is only for 'make demo' and the shipped sample: anyone can undo analytics keys made "
            f"with it. Make a secret one with {_MAKE_ONE}, keep a copy somewhere safe and set {SALT_ENV} to it, "
            f"or remove {SALT_ENV} to use this installation's own salt file ({salt_file()}). "
            "For a demo on synthetic data, pass --demo.")


def _read(path: Path) -> str:
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise SaltError(f"The salt file {path} is empty. Restore it from its backup (every analytics key depends on "
                        "it), or delete it to have a new one made (analytics keys then change).")
    return value


def _create(path: Path) -> str:
    """A new random salt in ``path`` (mode 600, its folder 700 when made here); a run that
    made one at the same moment wins and its salt is used."""
    folder = path.parent
    ours = not folder.exists() or folder == _default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    if ours:
        folder.chmod(0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".salt-")  # created owner-only
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # fails if another run made the file first
    except FileExistsError:
        return _read(path)
    finally:
        os.unlink(tmp)
    print(f"expunge: created this installation's analytics salt in {path} (owner-only). Back it up: without it, "
          "every analytics key changes.", file=sys.stderr)
    return _read(path)
