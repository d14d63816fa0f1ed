"""The server process's heap, as Python's cyclic garbage collector sees it (``settle``).

A request's objects refer to each other in cycles (Django's request and its message storage, DRF's
view, request, serializers and response), so they are freed by the collector, not at their last
reference: 150-270 objects a request, measured. Each pass of the collector over the youngest
generation also walks whatever is alive at that moment, and a full pass walks the whole heap, most of
it the 130,000 objects made while the app loaded (modules, classes, URL patterns, settings) that live
as long as the process.

``settle()``, called by the WSGI and ASGI entry points once the app has loaded, and by the job worker
(``manage.py run_worker``) before its loop:

- collects what loading left over, then moves every object alive at that point out of the collector's
  sight (``gc.freeze``): a full pass, one every 1,500 reads or so, walked them all (50-75 ms, a
  latency spike on one request each time) and now walks only what requests left alive since;
- collects the youngest generation every 2,000 net allocations instead of 700: fewer passes over the
  objects of the request in progress, which a pass only moves to an older generation (each pass a
  full walk of them) for a later pass to free.

What is freed, and when a request's own objects are, does not change: the garbage of one request is
collected a few requests later instead of one. In-process, per request of the collector's CPU
(``time.process_time`` in ``gc.callbacks``): reads 164 -> 85 us, external transfers 75 -> 52 us
(bench/README.md, "Issue 23, third stop").
"""

import gc

YOUNGEST_THRESHOLD = 2000


def settle() -> None:
    """Once, after the application has loaded: freeze what it made, collect the youngest less often.

    What the first request would load is loaded first: the URL patterns, and with them every view,
    serializer and form they import (15,000 objects that would otherwise stay in the collector's walks).
    """
    from django.urls import get_resolver

    _ = get_resolver().url_patterns  # imported on first use otherwise
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_THRESHOLD, middle, oldest)
