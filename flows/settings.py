"""Prefect settings for running the nightly flow on the embedded (ephemeral) server.

Imported before Prefect: no analytics (no outbound call), a local home under the user's
cache (or the project's .prefect when the Makefile sets PREFECT_HOME), a generous start-up
timeout for a loaded two-core machine, and no persisted results (stages pass paths).
Anything already set in the environment wins.
"""

import os
from pathlib import Path

_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
DEFAULTS = {
    "PREFECT_HOME": str(_cache / "expunge" / "prefect"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",  # the client's usage analytics (and its notice on a terminal) off too
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_UI_ENABLED": "false",
}
for key, value in DEFAULTS.items():
    os.environ.setdefault(key, value)

# Prefect creates its home folder but not the parents (~/.cache may not exist on a new machine).
Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
