from django.apps import AppConfig


class CompatConfig(AppConfig):
    name = "compat"
    verbose_name = "OpenAI and AUTOMATIC1111 APIs"

    def ready(self) -> None:
        # Refusals made before a view runs (a body too large, a 404) answer in each API's shape.
        from compat.automatic1111.errors import sdapi_error_response
        from compat.openai.errors import openai_error_response
        from rollerai.api import error_shape_register

        error_shape_register("/v1/", openai_error_response)
        error_shape_register("/sdapi/", sdapi_error_response)
