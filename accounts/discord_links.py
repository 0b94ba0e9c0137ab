"""Discord account links: the one-time codes that tie a Discord user to a site account (made on the
account page, typed into Discord's /link), unlinking, and the account a Discord user's commands
act as (one made for them on first use when they have not linked one)."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import DiscordLinkCode, Profile
from accounts.services import account_create
from rollerai.exceptions import Conflict, InvalidRequest, NotFound

# Read off one screen and typed on another: no 0/O, 1/I/L to mix up. 31**8 codes, of which a
# user has at most one unused, and only for minutes.
LINK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8
DISCORD_USERNAME_MAX_LENGTH = 100
USERNAME_MAX_LENGTH = 150
# What Django's default username validator accepts.
USERNAME_DISALLOWED = re.compile(r"[^\w.@+-]")
# Two first uses by the same Discord user can race; a handful of tries always settles it.
ACCOUNT_ATTEMPTS = 5
GET_A_NEW_CODE = "Get a new one on your account page."


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _discord_user_id_check(discord_user_id: str) -> None:
    # Comes from Discord's signed interaction, so anything else is a bug in the caller.
    if not (discord_user_id.isascii() and discord_user_id.isdigit()) or len(discord_user_id) > 32:
        raise ValueError(f"Not a Discord user id: {discord_user_id!r}")


@transaction.atomic
def discord_link_code_create(*, user: User) -> str:
    """A new one-time code that links the Discord user who types it to this account. Only its
    hash is stored, so the returned code cannot be shown again; the user's earlier unused codes
    stop working, so at most one is ever out there."""
    code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
    DiscordLinkCode.objects.filter(user=user, used_at__isnull=True).delete()
    DiscordLinkCode.objects.create(
        user=user,
        code_hash=_code_hash(code),
        expires_at=timezone.now() + timedelta(minutes=settings.DISCORD_LINK_CODE_MINUTES),
    )
    return code


def discord_link_code_redeem(*, code: str, discord_user_id: str, discord_username: str) -> User:
    """Tie a Discord user to the account a code was made for, using the code up, and return
    that account.

    A Discord user already tied to another account is refused with Conflict
    ("discord_identity_taken") rather than moved, since that account may hold their earlier
    images and credits: the caller decides what becomes of it, calls
    discord_identity_release and then redeems the (still unused) code again.
    """
    _discord_user_id_check(discord_user_id)
    try:
        with transaction.atomic():
            return _code_redeem(
                code_hash=_code_hash(code.strip().upper()),
                discord_user_id=discord_user_id,
                discord_username=discord_username[:DISCORD_USERNAME_MAX_LENGTH],
            )
    except IntegrityError:
        # The unique discord_user_id: a concurrent link or first use took it since the check.
        raise _identity_taken()


def _code_redeem(*, code_hash: str, discord_user_id: str, discord_username: str) -> User:
    # Locked, so that two redemptions of one code cannot both succeed.
    link_code = (
        DiscordLinkCode.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(code_hash=code_hash)
        .first()
    )
    if link_code is None:
        raise InvalidRequest(
            f"That code is not one this site gave out. {GET_A_NEW_CODE}",
            code="discord_link_code_unknown",
        )
    if link_code.used_at is not None:
        raise InvalidRequest(
            f"That code has already been used. {GET_A_NEW_CODE}", code="discord_link_code_used"
        )
    now = timezone.now()
    if link_code.expires_at <= now:
        raise InvalidRequest(
            f"That code has expired. {GET_A_NEW_CODE}", code="discord_link_code_expired"
        )
    user = link_code.user
    if not user.is_active:
        raise InvalidRequest("That account has been disabled.", code="account_disabled")
    # Accounts made outside sign-up (createsuperuser) may not have a profile yet.
    Profile.objects.get_or_create(user=user)
    profile = Profile.objects.select_for_update().get(user=user)
    if profile.discord_user_id not in (None, discord_user_id):
        # Replacing a link would silently strand the Discord user linked now.
        raise InvalidRequest(
            "That account is already linked to another Discord user.",
            code="account_already_linked",
        )
    if Profile.objects.filter(discord_user_id=discord_user_id).exclude(user=user).exists():
        raise _identity_taken()
    DiscordLinkCode.objects.filter(id=link_code.id).update(used_at=now)
    profile.discord_user_id = discord_user_id
    profile.discord_username = discord_username
    profile.save(update_fields=["discord_user_id", "discord_username"])
    return user


def _identity_taken() -> Conflict:
    return Conflict(
        "This Discord user is already linked to another account.", code="discord_identity_taken"
    )


def discord_identity_release(*, discord_user_id: str) -> None:
    """Untie this Discord user from whichever account holds them (if any), so that a link code
    can tie them to another; the account itself is left as it is."""
    Profile.objects.filter(discord_user_id=discord_user_id).update(
        discord_user_id=None, discord_username=""
    )


def discord_account_for(*, discord_user_id: str, discord_username: str) -> tuple[User, bool]:
    """The account a Discord user's commands act as, and whether it was made just now: the one
    linked to them, or else a new one (with the signup credits and no password) so that they can
    start without visiting the site. Their Discord name is kept up to date for showing."""
    _discord_user_id_check(discord_user_id)
    discord_username = discord_username[:DISCORD_USERNAME_MAX_LENGTH]
    for _ in range(ACCOUNT_ATTEMPTS):
        existing = _linked_account(
            discord_user_id=discord_user_id, discord_username=discord_username
        )
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                user = account_create(
                    username=_username_free(
                        discord_user_id=discord_user_id, discord_username=discord_username
                    ),
                    password=None,
                )
                Profile.objects.filter(user=user).update(
                    discord_user_id=discord_user_id, discord_username=discord_username
                )
            return user, True
        except IntegrityError:
            # Either a concurrent first use by the same Discord user won (the unique
            # discord_user_id decides, and its account is the one to use; the next round reads
            # it), or someone else took the username in between.
            continue
    raise Conflict(
        "Your account could not be created right now. Please try again.",
        code="account_create_conflict",
    )


def _linked_account(*, discord_user_id: str, discord_username: str) -> User | None:
    profile = Profile.objects.select_related("user").filter(discord_user_id=discord_user_id).first()
    if profile is None:
        return None
    if not profile.user.is_active:
        raise InvalidRequest("This account has been disabled.", code="account_disabled")
    if profile.discord_username != discord_username:
        Profile.objects.filter(id=profile.id).update(discord_username=discord_username)
    return profile.user


def _username_free(*, discord_user_id: str, discord_username: str) -> str:
    """discord-<their Discord name> if nobody has it, else discord-<their id> (numbered on if
    even that is taken)."""
    name = USERNAME_DISALLOWED.sub("", discord_username.lower())
    candidates = [f"discord-{name}"[:USERNAME_MAX_LENGTH]] if name else []
    candidates.append(f"discord-{discord_user_id}")
    for username in candidates:
        if not User.objects.filter(username__iexact=username).exists():
            return username
    number = 2
    while User.objects.filter(username__iexact=f"{candidates[-1]}-{number}").exists():
        number += 1
    return f"{candidates[-1]}-{number}"


def discord_unlink(*, user: User) -> None:
    """Untie the account from its Discord user, whose commands then no longer act as it."""
    unlinked = Profile.objects.filter(user=user, discord_user_id__isnull=False).update(
        discord_user_id=None, discord_username=""
    )
    if not unlinked:
        raise NotFound("Your account is not linked to Discord.", code="discord_not_linked")
