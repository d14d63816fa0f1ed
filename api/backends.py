from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Django's password backend; a user blocked by staff (api.services.users) cannot authenticate, and a
    session they already hold (the admin) resolves to no user on its next request."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and getattr(user, "blocked_at", None) is None
