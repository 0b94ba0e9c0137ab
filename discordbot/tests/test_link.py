"""/link: a Discord identity uses the site account whose page showed the code, once; anything
made before through the account the bot made for it moves along."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from nacl.signing import SigningKey
from pytest_django.fixtures import Settings

from accounts.discord_links import discord_link_code_create
from accounts.models import DiscordLinkCode, Profile
from billing.selectors import balance_for
from discordbot.tests.conftest import answer_data, command, signed_post
from generation.models import DiffusionModel, Generation
from generation.services import generation_fail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("discord_settings")]
CAROL = "700000000000000001"


def _link(key: SigningKey, code: str, *, discord_user_id: str = CAROL) -> str:
    document = answer_data(
        signed_post(Client(), key, command("link", user_id=discord_user_id, code=code))
    )
    assert document["data"]["flags"] == 64
    return str(document["data"]["content"])


def _linked_to(discord_user_id: str) -> User | None:
    profile = Profile.objects.filter(discord_user_id=discord_user_id).first()
    return profile.user if profile else None


def test_a_valid_code_ties_the_identity_to_the_account_once(
    signing_key: SigningKey, user: User
) -> None:
    code = discord_link_code_create(user=user)

    assert _link(signing_key, code.lower()).startswith(
        "Linked: from now on you use the account alice"
    )
    assert _linked_to(CAROL) == user
    assert "already been used" in _link(signing_key, code, discord_user_id="700000000000000009")
    assert _linked_to("700000000000000009") is None


def test_an_expired_code_is_refused(signing_key: SigningKey, user: User) -> None:
    code = discord_link_code_create(user=user)
    DiscordLinkCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert "expired" in _link(signing_key, code)
    assert _linked_to(CAROL) is None


def test_a_code_this_site_never_gave_out_is_refused(signing_key: SigningKey, user: User) -> None:
    assert "not one this site gave out" in _link(signing_key, "ABCDEFGH")
    assert _linked_to(CAROL) is None


def test_a_code_of_an_account_linked_to_someone_else_is_refused(
    signing_key: SigningKey, user: User
) -> None:
    _link(signing_key, discord_link_code_create(user=user), discord_user_id="700000000000000005")

    assert "already linked to another Discord user" in _link(
        signing_key, discord_link_code_create(user=user)
    )
    assert _linked_to("700000000000000005") == user
    assert _linked_to(CAROL) is None


def test_an_identity_linked_to_another_web_account_must_be_unlinked_there_first(
    signing_key: SigningKey, user: User, other_user: User
) -> None:
    _link(signing_key, discord_link_code_create(user=other_user))

    assert "Unlink it on that account's page first" in _link(
        signing_key, discord_link_code_create(user=user)
    )
    assert _linked_to(CAROL) == other_user


def test_what_the_bot_s_account_held_moves_to_the_linked_account(
    signing_key: SigningKey, user: User, tiny_model: DiffusionModel, settings: Settings
) -> None:
    signed_post(Client(), signing_key, command("imagine", prompt="before linking", count=2))
    made_for_discord = _linked_to(CAROL)
    assert made_for_discord is not None
    generation = Generation.objects.get()
    generation_fail(generation_id=generation.id, error="no GPU")  # done, and refunded

    _link(signing_key, discord_link_code_create(user=user))

    assert _linked_to(CAROL) == user
    assert Generation.objects.get().user == user
    assert balance_for(user) == 2 * settings.SIGNUP_CREDITS
    assert not User.objects.filter(id=made_for_discord.id).exists()
    signed_post(Client(), signing_key, command("imagine", prompt="after linking"))
    assert balance_for(user) == 2 * settings.SIGNUP_CREDITS - 1


def test_linking_waits_until_the_bot_s_account_has_nothing_being_made(
    signing_key: SigningKey, user: User, tiny_model: DiffusionModel
) -> None:
    signed_post(Client(), signing_key, command("imagine", prompt="still queued"))
    made_for_discord = _linked_to(CAROL)

    text = _link(signing_key, discord_link_code_create(user=user))

    assert "still being made" in text
    assert _linked_to(CAROL) == made_for_discord
    assert Generation.objects.get().user == made_for_discord
