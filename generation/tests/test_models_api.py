"""GET /api/v1/models lists what users can choose from, with the limits submit enforces."""

from django.test import Client

from generation.models import DiffusionModel


def test_it_lists_enabled_models_with_their_limits(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    DiffusionModel.objects.create(slug="retired", name="Retired", source="x", enabled=False)

    response = alice_client.get("/api/v1/models")

    assert response.status_code == 200
    [model] = response.json()["results"]
    assert model["slug"] == "tiny-demo"
    assert model["is_demo"] is True
    assert {key: model[key] for key in ("max_width", "max_height", "max_steps")} == {
        "max_width": 512,
        "max_height": 512,
        "max_steps": 50,
    }
    assert model["credits_per_image"] == 1


def test_it_needs_a_signed_in_user(client: Client, tiny_model: DiffusionModel) -> None:
    assert client.get("/api/v1/models").status_code == 401
