"""The inbox scan reads each new export on its own (no Prefect here; the flow is in test_flow.py)."""

from __future__ import annotations

from expunge.ingest.profiles import load_profile
from expunge.ingest.read import preflight
from expunge.ops import inbox
from tests.conftest import truncated_gzip


def test_a_gzip_truncated_past_its_first_megabyte_is_found_before_any_run(tmp_path):
    (tmp_path / "inbox").mkdir()
    cut = truncated_gzip(tmp_path / "inbox" / "night.csv.gz")
    preflight(cut, load_profile())  # the header check alone lets it through
    waiting = inbox.scan(tmp_path / "inbox", tmp_path / "out", load_profile())
    [(path, reason)] = waiting.unreadable
    assert waiting.new == () and path == cut and "damaged or truncated gzip" in reason
