"""`manage.py create_tiny_model`: build the offline demo model and register it (DESIGN.md 6);
with `--size sd15`, a random-weight model of Stable Diffusion 1.5's full size, for benchmarks."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from generation.models import DiffusionModel
from generation.services import diffusion_model_register


@dataclass(frozen=True)
class RandomModel:
    folder: str
    slug: str
    name: str
    fields: dict[str, Any]


MODELS = {
    "tiny": RandomModel(
        folder="tiny-sd",
        slug="tiny-demo",
        name="Tiny demo",
        fields={
            "description": (
                "Random weights built locally: it makes noise, quickly. For trying it out."
            ),
            "default_width": 256,
            "default_height": 256,
            "max_width": 512,
            "max_height": 512,
            "default_steps": 20,
            "max_steps": 50,
        },
    ),
    "sd15": RandomModel(
        folder="sd15-random",
        slug="sd15-random",
        name="SD 1.5 size, random weights",
        fields={
            "description": (
                "Stable Diffusion 1.5's full architecture with random weights built locally: "
                "it makes noise at the speed of the real model. For measuring GPU workers."
            ),
            "default_width": 512,
            "default_height": 512,
            "max_width": 1024,
            "max_height": 1024,
            "default_steps": 25,
            "max_steps": 150,
        },
    ),
}


class Command(BaseCommand):
    help = (
        "Build a Stable Diffusion pipeline with random weights (no download), save it under "
        "MODELS_DIR and register it as an enabled model. Its images are noise: the tiny one "
        "exists so the whole site can run without real weights, the sd15 one (Stable Diffusion "
        "1.5's full size, about 2 GB) to measure GPU workers at the real model's cost."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Rebuild even if it exists.")
        parser.add_argument(
            "--size",
            choices=sorted(MODELS),
            default="tiny",
            help="tiny (default; seconds to build, fast on a CPU) or sd15 (full SD 1.5 size).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["size"]
        spec = MODELS[size]
        folder = Path(settings.MODELS_DIR) / spec.folder
        if options["force"] or not (folder / "model_index.json").exists():
            # Imported here: building needs torch, which only worker machines install.
            from worker.tiny_model import ARCHITECTURES, random_pipeline_save

            random_pipeline_save(folder=folder, architecture=ARCHITECTURES[size])
            self.stdout.write(f"Built the {size} model in {folder}")
        model = self._register(spec)
        self.stdout.write(f"Registered model '{model.slug}' ({model.name})")

    def _register(self, spec: RandomModel) -> DiffusionModel:
        return diffusion_model_register(
            slug=spec.slug,
            name=spec.name,
            source=spec.folder,
            is_demo=True,
            enabled=True,
            **spec.fields,
        )
