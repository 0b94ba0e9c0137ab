"""/imagine, /credits, the Reroll button and model suggestions, as Discord sends them: who is
charged, what is queued, and the answers only the asker sees."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from nacl.signing import SigningKey
from pytest_django.fixtures import Settings

from accounts.models import Profile
from billing.models import CreditEntry
from billing.selectors import balance_for
from discordbot.models import DiscordMessage
from discordbot.replies import EPHEMERAL
from discordbot.tests.conftest import CHANNEL_ID, answer_data, button, command, signed_post
from generation.models import DiffusionModel, Generation
from testing.generations import generation_finish_with_images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("discord_settings")]


def _account(discord_user_id: str) -> User:
    return Profile.objects.select_related("user").get(discord_user_id=discord_user_id).user


def _ephemeral(response: object) -> str:
    document = answer_data(response)
    assert document["type"] == 4
    assert document["data"]["flags"] == EPHEMERAL
    return str(document["data"]["content"])


def test_imagine_queues_a_generation_for_an_account_made_on_first_use(
    signing_key: SigningKey, tiny_model: DiffusionModel, settings: Settings
) -> None:
    interaction = command("imagine", prompt="a red fox in snow", count=2, steps=6, seed=42)

    assert answer_data(signed_post(Client(), signing_key, interaction)) == {"type": 5}

    carol = _account("700000000000000001")
    generation = Generation.objects.get(user=carol)
    assert (generation.prompt, generation.count, generation.steps, generation.seed) == (
        "a red fox in snow",
        2,
        6,
        42,
    )
    assert generation.origin == Generation.Origin.DISCORD
    assert (generation.width, generation.height) == (64, 64)
    assert balance_for(carol) == settings.SIGNUP_CREDITS - 2
    message = DiscordMessage.objects.get(generation=generation)
    assert (message.interaction_token, message.channel_id) == (interaction["token"], CHANNEL_ID)


def test_the_same_interaction_delivered_twice_is_charged_once(
    signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    interaction = command("imagine", prompt="a red fox")

    signed_post(Client(), signing_key, interaction)
    signed_post(Client(), signing_key, interaction)

    carol = _account("700000000000000001")
    assert Generation.objects.filter(user=carol).count() == 1
    assert (
        CreditEntry.objects.filter(user=carol, kind=CreditEntry.Kind.GENERATION_DEBIT).count() == 1
    )


@pytest.mark.parametrize(
    ("aspect", "size"), [("square", (64, 64)), ("portrait", (64, 80)), ("landscape", (80, 64))]
)
def test_aspect_gives_the_model_s_sizes(
    signing_key: SigningKey, tiny_model: DiffusionModel, aspect: str, size: tuple[int, int]
) -> None:
    signed_post(Client(), signing_key, command("imagine", prompt="a tower", aspect=aspect))

    generation = Generation.objects.get()
    assert (generation.width, generation.height) == size


def test_not_enough_credits_is_said_privately_with_the_billing_link_and_nothing_is_queued(
    signing_key: SigningKey, tiny_model: DiffusionModel, settings: Settings
) -> None:
    settings.SIGNUP_CREDITS = 1

    text = _ephemeral(signed_post(Client(), signing_key, command("imagine", prompt="x", count=3)))

    assert "This needs 3 credits; you have 1." in text
    assert "https://images.example.com/billing/" in text
    assert not Generation.objects.exists()
    assert balance_for(_account("700000000000000001")) == 1


def test_a_request_the_model_cannot_run_is_said_privately(
    signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    text = _ephemeral(signed_post(Client(), signing_key, command("imagine", prompt="x", steps=500)))

    assert text == "Steps must be between 1 and 50."
    assert not Generation.objects.exists()


def test_an_unknown_model_is_said_privately(
    signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    text = _ephemeral(
        signed_post(Client(), signing_key, command("imagine", prompt="x", model="nope"))
    )

    assert text == "Unknown model 'nope'."


def test_the_submit_rate_limit_is_said_privately(
    signing_key: SigningKey, tiny_model: DiffusionModel, settings: Settings
) -> None:
    settings.SUBMISSIONS_PER_MINUTE = 1
    signed_post(Client(), signing_key, command("imagine", prompt="one"))

    text = _ephemeral(signed_post(Client(), signing_key, command("imagine", prompt="two")))

    assert "at most 1 generations a minute" in text
    assert Generation.objects.count() == 1


def test_credits_shows_the_balance_privately(signing_key: SigningKey, settings: Settings) -> None:
    text = _ephemeral(signed_post(Client(), signing_key, command("credits")))

    assert text.startswith(f"You have {settings.SIGNUP_CREDITS} credits.")


def test_reroll_pressed_by_someone_else_charges_them_with_a_new_seed(
    signing_key: SigningKey, tiny_model: DiffusionModel, settings: Settings
) -> None:
    signed_post(Client(), signing_key, command("imagine", prompt="a lantern", count=2, seed=7))
    first = Generation.objects.get()

    pressed = button(f"reroll:{first.id}", user_id="700000000000000002", username="dave")
    assert answer_data(signed_post(Client(), signing_key, pressed)) == {"type": 5}

    dave = _account("700000000000000002")
    again = Generation.objects.get(user=dave)
    assert (again.prompt, again.count, again.steps) == ("a lantern", 2, first.steps)
    assert again.seed != 7
    assert balance_for(dave) == settings.SIGNUP_CREDITS - 2
    assert balance_for(first.user) == settings.SIGNUP_CREDITS - 2
    assert DiscordMessage.objects.get(generation=again).interaction_token == pressed["token"]


def test_reroll_of_a_deleted_generation_is_said_privately(signing_key: SigningKey) -> None:
    text = _ephemeral(
        signed_post(Client(), signing_key, button("reroll:6f1c2f5e-0000-4000-8000-000000000000"))
    )

    assert "deleted" in text
    assert not Generation.objects.exists()


def test_the_model_option_suggests_enabled_models_matching_what_is_typed(
    signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    DiffusionModel.objects.create(slug="photo-xl", name="Photo XL", source="x", credits_per_image=3)
    DiffusionModel.objects.create(slug="off", name="Old one", source="x", enabled=False)
    typing = command("imagine", prompt="x")
    typing["type"] = 4
    typing["data"]["options"] = [{"name": "model", "value": "pho", "focused": True}]

    document = answer_data(signed_post(Client(), signing_key, typing))

    assert document == {
        "type": 8,
        "data": {"choices": [{"name": "Photo XL (3 credits an image)", "value": "photo-xl"}]},
    }


def test_a_model_suggestion_at_one_credit_says_credit(
    signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    typing = command("imagine", prompt="x")
    typing["type"] = 4
    typing["data"]["options"] = [{"name": "model", "value": "tiny", "focused": True}]

    document = answer_data(signed_post(Client(), signing_key, typing))

    assert document["data"]["choices"] == [
        {"name": "Tiny demo (1 credit an image)", "value": "tiny-demo"}
    ]


def test_a_variations_button_pressed_by_someone_else_charges_them_at_the_image_price(
    signing_key: SigningKey, tiny_model: DiffusionModel, settings: Settings
) -> None:
    DiffusionModel.objects.filter(id=tiny_model.id).update(credits_per_image_to_image=2)
    signed_post(Client(), signing_key, command("imagine", prompt="a lantern", count=2))
    first = Generation.objects.get()
    generation_finish_with_images(first)

    pressed = button(f"variations:{first.id}:1", user_id="700000000000000002", username="dave")
    assert answer_data(signed_post(Client(), signing_key, pressed)) == {"type": 5}

    dave = _account("700000000000000002")
    made = Generation.objects.get(user=dave)
    assert (made.kind, made.count, made.prompt) == (Generation.Kind.VARIATIONS, 4, "a lantern")
    assert made.source_image == first.images.get(index=1)
    assert balance_for(dave) == settings.SIGNUP_CREDITS - 8
    assert DiscordMessage.objects.get(generation=made).interaction_token == pressed["token"]


def _variations_posted(signing_key: SigningKey) -> Generation:
    """Carol's two images posted, then Dave's variations of the second."""
    signed_post(Client(), signing_key, command("imagine", prompt="a lantern", count=2))
    first = Generation.objects.get()
    generation_finish_with_images(first)
    pressed = button(f"variations:{first.id}:1", user_id="700000000000000002", username="dave")
    signed_post(Client(), signing_key, pressed)
    made = Generation.objects.get(kind=Generation.Kind.VARIATIONS)
    generation_finish_with_images(made)
    return made


def test_reroll_of_variations_makes_variations_of_the_same_image_with_a_new_seed(
    signing_key: SigningKey, tiny_model: DiffusionModel, settings: Settings
) -> None:
    DiffusionModel.objects.filter(id=tiny_model.id).update(credits_per_image_to_image=2)
    made = _variations_posted(signing_key)

    pressed = button(f"reroll:{made.id}", user_id="700000000000000003", username="erin")
    assert answer_data(signed_post(Client(), signing_key, pressed)) == {"type": 5}

    erin = _account("700000000000000003")
    again = Generation.objects.get(user=erin)
    assert (again.kind, again.count, again.prompt) == (Generation.Kind.VARIATIONS, 4, "a lantern")
    assert again.source_image == made.source_image
    assert again.seed != made.seed
    assert balance_for(erin) == settings.SIGNUP_CREDITS - 8
    assert DiscordMessage.objects.get(generation=again).interaction_token == pressed["token"]


def test_reroll_of_variations_whose_image_was_deleted_is_said_privately(
    signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    made = _variations_posted(signing_key)
    Generation.objects.filter(kind=Generation.Kind.TEXT).delete()

    text = _ephemeral(signed_post(Client(), signing_key, button(f"reroll:{made.id}")))

    assert text == "The image these were made from is gone: it was deleted on the site."
    assert Generation.objects.count() == 1
