"""How long a request line and its headers may be: decided here, for the app and for gunicorn.

The app refuses a request past its own limits with the contract's JSON error
(``nexus.middleware.RequestLimitsMiddleware``). gunicorn's limits (``gunicorn.conf.py``) sit above
them, so gunicorn's own plain HTML answers (414, 431, 400) come only for requests far beyond
anything a client of this API sends. Plain constants: gunicorn reads them without Django.
"""

# The app's own: a request target (path and query string, as sent), one header line
# ("Name: value"), and the number of distinct header fields.
MAX_REQUEST_TARGET = 4096
MAX_HEADER_LINE = 8192
MAX_HEADER_FIELDS = 64

# gunicorn's, above the app's. 8190 is the longest request line gunicorn allows short of "no limit".
GUNICORN_LIMIT_REQUEST_LINE = 8190
GUNICORN_LIMIT_REQUEST_FIELD_SIZE = 2 * MAX_HEADER_LINE
GUNICORN_LIMIT_REQUEST_FIELDS = 100
