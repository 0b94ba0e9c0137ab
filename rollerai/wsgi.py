"""WSGI entry point, for management tooling only; the site itself is served over ASGI."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rollerai.settings")
application = get_wsgi_application()
