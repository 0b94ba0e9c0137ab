"""The model registry and the generations users ask for, with the images they produce."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from generation.samplers import sampler_fits, sampler_misfit_message


class DiffusionModel(models.Model):
    """A diffusion pipeline that workers can load, with the limits users must stay within."""

    class Family(models.TextChoices):
        # All load through diffusers' AutoPipelineForText2Image; the family says how their
        # latents look (for live previews) and what sensible defaults are.
        SD = "sd", "Stable Diffusion 1.x / 2.x"
        SDXL = "sdxl", "Stable Diffusion XL"
        TURBO = "turbo", "Few-step (SD-Turbo, SDXL-Turbo, LCM)"

    slug = models.SlugField(unique=True, help_text="Short name used by the API and in queue names.")
    name = models.CharField(max_length=100)
    source = models.CharField(
        max_length=500,
        help_text="A Hugging Face model id or a folder with a saved pipeline "
        "(relative folders are looked up under MODELS_DIR).",
    )
    description = models.TextField(blank=True)
    family = models.CharField(max_length=10, choices=Family.choices, default=Family.SD)
    is_demo = models.BooleanField(
        default=False, help_text="Random weights for trying the site out: its images are noise."
    )
    enabled = models.BooleanField(default=True)
    default_steps = models.PositiveSmallIntegerField(default=20)
    max_steps = models.PositiveSmallIntegerField(default=50)
    default_width = models.PositiveSmallIntegerField(default=512)
    default_height = models.PositiveSmallIntegerField(default=512)
    max_width = models.PositiveSmallIntegerField(default=768)
    max_height = models.PositiveSmallIntegerField(default=768)
    default_guidance = models.FloatField(default=7.5)
    max_guidance = models.FloatField(default=20.0)
    credits_per_image = models.PositiveIntegerField(
        default=1, help_text="Credits per image made from a prompt alone."
    )
    credits_per_image_to_image = models.PositiveIntegerField(
        default=1, help_text="Credits per image made from an image (also variations)."
    )
    credits_per_upscale = models.PositiveIntegerField(
        default=2,
        help_text="Credits per image upscaled x2 (an image-to-image pass at twice the size).",
    )
    default_sampler = models.CharField(
        max_length=20,
        blank=True,
        help_text="The sampler used when a request names none; empty: the model's own scheduler.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def few_step(self) -> bool:
        """Distilled to sample in a few steps, which some samplers (LCM) are only for."""
        return self.family == self.Family.TURBO

    def clean(self) -> None:
        # The default applies to every request that names no sampler: it must suit the model.
        if not sampler_fits(self.default_sampler, few_step=self.few_step):
            raise ValidationError(
                {
                    "default_sampler": sampler_misfit_message(
                        self.default_sampler, model_name=self.name or "this model"
                    )
                }
            )

    def credits_for(self, kind: str) -> int:
        """Credits per image of a generation of this kind (a Generation.Kind)."""
        if kind == Generation.Kind.UPSCALE:
            return self.credits_per_upscale
        if kind in (Generation.Kind.IMAGE, Generation.Kind.VARIATIONS):
            return self.credits_per_image_to_image
        return self.credits_per_image


class Generation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled", "Cancelled"

    class Origin(models.TextChoices):
        WEB = "web", "Website"
        API = "api", "API"
        DISCORD = "discord", "Discord"

    class Kind(models.TextChoices):
        # What a generation starts from, which also sets its price.
        TEXT = "text", "From a prompt"
        IMAGE = "image", "From an image"
        VARIATIONS = "variations", "Variations of an image"
        UPSCALE = "upscale", "Upscaled x2"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    # A UUID so that ids in URLs, queue jobs and storage keys cannot be guessed or counted.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations"
    )
    model = models.ForeignKey(DiffusionModel, on_delete=models.PROTECT, related_name="generations")
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    width = models.PositiveSmallIntegerField()
    height = models.PositiveSmallIntegerField()
    steps = models.PositiveSmallIntegerField()
    guidance = models.FloatField()
    seed = models.BigIntegerField(help_text="Seed of the first image; image n uses seed + n.")
    count = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    # A name from generation.samplers.SAMPLERS; empty: the model's own scheduler.
    sampler = models.CharField(max_length=20, blank=True)
    # Image-to-image only: how far from the init image sampling may go (0: not at all, 1: fully).
    strength = models.FloatField(null=True, blank=True)
    # The image it starts from, as the server re-encoded it (PNG, at the generation's size), and
    # the image of this site it came from, if it did (an upload has none).
    init_image = models.FileField(max_length=255, blank=True)
    source_image = models.ForeignKey(
        "GenerationImage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="derived_generations",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_step = models.PositiveSmallIntegerField(default=0)
    # Paying users' jobs wait in their model's high-priority queue, which workers drain first.
    high_priority = models.BooleanField(default=False)
    # Which front door it came in by (the site, the JSON API or the Discord bot), so that the
    # gallery can mark the ones made from Discord.
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.WEB)
    # How many times a worker has started it; a worker death puts it back only once.
    attempts = models.PositiveSmallIntegerField(default=0)
    worker_name = models.CharField(max_length=200, blank=True)
    # Names one run of the generation on a worker, set when a worker claims it: every write the
    # run makes (progress, images, its end) applies only while the row is still in that run, so a
    # run presumed dead that wakes up again can never clobber the run that replaced it.
    run_token = models.CharField(max_length=32, blank=True)
    # Goes up with every status change. Live events carry it, so a stale event (published from an
    # older snapshot) is recognised and never overwrites a newer status.
    revision = models.PositiveIntegerField(default=1)
    is_public = models.BooleanField(default=False)
    # Starred by its owner in the gallery, to find it again.
    favourite = models.BooleanField(default=False)
    # A new one each time it goes from private to public, so a link revoked by making it private
    # never works again.
    share_token = models.CharField(max_length=32, unique=True, null=True, blank=True)
    error = models.TextField(blank=True)
    credits_charged = models.PositiveIntegerField(default=0)
    # A client's retry key: the same key from the same user returns this generation again, and
    # the fingerprint of the original request tells a retry from a different request.
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="generation_user_newest"),
            models.Index(
                fields=["-created_at", "-id"],
                condition=models.Q(is_public=True),
                name="generation_public_newest",
            ),
            models.Index(fields=["finished_at"], name="generation_finished"),
            # The reaper and reconciler look for unfinished generations only.
            models.Index(
                fields=["status"],
                condition=models.Q(status__in=["queued", "running"]),
                name="generation_unfinished",
            ),
            # A submit counts its user's unfinished generations: by user, so that the count
            # costs the same however many other users are waiting.
            models.Index(
                fields=["user"],
                condition=models.Q(status__in=["queued", "running"]),
                name="generation_user_unfinished",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_generation_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prompt[:40]} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class GenerationImage(models.Model):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    width = models.PositiveSmallIntegerField()
    height = models.PositiveSmallIntegerField()
    image = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "index"], name="one_image_per_index")
        ]

    def __str__(self) -> str:
        return f"Image {self.index} of {self.generation_id}"

    # Both are routed by generation/urls.py to the view that checks who may see the image.
    @property
    def url(self) -> str:
        return f"/images/{self.generation_id}/{self.index}.png"

    @property
    def thumbnail_url(self) -> str:
        return f"/images/{self.generation_id}/{self.index}.webp"
