"""Telling owners where their waiting generations stand: the one place that publishes positions
and ETAs, when a generation joins the line and whenever the line moves."""

from generation.events import generation_event_publish
from generation.models import DiffusionModel, Generation
from generation.standing import arrival_standing, model_standings

# Live position updates go to the first ones in line; those further back read theirs from the
# API or get it once they move up.
PUBLISHED_PLACES = 50


def arrival_announce(generation: Generation) -> None:
    """Tell the owner of a generation about to join the line where it will stand."""
    generation_event_publish(generation, **arrival_standing(generation).event_fields())


def standings_publish(model: DiffusionModel) -> None:
    """Tell the owners of waiting generations where they stand now (after some left the line).

    Each event carries the revision read with its row, so one that arrives after the generation
    has moved on is recognised as stale.
    """
    standings = model_standings(model, limit=PUBLISHED_PLACES)
    generations = Generation.objects.filter(id__in=list(standings), status=Generation.Status.QUEUED)
    for generation in generations:
        generation_event_publish(generation, **standings[str(generation.id)].event_fields())
