from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from generation.models import DiffusionModel, Generation, GenerationImage
from generation.samplers import SAMPLERS
from generation.services import generation_cancel
from rollerai.exceptions import DomainError


class DiffusionModelForm(forms.ModelForm):
    default_sampler = forms.ChoiceField(
        choices=[("", "Default (the model's own scheduler)"), *SAMPLERS.items()],
        required=False,
        help_text=DiffusionModel._meta.get_field("default_sampler").help_text,
    )

    class Meta:
        model = DiffusionModel
        # Every field, as the admin shows them without a form of its own.
        exclude: list[str] = []


@admin.register(DiffusionModel)
class DiffusionModelAdmin(admin.ModelAdmin):
    form = DiffusionModelForm
    list_display = [
        "name",
        "slug",
        "family",
        "source",
        "enabled",
        "is_demo",
        "credits_per_image",
        "credits_per_image_to_image",
        "credits_per_upscale",
        "default_sampler",
    ]
    list_editable = ["credits_per_image", "credits_per_image_to_image", "credits_per_upscale"]
    list_filter = ["enabled", "family", "is_demo"]
    search_fields = ["name", "slug", "source"]
    prepopulated_fields = {"slug": ["name"]}


class GenerationImageInline(admin.TabularInline):
    model = GenerationImage
    extra = 0
    readonly_fields = ["index", "seed", "width", "height", "image", "thumbnail"]
    can_delete = False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "model",
        "kind",
        "status",
        "short_prompt",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "model", "created_at"]
    search_fields = ["prompt", "user__username", "=id"]
    raw_id_fields = ["user", "source_image"]
    readonly_fields = [
        "status",
        "credits_charged",
        "created_at",
        "started_at",
        "finished_at",
        "progress_step",
        "idempotency_key",
    ]
    inlines = [GenerationImageInline]
    actions = ["cancel"]

    @admin.action(description="Cancel and refund", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Generation]) -> None:
        canceled = 0
        for generation in queryset.select_related("user"):
            try:
                generation_cancel(user=generation.user, generation_id=generation.id)
                canceled += 1
            except DomainError as error:
                self.message_user(request, f"{generation.id}: {error.message}", messages.WARNING)
        self.message_user(request, f"Cancelled and refunded {canceled} generation(s).")

    @admin.display(description="prompt")
    def short_prompt(self, generation: Generation) -> str:
        return generation.prompt[:60]
