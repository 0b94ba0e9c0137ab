"""The model registry: the diffusion pipelines workers can load."""

from typing import Any

from generation.models import DiffusionModel


def diffusion_model_register(*, slug: str, name: str, source: str, **fields: Any) -> DiffusionModel:
    """Add a model to the registry, or update the one with this slug."""
    model, _ = DiffusionModel.objects.update_or_create(
        slug=slug, defaults={"name": name, "source": source, **fields}
    )
    return model
