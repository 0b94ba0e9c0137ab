"""The notifier's rounds against the Discord stand-in: what a message shows at each moment of
its generation, and what happens when Discord rate-limits, fails, or the reply's 15 minutes
run out. Generations move through the same services a worker uses."""

import io
import logging
import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from nacl.signing import SigningKey
from PIL import Image
from pytest_django.fixtures import Settings

from billing.selectors import balance_for
from discordbot.models import DiscordMessage
from discordbot.notifier import Notifier
from discordbot.tests.conftest import APPLICATION_ID, CHANNEL_ID, command, signed_post
from generation.fleet import WorkerStatus, worker_heartbeat_write
from generation.models import DiffusionModel, Generation
from generation.services import generation_cancel, generation_fail, generation_start
from testing.discord_api import DiscordStandIn, Request
from testing.generations import generation_finish_with_images, generation_queued
from testing.pools import pool_reported

# Committed, so that a generation is really put in line (its place shows in the message).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("discord_settings", "tiny_model"),
]
Outcome = DiscordMessage.Outcome


def _imagine(key: SigningKey, **options: object) -> DiscordMessage:
    interaction = command("imagine", prompt="a *bold* lighthouse", **options)
    signed_post(Client(), key, interaction)
    message = DiscordMessage.objects.select_related("generation").get(
        interaction_id=interaction["id"]
    )
    # As if Discord had long made the reply's message.
    DiscordMessage.objects.filter(id=message.id).update(
        created_at=timezone.now() - timedelta(seconds=2)
    )
    message.refresh_from_db()
    return message


def _rounds(notifier: Notifier, until: object, *, limit: int = 200) -> None:
    for _ in range(limit):
        notifier.round()
        if until():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("the notifier never got there")


def _outcome(message: DiscordMessage) -> str:
    message.refresh_from_db()
    return message.outcome


def _answered(requests: list[Request]) -> list[Request]:
    return [request for request in requests if request.status == 200]


