"""The Prefect flows. Importing the package applies ``flows.settings`` first (Prefect's home,
analytics off, the embedded server's start-up timeout), however the flows are imported
(``import flows.nightly``, ``from flows import nightly``, the command line), so Prefect
reads them when it loads."""

import flows.settings  # noqa: F401
