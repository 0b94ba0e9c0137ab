from django.contrib import admin

from generation.models import DiffusionModel, Generation, GenerationImage


@admin.register(DiffusionModel)
class DiffusionModelAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "source", "enabled", "is_demo", "credits_per_image"]
    list_filter = ["enabled", "is_demo"]
    search_fields = ["name", "slug", "source"]
    prepopulated_fields = {"slug": ["name"]}


class GenerationImageInline(admin.TabularInline):
    model = GenerationImage
    extra = 0
    readonly_fields = ["index", "seed", "width", "height", "image", "thumbnail"]
    can_delete = False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "model", "status", "short_prompt", "created_at", "finished_at"]
    list_filter = ["status", "model"]
    search_fields = ["prompt", "user__username", "=id"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "started_at", "finished_at", "progress_step"]
    inlines = [GenerationImageInline]

    @admin.display(description="prompt")
    def short_prompt(self, generation: Generation) -> str:
        return generation.prompt[:60]
