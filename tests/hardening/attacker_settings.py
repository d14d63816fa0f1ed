"""The test settings with the throttle rates a deployment has (settings/base.py, not the test's
unlimited ones): the attacker of test_adversary.py meets the real throttles."""

from nexus.settings import base
from nexus.settings.test import *  # noqa: F403

REST_FRAMEWORK = {**REST_FRAMEWORK,  # noqa: F405
                  "DEFAULT_THROTTLE_RATES": dict(base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])}
