"""Dates and times as the API writes them and every list of the back office shows them (``2026-12-06``,
``2026-12-06 16:02``), also on the pages Django renders itself (History, a run's date), which would say
"Dec. 6, 2026" in English."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
