"""JSON log lines. Only whitelisted request fields are emitted; bodies never are. Every line written during a
request carries its ``request_id`` (``nexus.context``), whichever logger wrote it: an outage warning, a
traceback, a posting, a refusal."""

import json
import logging
from datetime import UTC, datetime

from .context import current_request

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

# No line of ours or gunicorn's carries the thread's name or the multiprocessing process name: the
# logging module need not look them up for every record. (The process id stays: gunicorn's error lines
# print it.)
logging.logThreads = False
logging.logMultiprocessing = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request().request_id
        if request_id:
            payload["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)

