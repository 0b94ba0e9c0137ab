"""Time from a Discord user's /imagine to the edit that puts the PNG in their message, on a
private site (one GPU worker on the tiny model, the `discord` notifier process), with
Discord's API played by the tests' loopback stand-in. The interactions endpoint runs in this
process, exactly as the web process runs it.

Side by side in the same runs: the generation's own time in the site (submitted -> succeeded,
from the database), so that what delivering to Discord adds is the difference.
"""

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django
from nacl.signing import SigningKey

from testing.discord_api import DiscordStandIn, Request

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
APPLICATION_ID = "900000000000000001"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rollerai-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    key = SigningKey.generate()
    stand_in = DiscordStandIn().start()
    os.environ.update(
        SIGNUP_CREDITS="1000",
        SUBMISSIONS_PER_MINUTE="1000",
        DISCORD_APPLICATION_ID=APPLICATION_ID,
        DISCORD_PUBLIC_KEY=key.verify_key.encode().hex(),
        DISCORD_API_BASE=stand_in.url,
    )
    django.setup()
    from django.core.management import call_command

    from testing.processes import RunningProcess, gpu_worker_start, process_environment

    call_command("migrate", verbosity=0)
    call_command("create_tiny_model", verbosity=0)
    worker = gpu_worker_start(workdir / "worker.log")
    notifier = RunningProcess(
        [sys.executable, "manage.py", "discord_notify"],
        log_path=workdir / "notifier.log",
        env=process_environment(),
    )
    notifier.wait_for_output("Discord notifier started")
    try:
        to_edit, in_site = _runs(key, stand_in)
    finally:
        for process in (notifier, worker):
            process.stop()
        stand_in.stop()
        test_environment_stop()
    _report(to_edit, in_site)


def _runs(key: SigningKey, stand_in: DiscordStandIn) -> tuple[list[float], list[float]]:
    from django.test import Client

    from generation.models import Generation

    to_edit, in_site = [], []
    # One warm-up run loads the pipeline; it is not counted.
    for run in range(RUNS + 1):
        token = f"bench-token-{run}"
        body = json.dumps(_imagine(run, token)).encode()
        timestamp = str(int(time.time()))
        signature = key.sign(timestamp.encode() + body).signature.hex()
        started = time.monotonic()
        response = Client(SERVER_NAME="localhost").post(
            "/discord/interactions/",
            data=body,
            content_type="application/json",
            headers={"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp},
        )
        assert response.json() == {"type": 5}, response.content
        result = _result_edit(stand_in, token)
        if run:
            to_edit.append(result.at - started)
            generation = Generation.objects.get(discord_message__interaction_token=token)
            assert generation.finished_at is not None
            in_site.append((generation.finished_at - generation.created_at).total_seconds())
    return to_edit, in_site


def _result_edit(stand_in: DiscordStandIn, token: str) -> Request:
    stand_in.wait_for(lambda: any(edit.files for edit in stand_in.edits(token)), timeout=120)
    return next(edit for edit in stand_in.edits(token) if edit.files)


def _imagine(run: int, token: str) -> dict[str, object]:
    return {
        "id": f"80000000000001{run:04d}",
        "application_id": APPLICATION_ID,
        "type": 2,
        "token": token,
        "channel_id": "900000000000000002",
        "member": {"user": {"id": "700000000000000001", "username": "bench"}},
        "data": {"name": "imagine", "options": [{"name": "prompt", "value": "a harbour"}]},
    }


def _report(to_edit: list[float], in_site: list[float]) -> None:
    from bench.records import record_append

    overhead = [edit - site for edit, site in zip(to_edit, in_site, strict=True)]
    figures = {
        "runs": RUNS,
        "interaction_to_result_edit_median_s": round(statistics.median(to_edit), 3),
        "submitted_to_succeeded_median_s": round(statistics.median(in_site), 3),
        "delivery_overhead_median_s": round(statistics.median(overhead), 3),
        "interaction_to_result_edit_s": [round(value, 3) for value in to_edit],
    }
    print(f"/imagine -> result edit, tiny model 64x64, 4 steps, {RUNS} runs after one warm-up:")
    for label, name in (
        ("interaction -> PNG edited in", "interaction_to_result_edit_median_s"),
        ("submitted -> succeeded (site)", "submitted_to_succeeded_median_s"),
        ("what delivery to Discord adds", "delivery_overhead_median_s"),
    ):
        print(f"  {label + ':':<32} median {figures[name]:.3f} s")
    print(f"  recorded in {record_append('discord_roundtrip', figures)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
