"""/link: from now on, the Discord identity uses the site account whose page showed the code.

Someone who used the bot before linking has an account the bot made for them. Linking moves
what it holds (finished generations and remaining credits) to the account they link, and
deletes it, so that nothing they made or had is left behind where they cannot sign in."""

from django.contrib.auth.models import User
from django.db import transaction

from accounts.discord_links import discord_identity_release, discord_link_code_redeem
from accounts.selectors import discord_user_for
from billing.models import CreditEntry
from billing.selectors import balance_for
from billing.services.credits import credits_grant
from discordbot.services import Interaction
from generation.models import Generation
from generation.services.transitions import ACTIVE
from rollerai.exceptions import Conflict, InvalidRequest


def link(interaction: Interaction, code: str) -> User:
    with transaction.atomic():
        made_for_discord = _account_made_for_discord(interaction.discord_user_id)
        if made_for_discord is not None:
            discord_identity_release(discord_user_id=interaction.discord_user_id)
        try:
            user = discord_link_code_redeem(
                code=code,
                discord_user_id=interaction.discord_user_id,
                discord_username=interaction.discord_username,
            )
        except Conflict:
            raise InvalidRequest(
                "Your Discord identity is already linked to another account on the site. "
                "Unlink it on that account's page first."
            ) from None
        if made_for_discord is not None and made_for_discord != user:
            _account_merge(made_for_discord, into=user)
    return user


def _account_made_for_discord(discord_user_id: str) -> User | None:
    """The account the bot made for this identity, if it still uses one: it has no password
    and no other sign-in, so nobody can use it on the site."""
    user = discord_user_for(discord_user_id=discord_user_id)
    if user is None or user.has_usable_password() or user.profile.firebase_uid:
        return None
    if Generation.objects.filter(user=user, status__in=ACTIVE).exists():
        raise InvalidRequest(
            "Some of your images are still being made: /link again once they are done, and "
            "they come along to your account."
        )
    return user


def _account_merge(old: User, *, into: User) -> None:
    Generation.objects.filter(user=old).update(user=into)
    credits = balance_for(old)
    if credits > 0:
        credits_grant(
            user=into,
            amount=credits,
            kind=CreditEntry.Kind.ACCOUNT_MOVE,
            reference=f"discord-account:{old.pk}",
        )
    # Its own ledger goes with it; the generations are no longer its own.
    old.delete()
