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

