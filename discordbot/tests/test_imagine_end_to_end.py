"""/imagine through every real part: the signed endpoint, the queue, a GPU worker process on
the tiny model, and the notifier process editing the reply in Discord's stand-in, from its
place in line through progress to the PNG with its buttons."""

import io
import itertools
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from nacl.signing import SigningKey
from PIL import Image
from pytest_django.fixtures import Settings

from accounts.discord_links import discord_account_for
from billing.models import CreditEntry
from billing.selectors import balance_for
from discordbot.models import DiscordMessage
from discordbot.tests.conftest import APPLICATION_ID, command, signed_post
from generation.models import DiffusionModel, Generation
from testing.discord_api import DiscordStandIn
from testing.events import EventRecorder
from testing.processes import RunningProcess, gpu_worker_start, process_environment

# Enough steps that sampling outlasts several of the notifier's edit intervals even on a fast,
# idle CPU (the tiny model does about 50 steps a second there: 2 s), so a progress edit is
# always seen; few enough that a loaded machine still finishes well within the wait below.
STEPS = 100


def notifier_start(log_path: Path, discord_api: DiscordStandIn) -> RunningProcess:
    notifier = RunningProcess(
        [sys.executable, "manage.py", "discord_notify", "--round-seconds", "0.2"],
        log_path=log_path,
        env=process_environment(
            DISCORD_APPLICATION_ID=APPLICATION_ID,
            DISCORD_API_BASE=discord_api.url,
            DISCORD_EDIT_SECONDS="0.5",
            SITE_URL="https://images.example.com",
        ),
    )
    notifier.wait_for_output("Discord notifier started")
    return notifier


@pytest.mark.usefixtures("transactional_db")
def test_imagine_edits_the_reply_from_its_place_in_line_to_the_png(
    discord_settings: Settings,
    signing_key: SigningKey,
    discord_api: DiscordStandIn,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    tmp_path: Path,
) -> None:
    DiffusionModel.objects.filter(id=tiny_model.id).update(max_steps=STEPS)
    carol, _ = discord_account_for(discord_user_id="700000000000000001", discord_username="carol")
    events = EventRecorder(carol.pk)
    notifier = notifier_start(tmp_path / "notifier.log", discord_api)
    worker = None
    try:
        interaction = command("imagine", prompt="a harbour at dusk", aspect="portrait", steps=STEPS)
        asked = time.monotonic()
        assert signed_post(Client(), signing_key, interaction).json() == {"type": 5}
        # Discord gives up on an answer after 3 s; this one never waits on the GPU.
        assert time.monotonic() - asked < 3
        token = interaction["token"]
        # No GPU is up yet: the reply says where it stands in line.
        discord_api.wait_for(lambda: any("in line" in e.content for e in discord_api.edits(token)))

        worker = gpu_worker_start(tmp_path / "worker.log")
        discord_api.wait_for(lambda: any(e.files for e in discord_api.edits(token)), timeout=120)
    finally:
        for process in (notifier, worker):
            if process is not None:
                process.stop()
        events.close()

    edits = discord_api.edits(token)
    lines = [edit.content.split("\n")[-1] for edit in edits[:-1]]
    assert lines[0] == "#1 in line: waiting for a GPU"
    assert any(line.startswith("Making the image: step ") for line in lines), lines
    result = edits[-1]
    assert len(result.files) == 1
    assert Image.open(io.BytesIO(result.files[0][1])).size == (64, 80)
    labels = [
        [button["label"] for button in row["components"]] for row in result.payload["components"]
    ]
    assert labels == [["Reroll", "Open"], ["V1"]]
    # At most one edit every DISCORD_EDIT_SECONDS while waiting and running.
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(edits[:-1])]
    assert all(gap >= 0.45 for gap in gaps), gaps

    generation = Generation.objects.get()
    assert (generation.user, generation.status) == (carol, Generation.Status.SUCCEEDED)
    assert DiscordMessage.objects.get().outcome == DiscordMessage.Outcome.DELIVERED
    debits = CreditEntry.objects.filter(user=carol, kind=CreditEntry.Kind.GENERATION_DEBIT)
    assert [entry.amount for entry in debits] == [-1]
    assert balance_for(carol) == discord_settings.SIGNUP_CREDITS - 1
    # The account's pages show it too, live and in the gallery.
    assert {event["status"] for event in events.of(str(generation.id))} >= {"queued", "succeeded"}
    client = Client()
    client.force_login(carol)
    gallery = client.get("/gallery/").content.decode()
    assert "a harbour at dusk" in gallery
    assert "from Discord" in gallery