def test_a_queued_generation_shows_its_place_then_its_result(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    message = _imagine(signing_key, count=2, seed=5)
    notifier = Notifier()

    notifier.round()
    [waiting] = discord_api.edits(message.interaction_token)
    assert waiting.path == (
        f"/api/v10/webhooks/{APPLICATION_ID}/{message.interaction_token}/messages/@original"
    )
    assert waiting.content == "**a \\*bold\\* lighthouse**\n#1 in line: waiting for a GPU"
    assert waiting.payload["allowed_mentions"] == {"parse": []}

    generation_finish_with_images(message.generation)
    notifier.round()

    result = discord_api.edits(message.interaction_token)[-1]
    assert [name for name, _ in result.files] == ["rollerai-5.png", "rollerai-6.png"]
    assert Image.open(io.BytesIO(result.files[0][1])).size == (64, 64)
    embed = result.payload["embeds"][0]
    assert embed["title"] == "a *bold* lighthouse"
    assert {field["name"]: field["value"] for field in embed["fields"]} == {
        "Seed": "5-6",
        "Model": "Tiny demo",
        "Size": "64x64",
        "Steps": "4",
    }
    rows = [row["components"] for row in result.payload["components"]]
    page = f"https://images.example.com/discord/r/{message.link_token}/"
    made = message.generation_id
    assert rows == [
        [
            {"type": 2, "style": 1, "label": "Reroll", "custom_id": f"reroll:{made}"},
            {"type": 2, "style": 5, "label": "Open", "url": page},
        ],
        [
            {"type": 2, "style": 1, "label": "V1", "custom_id": f"variations:{made}:0"},
            {"type": 2, "style": 1, "label": "V2", "custom_id": f"variations:{made}:1"},
        ],
    ]
    assert _outcome(message) == Outcome.DELIVERED

    notifier.round()
    assert len(discord_api.edits(message.interaction_token)) == 2  # nothing more to say


def test_the_open_button_shows_the_result_to_anyone_without_putting_it_in_explore(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    message = _imagine(signing_key, count=2)
    generation_finish_with_images(message.generation)
    Notifier().round()
    [_, open_button] = discord_api.edits()[-1].payload["components"][0]["components"]

    # Someone else in the channel, not signed in.
    visitor = Client()
    page = visitor.get(open_button["url"].removeprefix("https://images.example.com"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "a *bold* lighthouse" in html
    images = re.findall(r'<img src="(/discord/r/[^"]+\.png)"', html)
    assert len(images) == 2
    for url, stored in zip(images, message.generation.images.order_by("index"), strict=True):
        image = visitor.get(url)
        assert image.status_code == 200
        with stored.image.open("rb") as file:
            assert b"".join(image.streaming_content) == file.read()
    assert not Generation.objects.get().is_public
    assert "lighthouse" not in visitor.get("/explore/").content.decode()
    assert visitor.get(f"/images/{message.generation_id}/0.png").status_code == 404
    assert visitor.get("/discord/r/not-a-link/").status_code == 404
    owner = Client()
    owner.force_login(message.generation.user)
    gallery_link = f'href="/gallery/{message.generation_id}/"'
    assert gallery_link in owner.get(open_button["url"]).content.decode()
    assert gallery_link not in html


def test_a_failed_generation_says_so_and_that_the_credits_came_back(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    message = _imagine(signing_key, count=3)

    generation_fail(generation_id=message.generation_id, error="The GPU ran out of memory.")
    Notifier().round()

    [edit] = discord_api.edits(message.interaction_token)
    assert edit.content.endswith(
        "This did not work: The GPU ran out of memory. Your 3 credits went back to your balance."
    )
    assert _outcome(message) == Outcome.DELIVERED


def test_a_cancelled_generation_says_so_and_that_the_credits_came_back(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    message = _imagine(signing_key, count=2)
    owner = message.generation.user
    charged = balance_for(owner)

    generation_cancel(user=owner, generation_id=message.generation_id)
    Notifier().round()

    [edit] = discord_api.edits(message.interaction_token)
    assert edit.content.endswith("Cancelled. Your 2 credits went back to your balance.")
    assert balance_for(owner) == charged + 2
    assert _outcome(message) == Outcome.DELIVERED


def _worker_heartbeat(seconds_per_image: float) -> None:
    """A live GPU worker serving the tiny model, as its heartbeat says."""
    worker_heartbeat_write(
        WorkerStatus(
            name="gpu-1",
            host="box",
            pid=1,
            device="cuda",
            models=["tiny-demo"],
            started_at=time.time(),
            seconds_per_image={"tiny-demo": seconds_per_image},
        )
    )


def test_a_waiting_generation_shows_its_place_and_how_long_until_it_is_done(
    signing_key: SigningKey, discord_api: DiscordStandIn, user: User, tiny_model: DiffusionModel
) -> None:
    _worker_heartbeat(seconds_per_image=4.0)
    generation_queued(user, tiny_model, count=2)  # someone else's, ahead in line
    message = _imagine(signing_key)

    Notifier().round()

    # Three images until it is done, at 4 s each on the one worker.
    [edit] = discord_api.edits(message.interaction_token)
    assert edit.content.split("\n")[1] == "#2 in line, about 12 s"


def test_while_a_gpu_starts_the_message_says_how_long_it_should_take(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    # The autoscaler asked for a GPU 15 s ago; one takes about 60 s to come up.
    pool_reported(starting=1, starting_since=time.time() - 15, desired=1)
    message = _imagine(signing_key)

    Notifier().round()

    [edit] = discord_api.edits(message.interaction_token)
    line = edit.content.split("\n")[1]
    assert re.fullmatch(r"#1 in line: starting a GPU, about 4[45] s", line), line


def test_a_message_discord_keeps_failing_on_holds_up_no_other(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    failing, other = _imagine(signing_key), _imagine(signing_key)
    for message in (failing, other):
        generation_finish_with_images(message.generation)
    broken = {"message": "Internal Server Error"}
    discord_api.answer(500, broken, times=100, path_contains=failing.interaction_token)

    _rounds(Notifier(), lambda: _outcome(failing) == Outcome.UNDELIVERABLE)

    tries = discord_api.edits(failing.interaction_token)
    assert [edit.status for edit in tries] == [500, 500, 500]
    [delivered] = discord_api.edits(other.interaction_token)
    assert delivered.status == 200
    assert len(delivered.files) == 1
    # Delivered at once, not after the failing one's tries and their backoff.
    assert delivered.at < tries[1].at
    assert _outcome(other) == Outcome.DELIVERED


def test_progress_is_edited_in_no_more_often_than_the_edit_interval(
    signing_key: SigningKey, discord_api: DiscordStandIn, settings: Settings
) -> None:
    settings.DISCORD_EDIT_SECONDS = 60
    message = _imagine(signing_key)
    notifier = Notifier()
    notifier.round()
    running = generation_start(generation_id=message.generation_id, worker_name="test-worker")
    assert running is not None

    for step in (1, 2, 3):
        Generation.objects.filter(id=running.id).update(progress_step=step)
        notifier.round()

    assert [edit.content.split("\n")[1] for edit in discord_api.edits()] == [
        "#1 in line: waiting for a GPU"
    ]
    settings.DISCORD_EDIT_SECONDS = 0
    notifier.round()
    assert discord_api.edits()[-1].content.endswith("Making the image: step 3 of 4")


def test_a_rate_limited_edit_is_sent_again_after_retry_after_and_lands_once(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    message = _imagine(signing_key)
    generation_finish_with_images(message.generation)
    discord_api.answer(
        429, {"message": "You are being rate limited.", "retry_after": 0.6, "global": False}
    )
    notifier = Notifier()

    _rounds(notifier, lambda: _outcome(message) == Outcome.DELIVERED)

    limited, landed = discord_api.edits(message.interaction_token)
    assert (limited.status, landed.status) == (429, 200)
    assert landed.at - limited.at >= 0.6
    assert len(landed.files) == 1
    assert len(_answered(discord_api.requests)) == 1


def test_a_result_discord_keeps_failing_on_is_logged_and_stays_on_the_site(
    signing_key: SigningKey,
    discord_api: DiscordStandIn,
    caplog: pytest.LogCaptureFixture,
    alice_client: Client,
) -> None:
    message = _imagine(signing_key)
    generation_finish_with_images(message.generation)
    discord_api.answer(500, {"message": "Internal Server Error"}, times=3)

    with caplog.at_level(logging.WARNING, logger="discordbot.notifier"):
        _rounds(Notifier(), lambda: _outcome(message) == Outcome.UNDELIVERABLE)

    assert [edit.status for edit in discord_api.edits()] == [500, 500, 500]
    assert "trying again in 0.2 s" in caplog.text
    assert "trying again in 0.4 s" in caplog.text
    assert f"Could not deliver generation {message.generation_id} to Discord (3 tries" in (
        caplog.text
    )
    assert message.interaction_token not in caplog.text  # tokens are never logged
    client = Client()
    client.force_login(message.generation.user)
    page = client.get(f"/gallery/{message.generation_id}/")
    assert page.status_code == 200
    assert Generation.objects.get().status == Generation.Status.SUCCEEDED


def test_after_fifteen_minutes_the_result_is_posted_in_the_channel_with_the_bot_token(
    signing_key: SigningKey, discord_api: DiscordStandIn, settings: Settings
) -> None:
    settings.DISCORD_BOT_TOKEN = "bot-token"
    message = _imagine(signing_key)
    notifier = Notifier()
    DiscordMessage.objects.filter(id=message.id).update(
        created_at=timezone.now() - timedelta(minutes=13, seconds=30)
    )
    notifier.round()
    [handover] = discord_api.edits()
    assert "the result will be a new message in this channel" in handover.content

    DiscordMessage.objects.filter(id=message.id).update(
        created_at=timezone.now() - timedelta(minutes=16), next_send_at=timezone.now()
    )
    generation_finish_with_images(message.generation)
    notifier.round()

    post = discord_api.requests[-1]
    assert (post.method, post.path) == ("POST", f"/api/v10/channels/{CHANNEL_ID}/messages")
    assert post.headers["Authorization"] == "Bot bot-token"
    assert post.content == f"<@{message.discord_user_id}>"
    assert post.payload["allowed_mentions"] == {"parse": [], "users": [message.discord_user_id]}
    assert len(post.files) == 1
    assert _outcome(message) == Outcome.POSTED


def test_without_a_bot_token_a_slow_result_is_pointed_to_on_the_site(
    signing_key: SigningKey, discord_api: DiscordStandIn
) -> None:
    message = _imagine(signing_key)
    DiscordMessage.objects.filter(id=message.id).update(
        created_at=timezone.now() - timedelta(minutes=13, seconds=30)
    )

    Notifier().round()

    [handover] = discord_api.edits()
    assert handover.content.endswith(
        f"find the result at https://images.example.com/discord/r/{message.link_token}/"
    )
    assert _outcome(message) == Outcome.POINTED
