"""The credits page's history names the generation each charge and refund was for."""

from django.contrib.auth.models import User
from django.test import Client

from billing.services.credits import credits_debit, credits_refund
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel


def test_a_charge_and_its_refund_show_the_prompt_and_link_to_the_generation(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, prompt="a red fox in snow")
    credits_debit(user=user, amount=1, reference=str(generation.id))
    credits_refund(user=user, amount=1, generation_id=generation.id)

    page = alice_client.get("/billing/").content.decode()

    link = f'<a href="/gallery/{generation.id}/" class="ledger-generation">a red fox in snow</a>'
    assert page.count(link) == 2
    assert f"Refund for\n            {link}" in page
    assert f"Generation:\n            {link}" in page


def test_another_users_rows_never_appear(
    bob_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, prompt="alice's secret castle")
    credits_debit(user=user, amount=1, reference=str(generation.id))

    page = bob_client.get("/billing/").content.decode()

    assert "alice&#x27;s secret castle" not in page
    assert str(generation.id) not in page


def test_a_prompt_with_a_script_tag_is_escaped(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, prompt="<script>alert(1)</script>")
    credits_debit(user=user, amount=1, reference=str(generation.id))

    page = alice_client.get("/billing/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
