"""The ECS backend through boto3 against moto's server on loopback, behind a proxy that adds the
service scheduler and task scale-in protection moto lacks (testing/aws_ecs.py)."""

from collections.abc import Iterator

import pytest

from testing.aws_ecs import ECS_CREDENTIALS, ECS_REGION, ECSPlatform
from testing.ports import free_port
from worker.autoscaler.backends.base import BackendError
from worker.autoscaler.backends.ecs import ECSBackend
from worker.autoscaler.policy import PoolLimits
from worker.autoscaler.pools import PoolSpec

CLUSTER = "gpu"
SERVICE = "rollerai-worker-sdxl"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ECSPlatform]:
    ecs = ECSPlatform(tmp_path_factory.mktemp("ecs") / "moto.log")
    yield ecs
    ecs.stop()


@pytest.fixture
def service(platform: ECSPlatform, request: pytest.FixtureRequest) -> str:
    """A fresh cluster and service per test (moto's state lasts the module)."""
    cluster = f"{CLUSTER}-{request.node.name[-40:].replace('_', '-')}"
    platform.reset()
    platform.service_create(cluster, SERVICE)
    return cluster


def pool_for(cluster: str, **settings: str) -> PoolSpec:
    return PoolSpec(
        name="sdxl",
        models=("sdxl",),
        backend="ecs",
        limits=PoolLimits(max_workers=8),
        backend_settings={"cluster": cluster, "service": SERVICE, **settings},
    )


@pytest.fixture
def aws_env(platform: ECSPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ECS_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", ECS_REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", platform.endpoint)


@pytest.fixture
def backend(service: str, aws_env: None) -> Iterator[ECSBackend]:
    ecs = ECSBackend(pool_for(service))
    yield ecs
    ecs.close()


def test_it_raises_the_desired_count_and_reports_the_services_tasks(
    platform: ECSPlatform, service: str, backend: ECSBackend
) -> None:
    assert backend.workers() == []
    backend.start(2)
    assert platform.desired_count(service, SERVICE) == 2
    backend.start(1)
    assert platform.desired_count(service, SERVICE) == 3
    workers = backend.workers()
    assert sorted(worker.id for worker in workers) == sorted(
        platform.running_tasks(service, SERVICE)
    )
    assert len(workers) == 3
    assert not any(worker.stopping for worker in workers)


def test_tasks_of_other_services_in_the_cluster_are_not_the_pools(
    platform: ECSPlatform, service: str, backend: ECSBackend
) -> None:
    platform.moto.create_service(
        cluster=service, serviceName="other", taskDefinition="rollerai-worker", desiredCount=0
    )
    platform.moto.update_service(cluster=service, service="other", desiredCount=0)
    ECSBackend(
        PoolSpec(
            name="other",
            models=(),
            backend="ecs",
            limits=PoolLimits(),
            backend_settings={"cluster": service, "service": "other"},
        )
    ).start(2)
    backend.start(1)
    assert [worker.id for worker in backend.workers()] == platform.running_tasks(service, SERVICE)
    assert len(platform.running_tasks(service, "other")) == 2


def test_scale_in_protects_the_busy_tasks_and_stops_the_chosen_idle_ones(
    platform: ECSPlatform, service: str, backend: ECSBackend
) -> None:
    backend.start(4)
    first, second, third, fourth = platform.running_tasks(service, SERVICE)
    # Left to itself, ECS would stop the newest tasks (third and fourth) here.
    chosen = [worker for worker in backend.workers() if worker.id in {first, second}]
    platform.calls.clear()
    backend.stop(chosen)
    assert platform.protection == {first: False, second: False, third: True, fourth: True}
    assert platform.calls[-3:] == ["UpdateTaskProtection", "UpdateTaskProtection", "UpdateService"]
    assert platform.desired_count(service, SERVICE) == 2
    assert sorted(platform.running_tasks(service, SERVICE)) == sorted([third, fourth])
    assert sorted(worker.id for worker in backend.workers()) == sorted([third, fourth])


