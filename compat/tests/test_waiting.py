"""The compatible APIs answer once the images are done, waiting on the live server's event loop:
many waits at once leave the servers answering, a wait that runs out says where the images
will be and leaves the generation going, as does a client that hangs up, and the HTTP server
(one request at a time per process) sends such requests to the live server."""

import statistics
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from django.contrib.auth.models import User

from billing.models import CreditEntry
from billing.services.credits import credits_grant
from generation.models import DiffusionModel, Generation
from testing.processes import (
    RunningProcess,
    SiteURL,
    gpu_worker_start,
    site_start,
    web_server_start,
)

CONCURRENT = 20


@pytest.mark.usefixtures("transactional_db", "tiny_model", "tiny_model_folder")
def test_twenty_requests_wait_at_once_while_both_servers_answer_promptly(
    user: User, api_key: str, tmp_path: Path
) -> None:
    limits = {"SUBMISSIONS_PER_MINUTE": "100", "MAX_ACTIVE_GENERATIONS": "100"}
    credits_grant(
        user=user, amount=CONCURRENT, kind=CreditEntry.Kind.STAFF_ADJUSTMENT, reference="t"
    )
    processes, site = site_start(tmp_path, env=limits)
    client = openai.OpenAI(
        base_url=f"{site.live_url}/v1", api_key=api_key, max_retries=0, timeout=300
    )
    answers: list[object] = []
    worker: RunningProcess | None = None
    try:
        requests = [
            threading.Thread(target=_generate_into, args=(client, answers), daemon=True)
            for _ in range(CONCURRENT)
        ]
        for request in requests:
            request.start()
        _wait_for(lambda: Generation.objects.count() == CONCURRENT)
        # Every request is waiting now, for a GPU that has not started yet.
        live_health = [_healthz_seconds(site.live_url) for _ in range(10)]
        web_health = [_healthz_seconds(site) for _ in range(10)]
        worker = gpu_worker_start(tmp_path / "worker.log")
        for request in requests:
            request.join(timeout=300)
    finally:
        for process in [*processes, *([worker] if worker else [])]:
            process.stop()
    assert len(answers) == CONCURRENT
    assert all(isinstance(answer, openai.types.ImagesResponse) for answer in answers), answers
    assert Generation.objects.filter(status=Generation.Status.SUCCEEDED).count() == CONCURRENT
    assert statistics.median(live_health) < 0.2, live_health
    assert statistics.median(web_health) < 0.2, web_health


def _generate_into(client: openai.OpenAI, answers: list[object]) -> None:
    try:
        answers.append(client.images.generate(prompt="a paper boat", size="64x64"))
    except openai.APIError as error:
        answers.append(error)


def _healthz_seconds(url: str) -> float:
    started = time.monotonic()
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    return time.monotonic() - started


def _wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.usefixtures("transactional_db")
def test_a_wait_that_runs_out_or_a_client_that_hangs_up_leaves_the_generation_going(
    tiny_model: DiffusionModel, user: User, api_key: str, tmp_path: Path
) -> None:
    live, url = web_server_start(tmp_path / "live.log", env={"COMPAT_WAIT_SECONDS": "2"})
    try:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=api_key, max_retries=0)
        with pytest.raises(openai.APIStatusError) as waited:
            client.images.generate(prompt="a slow boat", size="64x64")
        # A client that gives up before the answer comes.
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{url}/sdapi/v1/txt2img",
                json={"prompt": "a slower boat", "width": 64, "height": 64},
                auth=("alice", api_key),
                timeout=0.5,
            )
        time.sleep(1)
    finally:
        live.stop()
    assert waited.value.status_code == 504
    assert waited.value.response.headers["x-should-retry"] == "false"
    first, second = Generation.objects.order_by("created_at")
    assert f"/gallery/{first.id}/" in waited.value.message
    # Both wait in line for a GPU, charged once each, as if asked for on the site.
    assert [g.status for g in (first, second)] == ["queued", "queued"]
    assert [g.credits_charged for g in (first, second)] == [tiny_model.credits_per_image] * 2


@pytest.mark.usefixtures("transactional_db", "tiny_model")
def test_the_http_server_sends_waiting_requests_to_the_live_server(
    web_server: SiteURL, user: User, api_key: str
) -> None:
    refused = httpx.post(
        f"{web_server}/v1/images/generations",
        json={"prompt": "a kite"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert refused.status_code == 421
    assert web_server.live_url in refused.json()["error"]["message"]
    assert not Generation.objects.exists()
    # What answers at once is served there too.
    models = httpx.get(f"{web_server}/v1/models", headers={"Authorization": f"Bearer {api_key}"})
    assert [model["id"] for model in models.json()["data"]] == ["tiny-demo"]
