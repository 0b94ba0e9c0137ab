"""Variations and upscaling on the pages: a button pair under every finished image with what it
costs, on the share page only for a signed-in viewer; a generation's page says what it was made
from, its sampler and strength; the generate page offers samplers and a start image; staff set
the prices per kind and the default sampler."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.services import account_create
from conftest import PASSWORD
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation


@pytest.fixture
def priced_model(tiny_model: DiffusionModel) -> DiffusionModel:
    tiny_model.credits_per_image_to_image = 3
    tiny_model.credits_per_upscale = 5
    tiny_model.save()
    return tiny_model


def actions_of(html: str) -> list[str]:
    return re.findall(r'<div class="image-actions" data-generation="[^"]+" data-index="\d+"', html)


def assert_priced_actions(html: str, generation: Generation, index: int = 0) -> None:
    assert (
        f'<div class="image-actions" data-generation="{generation.id}" data-index="{index}" '
        'data-variations-price="3">'
    ) in html
    assert 'data-action="variations">Variations · <span class="cost">12 credits</span>' in html
    assert 'data-action="upscale">Upscale x2 · <span class="cost">5 credits</span>' in html


def test_the_gallery_card_of_a_finished_generation_offers_both_with_their_cost(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    done = generation_make(user=user, model=priced_model)
    generation_make(user=user, model=priced_model, status="running")

    html = alice_client.get("/gallery/").content.decode()

    assert_priced_actions(html, done)
    assert len(actions_of(html)) == 1
    assert '<script id="models-data" type="application/json">' in html
    assert "/static/js/image-actions.js" in html


def test_every_image_on_a_generations_page_offers_both(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=priced_model, images=3)

    html = alice_client.get(f"/gallery/{generation.id}/").content.decode()

    for index in range(3):
        assert_priced_actions(html, generation, index)
    assert '<span class="image-number">#3</span>' in html


def test_the_generate_pages_finished_cards_offer_both(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=priced_model, images=2)

    html = alice_client.get("/").content.decode()

    assert_priced_actions(html, generation, 1)
    assert len(actions_of(html)) == 2


def test_the_share_page_offers_them_to_signed_in_viewers_only(
    client: Client, bob_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    generation = generation_make(
        user=user, model=priced_model, is_public=True, share_token="shared1"
    )

    anonymous = client.get("/s/shared1/").content.decode()
    signed_in = bob_client.get("/s/shared1/").content.decode()

    assert actions_of(anonymous) == []
    assert "image-actions.js" not in anonymous
    assert_priced_actions(signed_in, generation)
    assert "/static/js/image-actions.js" in signed_in


def test_explores_cards_offer_them_to_signed_in_viewers_only(
    client: Client, bob_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    shared = generation_make(user=user, model=priced_model, is_public=True, share_token="s1")
    generation_make(user=user, model=priced_model)  # private: not on Explore at all

    anonymous = client.get("/explore/").content.decode()
    signed_in = bob_client.get("/explore/").content.decode()

    assert actions_of(anonymous) == []
    assert "image-actions.js" not in anonymous
    assert_priced_actions(signed_in, shared)
    assert len(actions_of(signed_in)) == 1
    assert "/static/js/image-actions.js" in signed_in


def test_an_image_at_its_models_largest_size_offers_no_upscale(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    # As wide as the model goes: keeping its shape, it cannot grow.
    largest = generation_make(user=user, model=priced_model, size=(512, 256))
    nearly = generation_make(user=user, model=priced_model, size=(320, 320))

    largest_html = alice_client.get(f"/gallery/{largest.id}/").content.decode()
    nearly_html = alice_client.get(f"/gallery/{nearly.id}/").content.decode()
    upscale = alice_client.post(
        f"/api/v1/generations/{largest.id}/upscale",
        data={"index": 0},
        content_type="application/json",
    )

    assert 'data-action="upscale"' not in largest_html
    assert '<span class="upscale-limit muted">Already the largest size Tiny demo makes</span>' in (
        largest_html
    )
    assert 'data-action="variations"' in largest_html
    # Less than twice as large is still larger (512x512): offered.
    assert 'data-action="upscale"' in nearly_html
    assert "upscale-limit" not in nearly_html
    assert upscale.status_code == 400
    assert upscale.json()["error"]["code"] == "cannot_upscale"


def test_a_disabled_models_images_offer_neither(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=priced_model)
    priced_model.enabled = False
    priced_model.save()

    assert actions_of(alice_client.get(f"/gallery/{generation.id}/").content.decode()) == []


def test_a_generations_page_links_to_the_generation_it_was_made_from(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(user=user, model=priced_model, prompt="a red kite over the hills")
    variation = generation_make(
        user=user,
        model=priced_model,
        kind="variations",
        sampler="euler_a",
        strength=0.5,
        source_image=source.images.get(),
        init_image="init-images/x.png",
    )

    html = alice_client.get(f"/gallery/{variation.id}/").content.decode()

    assert (
        f'<dt>Source</dt><dd id="source">From an image of <a href="/gallery/{source.id}/">'
        "a red kite over the hills</a>"
    ) in html
    assert f'<a href="/images/{variation.id}/init.png"' in html
    assert '<dt>Made</dt><dd id="kind">Variations of an image</dd>' in html
    assert '<dt>Sampler</dt><dd id="sampler">Euler a</dd>' in html
    assert '<dt>Strength</dt><dd id="strength">0.5</dd>' in html


def test_a_source_of_someone_else_links_to_its_share_page_while_it_is_shared(
    alice_client: Client, user: User, other_user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(
        user=other_user, model=priced_model, is_public=True, share_token="kite"
    )
    upscale = generation_make(
        user=user, model=priced_model, kind="upscale", source_image=source.images.get()
    )

    shared = alice_client.get(f"/gallery/{upscale.id}/").content.decode()
    Generation.objects.filter(id=source.id).update(is_public=False)
    private = alice_client.get(f"/gallery/{upscale.id}/").content.decode()

    assert 'From an image of <a href="/s/kite/">a lighthouse at dawn</a>' in shared
    assert '<dd id="kind">Upscaled x2</dd>' in shared
    assert "From an image of a generation that is no longer shared" in private
    assert "/s/kite/" not in private


def test_an_uploaded_start_image_and_a_plain_prompt_say_so(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    uploaded = generation_make(
        user=user, model=priced_model, kind="image", strength=0.6, init_image="init-images/u.png"
    )
    text = generation_make(user=user, model=priced_model)

    uploaded_html = alice_client.get(f"/gallery/{uploaded.id}/").content.decode()
    text_html = alice_client.get(f"/gallery/{text.id}/").content.decode()

    assert '<dd id="source">From an uploaded image' in uploaded_html
    assert '<dd id="strength">0.6</dd>' in uploaded_html
    assert 'id="source"' not in text_html
    assert 'id="strength"' not in text_html
    assert '<dt>Sampler</dt><dd id="sampler">Default</dd>' in text_html
    # No sampler named: the one the model defaults to, by its label.
    DiffusionModel.objects.filter(id=priced_model.id).update(default_sampler="dpmpp_2m_karras")
    defaulted_html = alice_client.get(f"/gallery/{text.id}/").content.decode()
    assert '<dt>Sampler</dt><dd id="sampler">DPM++ 2M Karras</dd>' in defaulted_html


def test_the_generate_page_offers_samplers_a_start_image_and_a_strength(
    alice_client: Client, priced_model: DiffusionModel
) -> None:
    html = alice_client.get("/").content.decode()

    assert '<option value="">Default</option>' in html
    assert '<option value="dpmpp_2m_karras">DPM++ 2M Karras</option>' in html
    assert (
        '<input id="init_image" name="init_image" type="file" '
        'accept="image/png,image/jpeg,image/webp">'
    ) in html
    assert 'id="strength-slider" type="range" min="0.05" max="1" step="0.05" value="0.6"' in html
    assert 'id="strength" name="strength" type="number" min="0.05" max="1"' in html
    assert '"credits_per_image_to_image": 3' in html


def test_staff_edit_the_prices_per_kind_and_the_default_sampler(
    priced_model: DiffusionModel, client: Client
) -> None:
    staff = account_create(username="staff", password=PASSWORD)
    User.objects.filter(id=staff.id).update(is_staff=True, is_superuser=True)
    client.force_login(User.objects.get(id=staff.id))
    url = f"/admin/generation/diffusionmodel/{priced_model.id}/change/"
    form = client.get(url).content.decode()
    assert '<option value="euler_a">Euler a</option>' in form

    fields = {
        name: getattr(priced_model, name)
        for name in (
            "slug",
            "name",
            "source",
            "description",
            "family",
            "default_steps",
            "max_steps",
            "default_width",
            "default_height",
            "max_width",
            "max_height",
            "default_guidance",
            "max_guidance",
        )
    }
    response = client.post(
        url,
        {
            **fields,
            "enabled": "on",
            "credits_per_image": 2,
            "credits_per_image_to_image": 4,
            "credits_per_upscale": 6,
            "default_sampler": "unipc",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    priced_model.refresh_from_db()
    assert (
        priced_model.credits_per_image,
        priced_model.credits_per_image_to_image,
        priced_model.credits_per_upscale,
        priced_model.default_sampler,
    ) == (2, 4, 6, "unipc")
