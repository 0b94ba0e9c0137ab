"""Discord links: a one-time code from the account page, typed into Discord, ties that Discord user
to the account (once, before it expires, never taking an identity from another account); a
Discord user without a link gets an account of their own, once; unlinking from the account page."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.discord_links import (
    LINK_CODE_ALPHABET,
    discord_account_for,
    discord_identity_release,
    discord_link_code_create,
    discord_link_code_redeem,
    discord_unlink,
)
from accounts.models import DiscordLinkCode, Profile
from accounts.selectors import discord_user_for
from accounts.services import account_create
from billing.models import CreditEntry
from billing.selectors import balance_for
from rollerai.exceptions import Conflict, InvalidRequest, NotFound

DISCORD_ID = "80351110224678912"
OTHER_DISCORD_ID = "80351110224678913"


@pytest.fixture
def discord_on(settings: Settings) -> None:
    settings.DISCORD_APPLICATION_ID = "1234567890"
    settings.DISCORD_LINK_CODE_MINUTES = 10


def redeem(code: str, discord_user_id: str = DISCORD_ID, name: str = "nelly") -> User:
    return discord_link_code_redeem(
        code=code, discord_user_id=discord_user_id, discord_username=name
    )


def profile_of(user: User) -> Profile:
    return Profile.objects.get(user=user)


def test_a_code_links_the_discord_user_who_types_it(user: User) -> None:
    code = discord_link_code_create(user=user)

    linked = redeem(f"  {code.lower()} ")

    assert re.fullmatch(f"[{LINK_CODE_ALPHABET}]{{8}}", code)
    assert not set(code) & set("0O1IL")
    [stored] = DiscordLinkCode.objects.filter(user=user)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.used_at is not None
    assert timedelta(minutes=9) < stored.expires_at - stored.created_at <= timedelta(minutes=10)
    assert linked == user
    assert (profile_of(user).discord_user_id, profile_of(user).discord_username) == (
        DISCORD_ID,
        "nelly",
    )
    assert discord_user_for(discord_user_id=DISCORD_ID) == user


def test_a_code_works_only_once(user: User) -> None:
    code = discord_link_code_create(user=user)
    redeem(code)

    with pytest.raises(InvalidRequest) as refused:
        redeem(code)

    assert refused.value.code == "discord_link_code_used"
    assert refused.value.message == (
        "That code has already been used. Get a new one on your account page."
    )


def test_an_expired_code_is_refused(user: User) -> None:
    code = discord_link_code_create(user=user)
    DiscordLinkCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(InvalidRequest) as refused:
        redeem(code)

    assert refused.value.code == "discord_link_code_expired"
    assert refused.value.message == "That code has expired. Get a new one on your account page."
    assert profile_of(user).discord_user_id is None


def test_an_unknown_code_is_refused(user: User) -> None:
    discord_link_code_create(user=user)

    with pytest.raises(InvalidRequest) as refused:
        redeem("ABCDEFGH")

    assert refused.value.code == "discord_link_code_unknown"
    assert refused.value.message == (
        "That code is not one this site gave out. Get a new one on your account page."
    )


def test_a_new_code_replaces_the_unused_one(user: User) -> None:
    first = discord_link_code_create(user=user)
    second = discord_link_code_create(user=user)

    with pytest.raises(InvalidRequest) as refused:
        redeem(first)
    assert refused.value.code == "discord_link_code_unknown"
    assert redeem(second) == user
    assert DiscordLinkCode.objects.count() == 1


def test_a_code_of_an_account_linked_to_another_discord_user_is_refused(user: User) -> None:
    redeem(discord_link_code_create(user=user), discord_user_id=OTHER_DISCORD_ID)
    code = discord_link_code_create(user=user)

    with pytest.raises(InvalidRequest) as refused:
        redeem(code)

    assert refused.value.code == "account_already_linked"
    assert refused.value.message == "That account is already linked to another Discord user."
    assert profile_of(user).discord_user_id == OTHER_DISCORD_ID


def test_an_identity_linked_to_another_account_is_not_taken_from_it(
    user: User, other_user: User
) -> None:
    redeem(discord_link_code_create(user=other_user))
    code = discord_link_code_create(user=user)

    with pytest.raises(Conflict) as refused:
        redeem(code)

    assert refused.value.code == "discord_identity_taken"
    assert profile_of(other_user).discord_user_id == DISCORD_ID
    assert profile_of(user).discord_user_id is None
    # Once the caller has let the old account go, the same code links the new one.
    discord_identity_release(discord_user_id=DISCORD_ID)
    assert profile_of(other_user).discord_user_id is None
    assert redeem(code) == user
    assert discord_user_for(discord_user_id=DISCORD_ID) == user


def test_a_discord_user_without_a_link_gets_one_account_with_the_signup_credits(
    db: None, settings: Settings
) -> None:
    settings.SIGNUP_CREDITS = 10

    user, created = discord_account_for(discord_user_id=DISCORD_ID, discord_username="Nelly.B")
    again, created_again = discord_account_for(
        discord_user_id=DISCORD_ID, discord_username="nelly_renamed"
    )

    assert created and not created_again
    assert again == user
    assert user.username == "discord-nelly.b"
    assert not user.has_usable_password()
    assert balance_for(user) == 10
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SIGNUP_GRANT).count() == 1
    assert profile_of(user).discord_username == "nelly_renamed"
    assert User.objects.count() == 1


@pytest.mark.parametrize("discord_username", ["alice", "☃☃", ""])
def test_a_taken_or_unusable_discord_name_gives_a_username_from_the_id(
    user: User, discord_username: str
) -> None:
    User.objects.create_user(username="discord-alice")

    made, created = discord_account_for(
        discord_user_id=DISCORD_ID, discord_username=discord_username
    )

    assert created
    assert made.username == f"discord-{DISCORD_ID}"


def test_a_linked_discord_user_acts_as_the_linked_account(user: User) -> None:
    redeem(discord_link_code_create(user=user))

    assert discord_account_for(discord_user_id=DISCORD_ID, discord_username="nelly") == (
        user,
        False,
    )
    assert User.objects.count() == 1


def test_a_disabled_account_is_not_acted_as(user: User) -> None:
    redeem(discord_link_code_create(user=user))
    User.objects.filter(id=user.id).update(is_active=False)

    with pytest.raises(InvalidRequest) as refused:
        discord_account_for(discord_user_id=DISCORD_ID, discord_username="nelly")

    assert refused.value.code == "account_disabled"
    assert discord_user_for(discord_user_id=DISCORD_ID) is None


def test_unlinking_an_account_that_is_not_linked_is_not_found(user: User) -> None:
    with pytest.raises(NotFound) as refused:
        discord_unlink(user=user)

    assert refused.value.code == "discord_not_linked"


def test_a_code_being_redeemed_cannot_be_redeemed_again_at_the_same_time(
    transactional_db: None,
) -> None:
    """A redemption that has the code locked, and has not committed yet, makes a second one
    wait, and the second then finds the code used."""
    owner = account_create(username="alice", password=None)
    code = discord_link_code_create(user=owner)
    first_locked, first_may_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first_redemption() -> None:
        try:
            with transaction.atomic():
                DiscordLinkCode.objects.filter(user=owner).update(used_at=timezone.now())
                first_locked.set()
                first_may_commit.wait(timeout=30)
        finally:
            connection.close()

    def second_redemption() -> None:
        try:
            redeem(code)
        except InvalidRequest as error:
            outcome["refused"] = error.code
        finally:
            connection.close()

    first = threading.Thread(target=first_redemption)
    first.start()
    assert first_locked.wait(timeout=30)
    second = threading.Thread(target=second_redemption)
    second.start()
    second_waited = lock_waiters_reach(1)
    first_may_commit.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert second_waited
    assert outcome == {"refused": "discord_link_code_used"}
    assert profile_of(owner).discord_user_id is None


def test_when_two_first_uses_race_the_unique_discord_id_picks_one_account(
    transactional_db: None,
) -> None:
    """The first use holds its new account uncommitted while the second makes its own; the
    second must wait on the discord_user_id constraint and then hand back the first's account."""
    first_linked, first_may_commit = threading.Event(), threading.Event()
    results: dict[str, User] = {}

    def first_use() -> None:
        try:
            with transaction.atomic():
                user = account_create(username="first", password=None)
                Profile.objects.filter(user=user).update(discord_user_id=DISCORD_ID)
                first_linked.set()
                first_may_commit.wait(timeout=30)
            results["first"] = user
        finally:
            connection.close()

    def second_use() -> None:
        try:
            results["second"], _ = discord_account_for(
                discord_user_id=DISCORD_ID, discord_username="nelly"
            )
        finally:
            connection.close()

    first = threading.Thread(target=first_use)
    first.start()
    assert first_linked.wait(timeout=30)
    second = threading.Thread(target=second_use)
    second.start()
    second_waited = lock_waiters_reach(1)
    first_may_commit.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert second_waited
    assert results["second"].pk == results["first"].pk
    assert User.objects.count() == 1
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SIGNUP_GRANT).count() == 1


