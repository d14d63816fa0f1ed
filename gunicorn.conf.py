"""gunicorn settings every deployment shares (Dockerfile, the test servers; the benchmark's config
imports the same limits). gunicorn also reads this file on its own when started from this directory.

Only the request limits live here; workers, bind and logging come from the command line.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nexus import limits  # noqa: E402

limit_request_line = limits.GUNICORN_LIMIT_REQUEST_LINE
limit_request_field_size = limits.GUNICORN_LIMIT_REQUEST_FIELD_SIZE
limit_request_fields = limits.GUNICORN_LIMIT_REQUEST_FIELDS
