from django.conf import settings
from django.db import models


class SdOptions(models.Model):
    """What an account set through AUTOMATIC1111's /sdapi/v1/options: the model its requests
    use when they name none."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sd_options"
    )
    sd_model_checkpoint = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name = "AUTOMATIC1111 options"
        verbose_name_plural = "AUTOMATIC1111 options"

    def __str__(self) -> str:
        return f"{self.user}: {self.sd_model_checkpoint or 'the first model'}"
