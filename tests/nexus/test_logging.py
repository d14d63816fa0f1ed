"""nexus.logging: what the logging module stops looking up is what no line prints."""

import logging

import nexus.logging  # noqa: F401 - its settings of the logging module are what is checked


def test_gunicorn_error_lines_still_have_their_process_id():
    # gunicorn's own error format, used inside every worker (invalid requests, worker restarts).
    gunicorn = logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(message)s", "[%Y-%m-%d %H:%M:%S %z]")
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Worker exiting", (), None)
    assert f"[{record.process}] [INFO] Worker exiting" in gunicorn.format(record)
    assert isinstance(record.process, int)
