"""Two-factor authentication (contract v1.2): a user's authenticator, recovery codes, the login's ticket."""


from django.db import models
from django.utils import timezone


class TwoFactor(models.Model):
    """A user's TOTP authenticator (RFC 6238), set up with ``/auth/2fa/setup/`` and on once confirmed.

    The secret is stored encrypted (api.services.mfa: Fernet under ``TOTP_ENCRYPTION_KEY``): a copy of
    the database alone does not give anyone the second factor.
    """

    user = models.OneToOneField("api.User", primary_key=True, on_delete=models.CASCADE, related_name="two_factor")
    secret = models.TextField(editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The time step (Unix time // 30) of the last accepted code: a code is accepted once, and never one
    # older than the last (RFC 6238, section 5.2).
    last_used_step = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "two-factor authenticator"

    def __str__(self):
        return f"{self.user_id} ({'on' if self.confirmed_at else 'pending'})"


class RecoveryCode(models.Model):
    """A single-use code for a lost authenticator, stored as a keyed hash only."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey("api.User", on_delete=models.CASCADE, related_name="recovery_codes", db_index=False)
    code_hash = models.CharField(max_length=64, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recoverycode_unique_user_hash")]

    def __str__(self):
        return f"{self.user_id} ({'used' if self.used_at else 'unused'})"


class MfaChallenge(models.Model):
    """The ticket between the password and the second factor: ``mfa_token`` (only its hash is kept),
    valid for ``MFA_TOKEN_LIFETIME`` and for one successful verification."""

    id = models.BigAutoField(primary_key=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey("api.User", on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The user's token version when the password was checked (v1.3): a ticket dies with every session
    # (block, revoke-sessions, 2FA reset), and stays dead after an unblock.
    token_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user_id} until {self.expires_at:%H:%M:%S}"
