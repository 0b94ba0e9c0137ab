"""Staff see the live GPU workers (from their heartbeats); nobody else does."""

from django.test import Client

from testing.processes import RunningProcess


def test_staff_see_each_live_worker_with_its_device_and_models(
    gpu_worker: RunningProcess, admin_client: Client
) -> None:
    page = admin_client.get("/admin/workers/").content.decode()

    assert "gpu-" in page  # the default name: gpu-<host>-<pid>
    assert f"/ {gpu_worker.process.pid}" in page
    assert "<td>cpu</td>" in page
    assert "<td>tiny-demo</td>" in page
    assert "Live GPU workers" in admin_client.get("/admin/").content.decode()


def test_the_page_says_when_no_worker_runs(admin_client: Client) -> None:
    page = admin_client.get("/admin/workers/").content.decode()

    assert "No GPU worker is running." in page


def test_other_users_are_sent_to_the_admin_sign_in(alice_client: Client) -> None:
    response = alice_client.get("/admin/workers/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
