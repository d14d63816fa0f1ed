"""Staff permissions for API views: the same Django permissions the admin reads (roles are groups)."""

from rest_framework.permissions import BasePermission

READ_METHODS = ("GET", "HEAD", "OPTIONS")


class StaffPermission(BasePermission):
    """Active staff users holding every permission the view names for the request's method.

    A view declares ``staff_permissions = {"GET": ["risk.view_incident"], "PATCH": ["risk.change_incident"]}``;
    HEAD and OPTIONS ask what GET asks. A method the view does not list is refused (fail closed).
    Customers and staff whose roles lack a permission get 403 ``permission_denied``.
    """

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        method = "GET" if request.method in READ_METHODS else request.method
        required = getattr(view, "staff_permissions", {}).get(method)
        return required is not None and user.has_perms(required)



class StaffWhoOnlyRead(BasePermission):
    """Contract v1.3: staff whose roles only read (an Auditor) write nothing through the API, not even an
    account of their own. A staff member is read-only when every permission they hold is a ``view_`` one
    (superusers excepted). Their own credentials and inbox stay theirs: a view declaring
    ``personal_write = True`` (password, two-factor, logout, notifications read) is not refused.

    In ``DEFAULT_PERMISSION_CLASSES``; views naming their own (``StaffPermission``) check named permissions,
    which an Auditor's roles never grant for a write.
    """

    message = "Your role is read-only: it may not change anything."

    def has_permission(self, request, view):
        user = request.user
        if request.method in READ_METHODS or not (user and user.is_authenticated and user.is_staff):
            return True
        if user.is_superuser or getattr(view, "personal_write", False):
            return True
        return any(not name.split(".", 1)[1].startswith("view_") for name in user.get_all_permissions())
