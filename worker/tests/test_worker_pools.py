"""Worker pools as staff manage them in the admin, and the pools the autoscaler then runs: the
admin's, or on a site with none, one local pool from the AUTOSCALER_* settings."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from pytest_django.fixtures import Settings

from generation.models import DiffusionModel
from worker.models import WorkerPool
from worker.selectors import pools_current

ADD_PAGE = "/admin/worker/workerpool/add/"


def pool_form(**fields: object) -> dict[str, object]:
    return {
        "name": "sdxl",
        "enabled": "on",
        "backend": "kubernetes",
        "backend_settings": '{"namespace": "gpu"}',
        "min_workers": "0",
        "max_workers": "3",
        "idle_seconds": "300",
        "cold_start_seconds": "420",
        "target_wait_seconds": "30",
        "gather_seconds": "20",
        **fields,
    }


def form_errors(response: object) -> dict[str, list[str]]:
    form = response.context["adminform"].form  # type: ignore[attr-defined]
    return {field: list(errors) for field, errors in form.errors.items()}


def test_a_site_without_pools_gets_one_local_pool_from_its_settings(
    db: None, tiny_model: DiffusionModel, settings: Settings
) -> None:
    settings.AUTOSCALER_IDLE_SECONDS = 45
    settings.AUTOSCALER_MAX_WORKERS = 2

    (pool,) = pools_current()

    assert (pool.name, pool.backend, pool.models) == ("default", "local", ("tiny-demo",))
    assert (pool.limits.min_workers, pool.limits.max_workers) == (0, 2)
    assert pool.limits.idle_seconds == 45


def test_staff_add_a_pool_and_the_autoscaler_runs_it_for_the_chosen_models(
    admin_client: Client, tiny_model: DiffusionModel
) -> None:
    other = DiffusionModel.objects.create(slug="sdxl", name="SDXL", source="stabilityai/sdxl")

    response = admin_client.post(ADD_PAGE, pool_form(diffusion_models=[other.pk]))

    assert response.status_code == 302, form_errors(response)
    (pool,) = pools_current()
    assert (pool.name, pool.backend, pool.models) == ("sdxl", "kubernetes", ("sdxl",))
    assert pool.backend_settings == {"namespace": "gpu"}
    assert (pool.limits.max_workers, pool.limits.cold_start_seconds) == (3, 420)
    assert pool.limits.gather_seconds == 20


def test_a_pool_given_no_models_serves_every_enabled_one(
    admin_client: Client, tiny_model: DiffusionModel
) -> None:
    DiffusionModel.objects.create(slug="off", name="Off", source="x", enabled=False)

    admin_client.post(
        ADD_PAGE, pool_form(name="everything", backend="local", backend_settings="{}")
    )

    (pool,) = pools_current()
    assert pool.models == ("tiny-demo",)


def test_the_form_refuses_a_minimum_above_the_maximum(admin_client: Client, db: None) -> None:
    response = admin_client.post(ADD_PAGE, pool_form(min_workers="4", max_workers="2"))

    assert response.status_code == 200
    assert form_errors(response) == {"min_workers": ["The minimum cannot be above the maximum."]}
    assert not WorkerPool.objects.exists()


def test_the_form_says_what_is_wrong_with_the_backends_settings(
    admin_client: Client, db: None
) -> None:
    response = admin_client.post(
        ADD_PAGE, pool_form(backend_settings='{"namespace": "", "replicas": 3}')
    )

    assert form_errors(response) == {
        "backend_settings": [
            "Kubernetes: `namespace` must be a non-empty string.",
            "Kubernetes: unknown settings: replicas.",
        ]
    }
    assert not WorkerPool.objects.exists()


def test_a_disabled_pool_is_left_alone(admin_client: Client, tiny_model: DiffusionModel) -> None:
    admin_client.post(ADD_PAGE, pool_form(name="paused", enabled=""))

    assert pools_current() == []


def test_the_controller_refuses_to_start_on_a_backend_it_does_not_know(
    db: None, settings: Settings
) -> None:
    settings.AUTOSCALER_BACKEND = "nomad"

    with pytest.raises(CommandError) as refused:
        call_command("autoscale")

    assert str(refused.value) == (
        "AUTOSCALER_BACKEND='nomad': use one of local, kubernetes, ecs, runpod."
    )


def test_the_controller_refuses_backend_settings_that_cannot_work(
    db: None, settings: Settings
) -> None:
    settings.AUTOSCALER_BACKEND = "ecs"
    settings.AUTOSCALER_BACKEND_SETTINGS = {"cluster": "gpu"}

    with pytest.raises(CommandError) as refused:
        call_command("autoscale")

    assert "service" in str(refused.value)
