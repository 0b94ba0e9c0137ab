"""The controller's own duties, around the policy and the backends: platform errors are logged and
retried with backoff without ever stopping it, and of two controllers only the one holding the
lock acts. Real Redis and database; the Kubernetes backend's real client against a loopback API
server."""

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from generation.fleet import pool_reports
from generation.models import DiffusionModel
from testing.api import generation_submitted
from testing.kubernetes_api import KubernetesAPI
from worker.autoscaler.controller import Controller


@pytest.fixture
def kubernetes_pool(
    transactional_db: None, settings: Settings, tmp_path: Path
) -> Iterator[KubernetesAPI]:
    """The site's own pool (none in the admin) on Kubernetes, at the loopback API server."""
    api = KubernetesAPI(namespace="gpu", deployment="rollerai-worker-default", pool="default")
    settings.AUTOSCALER_BACKEND = "kubernetes"
    settings.AUTOSCALER_MAX_WORKERS = 4
    settings.AUTOSCALER_BACKEND_SETTINGS = {
        "namespace": "gpu",
        "kubeconfig": str(api.kubeconfig_write(tmp_path / "kubeconfig")),
    }
    yield api
    api.stop()


def scale_requests(api: KubernetesAPI) -> int:
    return sum(path.endswith("/scale") for _, path in api.requests)


def test_platform_errors_are_retried_with_backoff_and_never_stop_the_controller(
    kubernetes_pool: KubernetesAPI,
    tiny_model: DiffusionModel,
    alice_client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = kubernetes_pool
    generation_submitted(alice_client)
    api.fail_next(2, 503, "ServiceUnavailable", "etcd is unavailable", path_endswith="/scale")
    controller = Controller(round_seconds=0.1)

    with caplog.at_level(logging.WARNING, logger="worker.autoscaler.controller"):
        controller.round()
        (report,) = pool_reports()
        assert "etcd is unavailable" in report.backend_error
        asked = scale_requests(api)
        # Within the backoff, the platform is left alone.
        controller.round()
        assert scale_requests(api) == asked
        time.sleep(2.1)
        controller.round()
        time.sleep(4.1)
        controller.round()

    assert api.replicas == 1
    waits = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(waits) == 2
    assert waits[0].endswith("trying again in 2 s") and waits[1].endswith("trying again in 4 s")
    (report,) = pool_reports()
    assert report.backend_error == "" and report.starting == 1 and report.starts == 1


def test_of_two_controllers_only_the_one_holding_the_lock_acts(
    kubernetes_pool: KubernetesAPI, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    api = kubernetes_pool
    generation_submitted(alice_client)
    first, second = Controller(round_seconds=0.1), Controller(round_seconds=0.1)

    first.round()
    second.round()
    assert (first.acting, second.acting) == (True, False)
    assert api.replicas == 1

    # The first one goes (its lock with it): the second takes over, and sees the worker the
    # first asked for as starting, so it does not ask again.
    first.lock.release()
    second.round()
    assert second.acting
    assert api.replicas == 1
