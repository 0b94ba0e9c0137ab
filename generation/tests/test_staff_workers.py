"""Staff see the live GPU workers (from their heartbeats); nobody else does."""

import html
import re
import time
from pathlib import Path

from django.test import Client

from generation.fleet import (
    WorkerStatus,
    pool_report_write,
    worker_heartbeat_remove,
    worker_heartbeat_write,
)
from generation.models import DiffusionModel
from testing.pools import pool_reported
from testing.processes import gpu_worker_start

COLUMNS = [
    "Name",
    "Pool",
    "Host / pid",
    "Device",
    "Torch threads",
    "Serves",
    "Loaded",
    "Running now",
    "Jobs done",
    "Largest batch",
    "Seconds per image",
    "Up since",
]


def worker_rows(client: Client) -> list[dict[str, str]]:
    """The workers table as staff read it: one dict of column -> cell text per worker."""
    page = client.get("/admin/workers/").content.decode()
    table = re.search(r'<table id="workers">(.*?)</table>', page, re.S)
    if table is None:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1).split("<tbody>")[1], re.S)
    return [
        dict(zip(COLUMNS, map(html.unescape, re.findall(r"<td>(.*?)</td>", row)), strict=True))
        for row in rows
    ]


def test_staff_see_a_real_worker_process_by_its_name_device_and_models(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    admin_client: Client,
    tmp_path: Path,
) -> None:
    worker = gpu_worker_start(tmp_path / "worker.log", "--name", "gpu-east-1")
    try:
        deadline = time.monotonic() + 60
        while not (rows := worker_rows(admin_client)) and time.monotonic() < deadline:
            time.sleep(0.2)
        pid = worker.process.pid
    finally:
        worker.stop()

    [row] = rows
    assert row["Name"] == "gpu-east-1"
    assert row["Host / pid"].endswith(f" / {pid}")
    assert row["Device"] == "cpu"
    assert row["Serves"] == "tiny-demo"
    assert row["Running now"] == "idle"
    assert row["Jobs done"] == "0"
    assert "Live GPU workers" in admin_client.get("/admin/").content.decode()


def test_staff_see_what_each_worker_runs_has_done_and_how_fast(
    admin_client: Client, db: None
) -> None:
    worker_heartbeat_write(
        WorkerStatus(
            name="gpu-west-2",
            host="box-7",
            pid=4242,
            device="cuda",
            gpu_name="NVIDIA H200",
            gpu_memory_gb=139.8,
            torch_threads=16,
            models=["sd-15", "sdxl"],
            loaded_models=["sdxl"],
            current_generations=["5b1e0c2a-1111-2222-3333-444455556666"],
            jobs_done=17,
            largest_batch=4,
            seconds_per_image={"sdxl": 2.5},
            started_at=time.time(),
        )
    )
    try:
        [row] = worker_rows(admin_client)
    finally:
        worker_heartbeat_remove("gpu-west-2")

    assert row["Name"] == "gpu-west-2"
    assert row["Host / pid"] == "box-7 / 4242"
    assert row["Device"] == "cuda: NVIDIA H200 (139.8 GB)"
    assert row["Torch threads"] == "16"
    assert row["Serves"] == "sd-15, sdxl"
    assert row["Loaded"] == "sdxl"
    assert row["Running now"] == "5b1e0c2a-1111-2222-3333-444455556666"
    assert row["Jobs done"] == "17"
    assert row["Largest batch"] == "4"
    assert row["Seconds per image"] == "sdxl: 2.5"


def test_a_worker_whose_heartbeat_is_gone_drops_off_the_page(
    admin_client: Client, db: None
) -> None:
    status = WorkerStatus(
        name="gpu-gone", host="box", pid=1, device="cpu", models=[], started_at=time.time()
    )
    worker_heartbeat_write(status)
    assert [row["Name"] for row in worker_rows(admin_client)] == ["gpu-gone"]

    worker_heartbeat_remove("gpu-gone")

    assert worker_rows(admin_client) == []
    assert "No GPU worker is running." in admin_client.get("/admin/workers/").content.decode()


def test_the_page_says_when_no_worker_runs(admin_client: Client) -> None:
    page = admin_client.get("/admin/workers/").content.decode()

    assert "No GPU worker is running." in page


def test_other_users_are_sent_to_the_admin_sign_in(alice_client: Client) -> None:
    response = alice_client.get("/admin/workers/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_see_each_pool_the_autoscaler_runs_and_its_recent_decisions(
    admin_client: Client, db: None
) -> None:
    assert "No autoscaler is running" in admin_client.get("/admin/workers/").content.decode()
    report = pool_reported(
        name="sdxl",
        backend="kubernetes",
        models=["sdxl"],
        max_workers=3,
        live=2,
        starting=1,
        starting_since=time.time(),
        busy=2,
        desired=3,
        queued_jobs=9,
        cold_start_seconds=412.0,
        seconds_per_image=2.0,
        starts=7,
        stops=4,
        last_decision="backlog of 20 image(s) needs more than 2 worker(s)",
        backend_error="quota exceeded: nvidia.com/gpu",
    )
    decision = {
        "at": time.time(),
        "pool": "sdxl",
        "start": 1,
        "stop": [],
        "desired": 3,
        "reason": report.last_decision,
        "live": 2,
        "queued_jobs": 9,
    }
    pool_report_write(report, decision)

    page = html.unescape(admin_client.get("/admin/workers/").content.decode())
    pools = re.search(r'<table id="pools">(.*?)</table>', page, re.S)
    assert pools is not None
    cells = re.findall(r"<td>(.*?)</td>", pools.group(1), re.S)
    assert cells[0] == "sdxl"
    assert "failing:</strong> quota exceeded: nvidia.com/gpu" in cells[1]
    assert cells[3:8] == ["2", "2", "1", "3", "0 \u2013 3 (at max)"]
    assert cells[8] == "412 s" and cells[9] == "7 / 4"
    decisions = re.search(r'<table id="decisions">(.*?)</table>', page, re.S)
    assert decisions is not None and report.last_decision in decisions.group(1)
