"""Samplers only some models suit: LCM is for few-step (Turbo) models alone, in a request, as a
model's default in the admin and on the generate page."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from billing.selectors import balance_for
from generation.admin import DiffusionModelForm
from generation.models import DiffusionModel, Generation
from testing.api import generation_post

SIGNUP_CREDITS = 10


@pytest.fixture
def turbo_model(db: None) -> DiffusionModel:
    return DiffusionModel.objects.create(
        slug="tiny-turbo",
        name="Tiny turbo",
        source="tiny-sd",
        family=DiffusionModel.Family.TURBO,
        default_width=64,
        default_height=64,
        default_steps=1,
        max_steps=8,
        default_guidance=0,
    )


def test_the_lcm_sampler_is_refused_for_a_model_that_is_not_few_step(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    response = generation_post(alice_client, model=tiny_model.slug, sampler="lcm")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "sampler_not_for_model",
            "message": "The LCM sampler is only for few-step (Turbo or LCM) models, "
            "and Tiny demo is not one.",
            "field": "sampler",
        }
    }
    assert balance_for(user) == SIGNUP_CREDITS
    assert not Generation.objects.exists()


def test_the_lcm_sampler_is_accepted_for_a_turbo_model(
    alice_client: Client, turbo_model: DiffusionModel
) -> None:
    response = generation_post(alice_client, model=turbo_model.slug, sampler="lcm")

    assert response.status_code == 202, response.content
    assert response.json()["sampler"] == "lcm"
    assert Generation.objects.get().sampler == "lcm"


def test_other_samplers_suit_every_model(
    alice_client: Client, tiny_model: DiffusionModel, turbo_model: DiffusionModel
) -> None:
    for model in (tiny_model, turbo_model):
        response = generation_post(alice_client, model=model.slug, sampler="euler_a")

        assert response.status_code == 202, response.content


def test_a_model_that_is_not_few_step_cannot_default_to_lcm(tiny_model: DiffusionModel) -> None:
    tiny_model.default_sampler = "lcm"

    with pytest.raises(ValidationError) as refused:
        tiny_model.full_clean()

    assert refused.value.message_dict == {
        "default_sampler": [
            "The LCM sampler is only for few-step (Turbo or LCM) models, and Tiny demo is not one."
        ]
    }


def test_the_admin_form_refuses_lcm_as_the_default_of_a_model_that_is_not_few_step(
    tiny_model: DiffusionModel, turbo_model: DiffusionModel
) -> None:
    def admin_form(model: DiffusionModel, family: str) -> DiffusionModelForm:
        fields = {
            name: getattr(model, name)
            for name in DiffusionModelForm.base_fields
            if name not in ("default_sampler", "family")
        }
        return DiffusionModelForm(
            data={**fields, "family": family, "default_sampler": "lcm"}, instance=model
        )

    refused = admin_form(tiny_model, DiffusionModel.Family.SD)
    accepted = admin_form(turbo_model, DiffusionModel.Family.TURBO)

    assert not refused.is_valid()
    assert list(refused.errors) == ["default_sampler"]
    assert accepted.is_valid(), accepted.errors


def test_the_generate_page_marks_the_samplers_only_few_step_models_are_offered(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    html = alice_client.get("/").content.decode()

    assert '<option value="lcm" data-few-step-only>LCM</option>' in html
    assert '<option value="euler_a">Euler a</option>' in html
