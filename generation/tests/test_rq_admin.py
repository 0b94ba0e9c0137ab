"""/admin/rq/ shows every model's queues with the workers serving them and the jobs waiting in
them, not only the `default` queue named in the settings."""

import re
import time
from pathlib import Path

from django.contrib.auth.models import User
from django.test import Client

from generation.models import DiffusionModel
from testing.generations import generation_queued
from testing.processes import gpu_worker_start

NAME, QUEUED, WORKERS = 0, 1, 7


def queue_rows(client: Client) -> dict[str, tuple[list[str], str]]:
    """The queues table as staff read it: queue name -> (its cells, the link to its jobs)."""
    page = client.get("/admin/rq/").content.decode()
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        texts = [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
        links = re.findall(r'href="([^"]+)"', cells[QUEUED])
        rows[texts[NAME]] = (texts, links[0] if links else "")
    return rows


def test_every_models_queues_are_listed_with_the_jobs_waiting_in_them(
    db: None, tiny_model: DiffusionModel, user: User, admin_client: Client
) -> None:
    DiffusionModel.objects.create(
        slug="second-model", name="Second model", source="tiny-sd", enabled=False
    )
    generation = generation_queued(user, tiny_model)

    rows = queue_rows(admin_client)

    assert {
        "default",
        "model-tiny-demo",
        "model-tiny-demo-high",
        "model-second-model",
        "model-second-model-high",
    } <= set(rows)
    cells, jobs_link = rows["model-tiny-demo"]
    assert cells[QUEUED] == "1"
    assert rows["model-tiny-demo-high"][0][QUEUED] == "0"
    assert str(generation.id) in admin_client.get(jobs_link).content.decode()


def test_a_running_gpu_worker_is_counted_on_its_models_queues(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    admin_client: Client,
    tmp_path: Path,
) -> None:
    worker = gpu_worker_start(tmp_path / "worker.log", "--name", "gpu-rq-1")
    try:
        deadline = time.monotonic() + 60
        rows = queue_rows(admin_client)
        while rows["model-tiny-demo"][0][WORKERS] != "1" and time.monotonic() < deadline:
            time.sleep(0.3)
            rows = queue_rows(admin_client)
        assert rows["model-tiny-demo"][0][WORKERS] == "1"
        assert rows["model-tiny-demo-high"][0][WORKERS] == "1"
        assert rows["default"][0][WORKERS] == "0"
    finally:
        worker.stop()


def test_the_queue_pages_are_for_staff_only(db: None, alice_client: Client) -> None:
    response = alice_client.get("/admin/rq/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
