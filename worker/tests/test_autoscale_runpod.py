"""The RunPod backend through `requests` against a loopback stand-in of RunPod's REST API."""

from collections.abc import Iterator

import pytest

from testing.ports import free_port
from testing.runpod_api import RunPodAPI
from worker.autoscaler.backends.base import BackendError
from worker.autoscaler.backends.runpod import RunPodBackend
from worker.autoscaler.policy import PoolLimits
from worker.autoscaler.pools import PoolSpec

API_KEY = "rp-test-key"
SETTINGS = {"template_id": "tpl-worker", "gpu_type_id": "NVIDIA GeForce RTX 4090"}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunPodAPI]:
    server = RunPodAPI(api_key=API_KEY)
    monkeypatch.setenv("RUNPOD_API_BASE", server.url)
    monkeypatch.setenv("RUNPOD_API_KEY", API_KEY)
    yield server
    server.stop()


def pool_for(**settings: object) -> PoolSpec:
    return PoolSpec(
        name="sdxl",
        models=("sdxl",),
        backend="runpod",
        limits=PoolLimits(max_workers=8),
        backend_settings={**SETTINGS, **settings},
    )


@pytest.fixture
def backend(api: RunPodAPI) -> Iterator[RunPodBackend]:
    runpod = RunPodBackend(pool_for())
    yield runpod
    runpod.close()


def test_it_starts_pods_from_the_template_named_for_the_pool(
    api: RunPodAPI, backend: RunPodBackend
) -> None:
    assert backend.workers() == []
    backend.start(2)
    assert len(api.pods) == 2
    for pod in api.pods.values():
        assert pod["name"].startswith("rollerai-sdxl-")
        assert pod["templateId"] == "tpl-worker"
        assert pod["gpuTypeIds"] == ["NVIDIA GeForce RTX 4090"]
        assert pod["gpuCount"] == 1
        assert pod["cloudType"] == "SECURE"
        assert pod["env"] == {"WORKER_POOL": "sdxl"}
    workers = backend.workers()
    assert sorted(worker.id for worker in workers) == sorted(api.pods)
    assert not any(worker.stopping for worker in workers)


def test_only_pods_with_the_pools_prefix_are_its_workers(api: RunPodAPI) -> None:
    api.pod_add("my-notebook")
    api.pod_add("rollerai-sdxl2-abcd")  # another pool's, whose name only begins alike
    backend = RunPodBackend(pool_for(name_prefix="rollerai-sdxl", gpu_count=2))
    backend.start(1)
    (worker,) = backend.workers()
    assert api.pods[worker.id]["gpuCount"] == 2
    assert len(api.pods) == 3


def test_stop_terminates_exactly_the_chosen_pods(api: RunPodAPI, backend: RunPodBackend) -> None:
    backend.start(3)
    first, second, third = backend.workers()
    backend.stop([first, third])
    assert list(api.pods) == [second.id]
    assert [worker.id for worker in backend.workers()] == [second.id]
    assert ("DELETE", f"/v1/pods/{first.id}") in api.requests


def test_a_quota_refusal_says_how_many_pods_were_started(
    api: RunPodAPI, backend: RunPodBackend
) -> None:
    backend.start(1)
    api.requests.clear()
    api.fail_next(
        1, 400, {"error": "There are no longer any instances available with the requested specs"}
    )
    with pytest.raises(BackendError) as error:
        backend.start(2)
    assert str(error.value) == (
        "RunPod refused to create a pod: 400 There are no longer any instances available with "
        "the requested specs (started 0 of 2)"
    )
    assert len(api.pods) == 1


def test_a_5xx_comes_out_as_a_backend_error_and_is_not_retried(
    api: RunPodAPI, backend: RunPodBackend
) -> None:
    api.fail_next(1, 502, {"message": "Bad Gateway"})
    with pytest.raises(BackendError) as error:
        backend.workers()
    assert str(error.value) == "RunPod refused to list the pods: 502 Bad Gateway"
    assert api.requests == [("GET", "/v1/pods")]
    assert backend.workers() == []


def test_a_wrong_api_key_is_refused(api: RunPodAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", "wrong")
    with pytest.raises(BackendError) as error:
        RunPodBackend(pool_for()).workers()
    assert str(error.value) == "RunPod refused to list the pods: 401 Unauthorized: invalid API key"


def test_no_api_key_is_an_error_before_any_request(
    api: RunPodAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_KEY")
    with pytest.raises(BackendError, match=r"^RunPod: RUNPOD_API_KEY is not set\.$"):
        RunPodBackend(pool_for()).start(1)
    assert api.requests == []


def test_an_unreachable_api_comes_out_as_a_backend_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", API_KEY)
    monkeypatch.setenv("RUNPOD_API_BASE", f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(BackendError, match=r"^RunPod unreachable \(could not list the pods\): "):
        RunPodBackend(pool_for()).workers()


def test_settings_problems_name_what_is_wrong() -> None:
    assert RunPodBackend.settings_problems(SETTINGS) == []
    assert (
        RunPodBackend.settings_problems(
            {**SETTINGS, "gpu_count": 2, "cloud_type": "COMMUNITY", "name_prefix": "gpu"}
        )
        == []
    )
    assert RunPodBackend.settings_problems(
        {"gpu_count": 0, "cloud_type": "CHEAP", "api_key": "x", "volume": 20}
    ) == [
        "RunPod: `template_id` is required.",
        "RunPod: `gpu_type_id` is required.",
        "RunPod: `gpu_count` must be a whole number, 1 or more.",
        "RunPod: `cloud_type` must be SECURE or COMMUNITY.",
        "RunPod: the API key belongs in RUNPOD_API_KEY, never in settings.",
        "RunPod: unknown settings: volume.",
    ]


def test_backend_class_finds_each_kind_by_name() -> None:
    from worker.autoscaler.backends import BACKEND_KINDS, backend_class
    from worker.autoscaler.backends.ecs import ECSBackend
    from worker.autoscaler.backends.kubernetes import KubernetesBackend

    assert BACKEND_KINDS == ("local", "kubernetes", "ecs", "runpod")
    assert backend_class("runpod") is RunPodBackend
    assert backend_class("ecs") is ECSBackend
    assert backend_class("kubernetes") is KubernetesBackend
    with pytest.raises(KeyError, match="No autoscaler backend 'nomad'"):
        backend_class("nomad")
