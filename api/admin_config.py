from django.contrib.admin.apps import AdminConfig


class NexusAdminConfig(AdminConfig):
    """django.contrib.admin with our site as ``admin.site`` (api.admin_site)."""

    default_site = "api.admin_site.NexusAdminSite"
