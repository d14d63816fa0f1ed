import os

from django.core.wsgi import get_wsgi_application

# Servers (gunicorn) run production settings unless told otherwise.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus.settings.production")

application = get_wsgi_application()

from nexus import heap  # noqa: E402 - after the settings are chosen

heap.settle()  # what loading made is frozen out of the collector's walks
