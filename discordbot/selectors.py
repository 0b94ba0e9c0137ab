"""Reads of what the bot posted: the result behind an Open button's link."""

from generation.models import Generation, GenerationImage
from rollerai.exceptions import NotFound


def discord_result(*, link_token: str) -> Generation:
    """The succeeded generation whose Discord message has this link; one deleted on the site,
    or not made yet, is missing like an unknown one."""
    generation = (
        Generation.objects.select_related("model")
        .prefetch_related("images")
        .filter(discord_message__link_token=link_token, status=Generation.Status.SUCCEEDED)
        .first()
    )
    if generation is None:
        raise NotFound("No such image.")
    return generation


def discord_result_image(*, link_token: str, index: int) -> GenerationImage:
    image = (
        GenerationImage.objects.filter(
            generation__discord_message__link_token=link_token,
            generation__status=Generation.Status.SUCCEEDED,
            index=index,
        )
        .select_related("generation")
        .first()
    )
    if image is None:
        raise NotFound("No such image.")
    return image
