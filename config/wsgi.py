"""WSGI entry point: Django's pages alone (no WebSockets), for a WSGI server beside daphne."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
