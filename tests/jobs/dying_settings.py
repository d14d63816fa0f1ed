"""Test settings whose web process dies the instant a transfer has committed, before it answers: the
worst moment for whatever the transfer still owes (tests/jobs/test_reactions_survive_kills.py)."""

from nexus.settings.test import *  # noqa: F403

MIDDLEWARE = ["tests.jobs.dying_settings.die_after_commit", *MIDDLEWARE]  # noqa: F405


def die_after_commit(get_response):
    import os

    def middleware(request):
        response = get_response(request)  # the transfer's transaction has committed by now
        if request.path.startswith("/transfers/") and response.status_code == 201:
            os._exit(137)  # as a SIGKILL would: no answer, no after-commit code, nothing flushed
        return response

    return middleware
