"""nexus.logging: what the logging module stops looking up is what no line prints; a line is the JSON of its
fields, in ASCII, whichever encoder wrote it."""

import datetime as dt
import json
import logging
import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from nexus.logging import JsonFormatter, _json_line  # importing it sets what the logging module looks up


def test_gunicorn_error_lines_still_have_their_process_id():
    # gunicorn's own error format, used inside every worker (invalid requests, worker restarts).
    gunicorn = logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(message)s", "[%Y-%m-%d %H:%M:%S %z]")
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Worker exiting", (), None)
    assert f"[{record.process}] [INFO] Worker exiting" in gunicorn.format(record)
    assert isinstance(record.process, int)


# --- the line itself: orjson, and the standard encoder where orjson would write it otherwise --------------


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**80, max_value=2**80), st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False), st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=3))])), st.dates(), st.uuids(),
    st.lists(st.text(max_size=4), max_size=3),
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), VALUES, max_size=6))
def test_a_line_is_the_json_of_its_fields_in_ascii(payload):
    line = _json_line(payload)
    assert line.isascii() and "\n" not in line
    assert json.loads(line) == json.loads(json.dumps(payload, default=str))


def test_an_access_line_reads_as_before():
    record = logging.LogRecord("nexus.request", logging.INFO, __file__, 1, "request", (), None)
    record.__dict__.update({"path": "/accounts/é", "status": 200, "duration_ms": 1.25, "user_id": str(uuid.UUID(int=7)),
                            "amount": Decimal("1.500")})
    line = json.loads(JsonFormatter().format(record))
    assert line["path"] == "/accounts/é" and line["status"] == 200 and line["duration_ms"] == 1.25
    assert line["amount"] == "1.500" and line["logger"] == "nexus.request" and line["message"] == "request"
    assert "lineno" not in line and "pathname" not in line
