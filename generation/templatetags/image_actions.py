"""What the image actions under a finished image (templates/generation/_image_actions.html) may
offer, by the rules the API applies to them."""

from django import template

from generation.models import GenerationImage
from generation.validation import image_upscalable

register = template.Library()


@register.filter
def upscalable(image: GenerationImage) -> bool:
    """An image at its model's largest size has no "Upscale x2": the API would refuse it."""
    return image_upscalable(image)
