"""expunge: Missouri Amendment 3 marijuana-expungement decisions from a court export."""

import os as _os

__version__ = "0.1.0"

#: Arrow's memory pool for expunge's processes (``ARROW_DEFAULT_MEMORY_POOL``, read when pyarrow
#: is imported: so it is set here, and the worker processes start with it). pyarrow's default
#: (mimalloc) keeps the memory of a freed partition for later, so a process grows to its largest
#: moment and stays there; jemalloc hands it back sooner. A warm 1 M-charge night run again: 2.35 GB ->
#: 1.65 GB for the process tree at its peak, in the same time. A pool the operator chose is
#: kept; a pyarrow built without jemalloc falls back to its default.
MEMORY_POOL = "jemalloc"
_os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", MEMORY_POOL)
