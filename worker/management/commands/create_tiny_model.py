"""`manage.py create_tiny_model`: build the offline demo model and register it (DESIGN.md 6)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from generation.services import diffusion_model_register

FOLDER = "tiny-sd"
SLUG = "tiny-demo"


class Command(BaseCommand):
    help = (
        "Build a tiny Stable Diffusion pipeline with random weights (no download), save it under "
        "MODELS_DIR and register it as an enabled model. Its images are noise: it exists so the "
        "whole site can run without real weights."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Rebuild even if it exists.")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(settings.MODELS_DIR) / FOLDER
        if options["force"] or not (folder / "model_index.json").exists():
            # Imported here: building needs torch, which only worker machines install.
            from worker.tiny_model import tiny_pipeline_save

            tiny_pipeline_save(folder=folder)
            self.stdout.write(f"Built the tiny model in {folder}")
        model = diffusion_model_register(
            slug=SLUG,
            name="Tiny demo",
            source=FOLDER,
            description="Random weights built locally: it makes noise, quickly. For trying it out.",
            is_demo=True,
            enabled=True,
            default_width=256,
            default_height=256,
            max_width=512,
            max_height=512,
            default_steps=20,
            max_steps=50,
        )
        self.stdout.write(f"Registered model '{model.slug}' ({model.name})")
