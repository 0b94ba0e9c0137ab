"""Worker pools: groups of GPU workers, started and stopped by the autoscaler, each serving some
models on one platform. (Imported by the web tier for the admin: no torch here.)"""

from django.core.validators import MinValueValidator
from django.db import models


class WorkerPool(models.Model):
    class Backend(models.TextChoices):
        LOCAL = "local", "Processes on the autoscaler's machine"
        KUBERNETES = "kubernetes", "Kubernetes Deployment"
        ECS = "ecs", "AWS ECS service"
        RUNPOD = "runpod", "RunPod pods"

    name = models.SlugField(
        unique=True, help_text="Workers of this pool report it; Kubernetes and RunPod names use it."
    )
    diffusion_models = models.ManyToManyField(
        "generation.DiffusionModel",
        blank=True,
        verbose_name="models",
        related_name="worker_pools",
        help_text="The models its workers serve. None: every enabled model.",
    )
    backend = models.CharField(max_length=20, choices=Backend.choices, default=Backend.LOCAL)
    backend_settings = models.JSONField(
        default=dict,
        blank=True,
        help_text='The backend\'s own settings, e.g. {"namespace": "gpu", "deployment": '
        '"rollerai-worker-sdxl"} for Kubernetes; see the README. No secrets here: those come '
        "from the environment.",
    )
    enabled = models.BooleanField(
        default=True, help_text="Off: the autoscaler leaves this pool's workers alone."
    )
    min_workers = models.PositiveSmallIntegerField(default=0)
    max_workers = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    idle_seconds = models.PositiveIntegerField(
        default=300, help_text="The last worker stops after the pool was idle this long."
    )
    cold_start_seconds = models.PositiveIntegerField(
        default=60,
        help_text="Expected seconds from asking for a worker to its first heartbeat, until the "
        "autoscaler has measured some.",
    )
    target_wait_seconds = models.PositiveIntegerField(
        default=30, help_text="The wait before a job starts that the pool aims for."
    )
    gather_seconds = models.PositiveIntegerField(
        default=0,
        help_text="At zero workers: how much longer than a cold start the first job may wait "
        "for others to arrive, so that they share one cold start (cheaper, slower). 0: start "
        "a worker on the first job.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
