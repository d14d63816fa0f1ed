"""What our JWTs carry beyond simplejwt's claims, and how a refresh token is read.

Every token we issue carries ``ver``, the user's ``token_version`` when it was issued; a token
whose ``ver`` is not the user's current one is revoked (api.authentication, api.services.sessions).
Tokens signed by simplejwt's own ``for_user`` (tests, the benchmark's seed, tokens from before
versions existed) carry none and count as version 0: valid until the user's first revocation.
"""

from rest_framework_simplejwt import tokens

VERSION_CLAIM = "ver"


def claimed_version(token) -> int:
    version = token.get(VERSION_CLAIM, 0)
    return version if isinstance(version, int) and not isinstance(version, bool) else -1


class UnlistedRefreshToken(tokens.RefreshToken):
    """A refresh token checked for signature, type and expiry, without simplejwt's blacklist lookup:
    ``sessions.refresh_tokens`` reads the blacklist itself, under a row lock, to tell a token used
    once (reuse: revoke everything) from one never used."""

    def check_blacklist(self):
        pass
