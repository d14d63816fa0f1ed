from django.contrib.admin.apps import AdminConfig


class NexusAdminConfig(AdminConfig):
    """Django's admin with our site as ``admin.site`` (nexus.admin_site)."""

    default_site = "nexus.admin_site.NexusAdminSite"
