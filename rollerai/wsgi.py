"""The WSGI entry point: plain HTTP, served by gunicorn (rollerai/httpserver.py). Websockets
go through the ASGI entry point (rollerai/asgi.py) under daphne."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rollerai.settings")
application = get_wsgi_application()