def test_a_failed_protection_leaves_the_service_alone(
    platform: ECSPlatform, service: str, backend: ECSBackend
) -> None:
    backend.start(2)
    workers = backend.workers()
    # The count and the task list are read; then UpdateTaskProtection fails, retry included.
    platform.fail_next(
        2,
        500,
        "ServerException",
        "Service unavailable. Try again later.",
        action="UpdateTaskProtection",
    )
    with pytest.raises(BackendError) as error:
        backend.stop(workers[:1])
    assert str(error.value) == (
        "ECS refused to protect the busy tasks: ServerException: Service unavailable. "
        "Try again later."
    )
    assert platform.desired_count(service, SERVICE) == 2
    assert len(platform.running_tasks(service, SERVICE)) == 2
    assert "UpdateService" not in platform.calls[-3:]


def test_pending_tasks_show_as_placeholders(
    platform: ECSPlatform, service: str, backend: ECSBackend
) -> None:
    # desiredCount raised behind the scheduler's back, as when ECS has no capacity to place.
    platform.moto.update_service(cluster=service, service=SERVICE, desiredCount=2)
    workers = backend.workers()
    assert [worker.id for worker in workers] == ["pending-0", "pending-1"]
    assert workers[0].started_at == backend.workers()[0].started_at
    backend.stop(workers[:1])
    assert platform.desired_count(service, SERVICE) == 1


def test_a_limit_exceeded_comes_out_as_a_backend_error_with_ecs_words(
    platform: ECSPlatform, service: str, backend: ECSBackend
) -> None:
    # botocore retries a throttling code once itself: two answers it.
    platform.fail_next(
        2, 400, "LimitExceededException", "You've reached the limit on the number of tasks"
    )
    with pytest.raises(BackendError) as error:
        backend.start(1)
    assert str(error.value) == (
        "ECS refused to read the service: LimitExceededException: You've reached the limit on "
        "the number of tasks"
    )
    assert platform.desired_count(service, SERVICE) == 0


def test_a_5xx_comes_out_as_a_backend_error_after_botocores_one_retry(
    platform: ECSPlatform, service: str, backend: ECSBackend
) -> None:
    platform.fail_next(2, 503, "ServiceUnavailableException", "Service is unavailable")
    with pytest.raises(BackendError) as error:
        backend.workers()
    assert platform.calls == ["DescribeServices", "DescribeServices"]
    assert str(error.value) == (
        "ECS refused to read the service: ServiceUnavailableException: Service is unavailable"
    )
    assert backend.workers() == []


def test_a_missing_service_is_named(platform: ECSPlatform, service: str, aws_env: None) -> None:
    backend = ECSBackend(pool_for(service, service="nope"))
    missing = r"^ECS has no service nope in cluster gpu-[a-z-]*: MISSING$"
    with pytest.raises(BackendError, match=missing):
        backend.workers()


def test_an_unreachable_endpoint_comes_out_as_a_backend_error(
    service: str, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", f"http://127.0.0.1:{free_port()}")
    backend = ECSBackend(pool_for(service))
    with pytest.raises(BackendError, match=r"^ECS unreachable \(could not read the service\): "):
        backend.start(1)


def test_settings_problems_name_what_is_missing() -> None:
    assert ECSBackend.settings_problems({"cluster": "gpu", "service": "w"}) == []
    assert (
        ECSBackend.settings_problems({"cluster": "gpu", "service": "w", "region": "eu-west-1"})
        == []
    )
    assert ECSBackend.settings_problems({"service": " ", "region": "", "desired": 2}) == [
        "ECS: `cluster` is required.",
        "ECS: `service` is required.",
        "ECS: `region` must be a region name, such as us-east-1.",
        "ECS: unknown settings: desired.",
    ]


def test_the_region_defaults_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert ECSBackend(pool_for("gpu")).region == "eu-west-1"
    assert ECSBackend(pool_for("gpu", region="ap-south-1")).region == "ap-south-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert ECSBackend(pool_for("gpu")).region == "us-east-1"