def lock_waiters_reach(count: int) -> bool:
    """Waits until this many sessions of the test database wait on a lock."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] == count:
                return True
            time.sleep(0.02)
    return False


def test_the_account_page_shows_a_new_code_once(
    discord_on: None, alice_client: Client, user: User
) -> None:
    before = alice_client.get("/accounts/").content.decode()
    assert '<section class="card" id="discord">' in before
    assert "Get a link code" in before

    response = alice_client.post("/accounts/discord/code/")
    shown = alice_client.get(response.url).content.decode()
    reloaded = alice_client.get("/accounts/").content.decode()

    assert response.status_code == 302
    assert response.url == "/accounts/#discord"
    match = re.search(
        r"Type <code class=\"key\">/link code:([A-Z2-9]{8})</code> in Discord within 10 minutes\.",
        shown,
    )
    assert match, shown
    assert "/link code:" not in reloaded
    assert DiscordLinkCode.objects.filter(user=user).count() == 1
    assert redeem(match.group(1)) == user


def test_the_account_page_shows_the_link_and_unlinks_after_confirming(
    discord_on: None, alice_client: Client, user: User
) -> None:
    redeem(discord_link_code_create(user=user), name="nelly")
    page = alice_client.get("/accounts/").content.decode()
    assert "Linked to Discord as <strong>nelly</strong>" in page
    assert 'action="/accounts/discord/unlink/"' in page
    assert "Get a link code" not in page

    asked = alice_client.post("/accounts/discord/unlink/")
    assert asked.status_code == 200
    assert "Unlink Discord?" in asked.content.decode()
    assert profile_of(user).discord_user_id == DISCORD_ID

    unlinked = alice_client.post("/accounts/discord/unlink/", {"confirm": "1"}, follow=True)
    assert unlinked.redirect_chain == [("/accounts/", 302)]
    assert "Your account is no longer linked to Discord" in unlinked.content.decode()
    assert "Get a link code" in unlinked.content.decode()
    assert profile_of(user).discord_user_id is None
    assert discord_user_for(discord_user_id=DISCORD_ID) is None


def test_without_discord_the_section_and_its_actions_are_absent(
    settings: Settings, alice_client: Client, user: User
) -> None:
    settings.DISCORD_APPLICATION_ID = ""

    page = alice_client.get("/accounts/").content.decode()

    assert 'id="discord"' not in page
    assert "Get a link code" not in page
    assert alice_client.post("/accounts/discord/code/").status_code == 404
    assert alice_client.post("/accounts/discord/unlink/", {"confirm": "1"}).status_code == 404
    assert not DiscordLinkCode.objects.exists()
