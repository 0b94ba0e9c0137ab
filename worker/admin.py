"""Worker pools in the admin: what each serves, where its workers run, and its limits."""

from typing import Any

from django import forms
from django.contrib import admin

from worker.autoscaler.backends import backend_class
from worker.models import WorkerPool


class WorkerPoolForm(forms.ModelForm):
    class Meta:
        model = WorkerPool
        fields = [
            "name",
            "enabled",
            "diffusion_models",
            "backend",
            "backend_settings",
            "min_workers",
            "max_workers",
            "idle_seconds",
            "cold_start_seconds",
            "target_wait_seconds",
            "gather_seconds",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_workers"), cleaned.get("max_workers")
        if low is not None and high is not None and low > high:
            self.add_error("min_workers", "The minimum cannot be above the maximum.")
        kind, settings = cleaned.get("backend"), cleaned.get("backend_settings")
        if kind and isinstance(settings, dict):
            for problem in backend_class(kind).settings_problems(settings):
                self.add_error("backend_settings", problem)
        elif settings is not None and not isinstance(settings, dict):
            self.add_error("backend_settings", 'Give an object, e.g. {"namespace": "gpu"}.')
        return cleaned


@admin.register(WorkerPool)
class WorkerPoolAdmin(admin.ModelAdmin):
    form = WorkerPoolForm
    list_display = ["name", "backend", "enabled", "min_workers", "max_workers", "idle_seconds"]
    list_filter = ["backend", "enabled"]
    filter_horizontal = ["diffusion_models"]
