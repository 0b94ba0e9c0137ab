"""Cancelling from a generation's own page: a Cancel button while it is queued or running, which
gives the credits back and takes the owner back to the page."""

from django.contrib.auth.models import User
from django.test import Client

from billing.selectors import balance_for
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation
from testing.api import generation_post

CANCEL_BUTTON = 'id="cancel">Cancel</button>'


def test_the_owner_cancels_a_queued_generation_from_its_page_and_gets_the_credits_back(
    transactional_db: None, alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation_id = generation_post(alice_client, count=3).json()["id"]
    assert balance_for(user) == 7
    page = alice_client.get(f"/gallery/{generation_id}/").content.decode()
    assert f'action="/gallery/{generation_id}/cancel/"' in page
    assert CANCEL_BUTTON in page

    response = alice_client.post(f"/gallery/{generation_id}/cancel/")

    assert response.status_code == 303
    assert response["Location"] == f"/gallery/{generation_id}/"
    assert Generation.objects.get(id=generation_id).status == "canceled"
    assert balance_for(user) == 10
    after = alice_client.get(response["Location"]).content.decode()
    assert "Cancelled: its 3 credits are back on your balance." in after
    assert CANCEL_BUTTON not in after
    assert "Cancelled before it finished." in after


def test_cancelling_twice_says_there_is_nothing_left_to_cancel(
    transactional_db: None, alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation_id = generation_post(alice_client).json()["id"]
    alice_client.post(f"/gallery/{generation_id}/cancel/")

    response = alice_client.post(f"/gallery/{generation_id}/cancel/", follow=True)

    assert "This generation has already canceled; there is nothing to cancel." in (
        response.content.decode()
    )
    assert balance_for(user) == 10


def test_nobody_else_can_cancel_it_and_a_get_does_nothing(
    transactional_db: None,
    alice_client: Client,
    bob_client: Client,
    user: User,
    tiny_model: DiffusionModel,
) -> None:
    generation_id = generation_post(alice_client).json()["id"]

    assert bob_client.post(f"/gallery/{generation_id}/cancel/").status_code == 404
    assert alice_client.get(f"/gallery/{generation_id}/cancel/").status_code == 405
    assert Generation.objects.get(id=generation_id).status == "queued"
    assert balance_for(user) == 9


def test_a_finished_generation_has_no_cancel_button(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model)

    page = alice_client.get(f"/gallery/{generation.id}/").content.decode()

    assert generation.status == "succeeded"
    assert CANCEL_BUTTON not in page
