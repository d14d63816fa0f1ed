"""Keys for one purpose each (JWT signing, card-number fingerprints, TOTP secrets at rest), decided in one place.

Production demands each its own key from the environment (at least 50 characters, not
``DJANGO_SECRET_KEY``): rotating or leaking one secret must not touch what another protects. A
developer machine or a test run derives a distinct key per purpose from ``SECRET_KEY`` when its
variable is unset, so nothing needs configuring there and no two purposes share a key.
"""

import hashlib
import hmac

from django.core.exceptions import ImproperlyConfigured

# TOTP_ENCRYPTION_KEY encrypts two-factor secrets and keys recovery-code hashes (api.services.mfa):
# a copy of the database without it gives nobody a second factor. Changing it makes every enrolled
# authenticator unreadable (its users log in with a recovery code, then enrol again).
PURPOSES = ("JWT_SIGNING_KEY", "CARD_FINGERPRINT_KEY", "TOTP_ENCRYPTION_KEY")
MIN_LENGTH = 50


def purpose_keys(env, secret_key: str, *, required: bool) -> dict[str, str]:
    """``{variable: key}`` for every purpose; ``required``: each must come from the environment."""
    keys = {}
    for name in PURPOSES:
        value = env(name, default="")
        if required and (len(value) < MIN_LENGTH or value == secret_key):
            raise ImproperlyConfigured(f"{name} must be set: at least {MIN_LENGTH} characters, and not the same "
                                       "as DJANGO_SECRET_KEY.")
        keys[name] = value or hmac.new(secret_key.encode(), name.encode(), hashlib.sha256).hexdigest()
    return keys
