"""`webuiapi`, the Python client of AUTOMATIC1111's API, pointed at the site's /sdapi/v1/ with
an API key as the HTTP Basic password: txt2img and img2img, the models and samplers, the
account's model option, progress with a live preview while a generation runs, interrupting it
(refunded), and refusals, charged and refunded exactly as the site's own API."""

import base64
import io
import threading
import time
from typing import Any

import pytest
import webuiapi
from django.contrib.auth.models import User
from PIL import Image

from billing.selectors import balance_for
from generation.models import DiffusionModel, Generation
from rollerai.settings import SIGNUP_CREDITS
from testing.processes import RunningProcess, SiteURL


@pytest.fixture
def second_model(tiny_model: DiffusionModel) -> DiffusionModel:
    """Another model on the same weights, made before the worker starts so that it serves it."""
    return DiffusionModel.objects.create(slug="second", name="Second", source="tiny-sd")


def client_for(site: SiteURL, key: str) -> webuiapi.WebUIApi:
    return webuiapi.WebUIApi(baseurl=f"{site.live_url}/sdapi/v1", username="alice", password=key)


@pytest.mark.usefixtures("transactional_db")
def test_txt2img_img2img_models_samplers_and_options(
    web_server: SiteURL,
    second_model: DiffusionModel,
    gpu_worker: RunningProcess,
    tiny_model: DiffusionModel,
    user: User,
    api_key: str,
) -> None:
    api = client_for(web_server, api_key)
    assert api.util_get_model_names() == ["second", "tiny-demo"]
    assert "DPM++ 2M Karras" in api.util_get_sampler_names()
    assert api.util_get_current_model() == "tiny-demo"
    api.util_set_model("second")
    assert api.util_get_current_model() == "second"

    made = api.txt2img(
        prompt="a glass greenhouse",
        negative_prompt="people",
        width=64,
        height=80,
        steps=6,
        seed=1234,
        batch_size=2,
        sampler_name="Euler a",
        override_settings={"sd_model_checkpoint": "tiny-demo"},
    )
    assert [image.size for image in made.images] == [(64, 80), (64, 80)]
    assert made.info["all_seeds"] == [1234, 1235]
    assert made.info["sampler_name"] == "Euler a"
    assert made.info["sd_model_name"] == "tiny-demo"
    assert (
        made.images[0].info["parameters"].startswith("a glass greenhouse\nNegative prompt: people")
    )

    # Without an override, the account's option chooses the model.
    again = api.img2img(
        images=[made.image],
        prompt="the greenhouse in snow",
        width=64,
        height=80,
        steps=6,
        denoising_strength=0.5,
    )
    assert again.images[0].size == (64, 80)
    assert again.info["sd_model_name"] == "second"

    generations = list(Generation.objects.filter(user=user).order_by("created_at"))
    assert [(g.model.slug, g.kind, g.count, g.sampler, g.status) for g in generations] == [
        ("tiny-demo", "text", 2, "euler_a", "succeeded"),
        ("second", "image", 1, "euler_a", "succeeded"),
    ]
    assert generations[1].strength == 0.5
    assert balance_for(user) == SIGNUP_CREDITS - sum(g.credits_charged for g in generations)


@pytest.mark.usefixtures("transactional_db")
def test_progress_shows_the_running_generation_and_interrupt_refunds_it(
    web_server: SiteURL,
    gpu_worker: RunningProcess,
    tiny_model: DiffusionModel,
    user: User,
    api_key: str,
) -> None:
    api = client_for(web_server, api_key)
    assert api.get_progress()["state"]["job_count"] == 0
    outcome: dict[str, Any] = {}
    running = threading.Thread(target=_txt2img_into, args=(api, outcome), daemon=True)
    running.start()
    progress = _progress_when(api, lambda p: p["progress"] > 0 and p["current_image"])
    assert progress["state"]["sampling_steps"] == 50
    assert 0 < progress["state"]["sampling_step"] < 50
    preview = Image.open(io.BytesIO(base64.b64decode(progress["current_image"])))
    assert preview.size[0] > 0
    charged = balance_for(user)
    assert charged == SIGNUP_CREDITS - tiny_model.credits_per_image

    assert api.interrupt() == {}
    running.join(timeout=60)
    error = outcome["error"]
    assert isinstance(error, RuntimeError)
    status, body = error.args
    assert status == 409
    assert "cancelled" in body and "credits came back" in body
    generation = Generation.objects.get(user=user)
    assert generation.status == Generation.Status.CANCELED
    assert balance_for(user) == SIGNUP_CREDITS


def _txt2img_into(api: webuiapi.WebUIApi, outcome: dict[str, Any]) -> None:
    try:
        outcome["result"] = api.txt2img(prompt="a slow tide", width=512, height=512, steps=50)
    except RuntimeError as error:
        outcome["error"] = error


def _progress_when(api: webuiapi.WebUIApi, wanted: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress: dict[str, Any] = api.get_progress()
        if wanted(progress):
            return progress
        time.sleep(0.05)
    raise AssertionError(f"progress never showed it: {progress}")


@pytest.mark.usefixtures("transactional_db", "tiny_model")
def test_refusals_cost_nothing(web_server: SiteURL, user: User, api_key: str) -> None:
    api = client_for(web_server, api_key)
    for fields, field in [
        ({"width": 63}, "width"),
        ({"sampler_name": "Heun"}, "sampler_name"),
        ({"prompt": "k" * 1001}, "prompt"),
        ({"override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0"}}, "sd_model_checkpoint"),
        ({"batch_size": 3, "n_iter": 2}, "batch_size"),
        # Two negatives make a positive count, which must not pass for one.
        ({"batch_size": -1, "n_iter": -2}, "batch_size"),
    ]:
        with pytest.raises(RuntimeError) as refused:
            api.txt2img(**{"prompt": "a kite", "width": 64, "height": 64, **fields})
        status, body = refused.value.args
        assert status == 422, body
        assert f'"loc": ["body", "{field}"]' in body, body

    with pytest.raises(RuntimeError) as refused:
        api.img2img(images=[], prompt="a kite")
    assert refused.value.args[0] == 422

    with pytest.raises(RuntimeError) as refused:
        client_for(web_server, "rk_wrong").txt2img(prompt="a kite", width=64, height=64)
    assert refused.value.args[0] == 401

    assert balance_for(user) == SIGNUP_CREDITS
    assert not Generation.objects.exists()
