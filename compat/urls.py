from django.urls import path

from compat.automatic1111.api import api as sdapi
from compat.openai.api import api as openai_api

urlpatterns = [
    path("v1/", openai_api.urls),
    path("sdapi/v1/", sdapi.urls),
]
