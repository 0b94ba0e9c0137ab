"""The Kubernetes backend through the real `kubernetes` client (its own kubeconfig loading) against
a loopback API server that keeps a Deployment's replicas and pods."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.kubernetes_api import KubernetesAPI
from testing.ports import free_port
from worker.autoscaler.backends.base import BackendError
from worker.autoscaler.backends.kubernetes import KubernetesBackend
from worker.autoscaler.policy import PoolLimits
from worker.autoscaler.pools import PoolSpec


@pytest.fixture
def api() -> Iterator[KubernetesAPI]:
    server = KubernetesAPI(namespace="gpu", deployment="rollerai-worker-sdxl", pool="sdxl")
    yield server
    server.stop()


def pool_for(kubeconfig: Path, **settings: str) -> PoolSpec:
    return PoolSpec(
        name="sdxl",
        models=("sdxl",),
        backend="kubernetes",
        limits=PoolLimits(max_workers=8),
        backend_settings={"namespace": "gpu", "kubeconfig": str(kubeconfig), **settings},
    )


@pytest.fixture
def backend(api: KubernetesAPI, tmp_path: Path) -> Iterator[KubernetesBackend]:
    kubernetes = KubernetesBackend(pool_for(api.kubeconfig_write(tmp_path / "kubeconfig")))
    yield kubernetes
    kubernetes.close()


def test_it_scales_the_deployment_up_and_reports_its_pods(
    api: KubernetesAPI, backend: KubernetesBackend
) -> None:
    assert backend.workers() == []
    backend.start(2)
    assert api.replicas == 2
    backend.start(1)
    assert api.replicas == 3
    workers = backend.workers()
    assert sorted(worker.id for worker in workers) == sorted(api.live_pods())
    assert len(workers) == 3
    assert not any(worker.stopping for worker in workers)
    # The default Deployment name is derived from the pool's.
    assert ("GET", "/apis/apps/v1/namespaces/gpu/deployments/rollerai-worker-sdxl/scale") in (
        api.requests
    )


def test_pods_not_created_yet_show_as_placeholders_since_the_scale_up(
    api: KubernetesAPI, backend: KubernetesBackend
) -> None:
    api.pod_quota = 1  # a ResourceQuota lets only one GPU pod in
    backend.start(3)
    workers = backend.workers()
    real = [worker for worker in workers if not worker.id.startswith("pending-")]
    placeholders = [worker for worker in workers if worker.id.startswith("pending-")]
    assert [worker.id for worker in real] == api.live_pods()
    assert [worker.id for worker in placeholders] == ["pending-0", "pending-1"]
    # The same start time every round, so the controller measures the cold start from it.
    assert {worker.started_at for worker in placeholders} == {
        worker.started_at for worker in backend.workers() if worker.id.startswith("pending-")
    }

    # Stopping a placeholder lowers replicas without touching the pod that is up.
    backend.stop(placeholders[:1])
    assert api.replicas == 2
    assert len(api.live_pods()) == 1


def test_scale_down_removes_the_chosen_idle_pods_and_leaves_the_busy_ones(
    api: KubernetesAPI, backend: KubernetesBackend
) -> None:
    backend.start(4)
    first, second, third, fourth = sorted(api.live_pods())
    # Left to itself the ReplicaSet would take the newest pods (third and fourth).
    chosen = [worker for worker in backend.workers() if worker.id in {first, second}]
    backend.stop(chosen)
    assert api.replicas == 2
    assert sorted(api.terminating_pods()) == [first, second]
    assert sorted(api.live_pods()) == [third, fourth]
    # Draining pods are reported as stopping until they exit.
    stopping = {worker.id for worker in backend.workers() if worker.stopping}
    assert stopping == {first, second}
    api.terminating_finish()
    assert sorted(worker.id for worker in backend.workers()) == [third, fourth]


def test_a_failed_scale_down_does_not_leave_a_pod_marked_for_the_next_one(
    api: KubernetesAPI, backend: KubernetesBackend
) -> None:
    backend.start(3)
    first, second, third = sorted(api.live_pods())
    by_id = {worker.id: worker for worker in backend.workers()}
    # The scale read, the pod list and the mark succeed; lowering replicas fails.
    api.fail_next(
        1, 503, "ServiceUnavailable", "etcd leader changed", method="PATCH", path_endswith="/scale"
    )
    with pytest.raises(BackendError, match="503 etcd leader changed"):
        backend.stop([by_id[first]])
    assert api.replicas == 3
    assert api.pods[first]["metadata"]["annotations"] == {
        "controller.kubernetes.io/pod-deletion-cost": "-1000"
    }

    # Next round the controller chooses another pod; the first may be busy by now.
    backend.stop([by_id[second]])
    assert api.terminating_pods() == [second]
    assert sorted(api.live_pods()) == [first, third]
    assert api.pods[first]["metadata"]["annotations"] == {}


def test_quota_refusal_comes_out_as_a_backend_error_with_the_api_servers_words(
    api: KubernetesAPI, backend: KubernetesBackend
) -> None:
    api.fail_next(
        1,
        403,
        "Forbidden",
        'deployments.apps "rollerai-worker-sdxl" is forbidden: exceeded quota: gpu-quota',
    )
    with pytest.raises(BackendError) as error:
        backend.start(1)
    assert str(error.value) == (
        "Kubernetes refused to read the scale of Deployment gpu/rollerai-worker-sdxl: 403 "
        'deployments.apps "rollerai-worker-sdxl" is forbidden: exceeded quota: gpu-quota'
    )
    assert api.replicas == 0


def test_a_5xx_comes_out_as_a_backend_error(api: KubernetesAPI, backend: KubernetesBackend) -> None:
    api.fail_next(1, 503, "ServiceUnavailable", "the server is currently unable to handle it")
    with pytest.raises(BackendError) as error:
        backend.workers()
    assert str(error.value) == (
        "Kubernetes refused to read the scale of Deployment gpu/rollerai-worker-sdxl: 503 "
        "the server is currently unable to handle it"
    )
    # The backend does not retry: the next call, the controller's next round, goes through.
    assert backend.workers() == []


def test_a_missing_deployment_is_named_in_the_error(api: KubernetesAPI, tmp_path: Path) -> None:
    kubeconfig = api.kubeconfig_write(tmp_path / "kubeconfig")
    backend = KubernetesBackend(pool_for(kubeconfig, deployment="nope"))
    with pytest.raises(BackendError) as error:
        backend.workers()
    assert str(error.value) == (
        'Kubernetes refused to read the scale of Deployment gpu/nope: 404 deployments.apps "nope" '
        "not found"
    )


def test_an_unreachable_api_server_comes_out_as_a_backend_error(
    api: KubernetesAPI, tmp_path: Path
) -> None:
    kubeconfig = api.kubeconfig_write(tmp_path / "kubeconfig")
    kubeconfig.write_text(kubeconfig.read_text().replace(str(api.port), str(free_port())))
    backend = KubernetesBackend(pool_for(kubeconfig))
    with pytest.raises(BackendError, match=r"^Kubernetes API unreachable \(could not read the"):
        backend.start(1)


def test_a_broken_kubeconfig_comes_out_as_a_backend_error(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text('{"apiVersion": "v1", "kind": "Config", "current-context": "x"}')
    backend = KubernetesBackend(pool_for(kubeconfig))
    with pytest.raises(BackendError, match=r"^Kubernetes configuration: "):
        backend.workers()


def test_settings_problems_name_what_is_wrong(tmp_path: Path) -> None:
    assert KubernetesBackend.settings_problems({}) == []
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    assert (
        KubernetesBackend.settings_problems(
            {"namespace": "gpu", "deployment": "w", "kubeconfig": str(kubeconfig), "context": "c"}
        )
        == []
    )
    assert KubernetesBackend.settings_problems(
        {"namespace": "", "kubeconfig": "/nowhere/kubeconfig", "replicas": 3}
    ) == [
        "Kubernetes: `namespace` must be a non-empty string.",
        "Kubernetes: the kubeconfig file /nowhere/kubeconfig does not exist.",
        "Kubernetes: unknown settings: replicas.",
    ]
