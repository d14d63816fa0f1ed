from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

BLOCKED_FLAG = "nexus_blocked_account"


class AccountBackend(ModelBackend):
    """Django's password backend; a user blocked by staff (api.services.users) cannot authenticate, and a
    session they already hold (the admin) resolves to no user on its next request.

    ``ModelBackend.authenticate``, except that a right password for a blocked user marks the request
    (``BLOCKED_FLAG``), so the login can say ``account_blocked`` to whoever knows the password without
    hashing it a second time (which would also let anyone time which accounts are blocked).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            model().set_password(password)  # as Django does: the same time for an unknown user
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        if user.blocked_at is not None and user.is_active and request is not None:
            setattr(request, BLOCKED_FLAG, True)
        return None

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and getattr(user, "blocked_at", None) is None
