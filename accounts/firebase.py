"""Firebase sign-in: verifying the browser's Firebase ID tokens with firebase-admin, and the one
local account each Firebase identity signs into."""

import logging
import re
import threading
from dataclasses import dataclass

import firebase_admin
import google.auth.credentials
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from firebase_admin import auth, credentials
from firebase_admin.exceptions import FirebaseError

from accounts.models import Profile
from accounts.services import account_create
from rollerai.exceptions import Conflict, InvalidRequest, NotFound, Unavailable

logger = logging.getLogger(__name__)

# firebase-admin waits 120 s by default; a sign-in should fail long before a visitor gives up.
HTTP_TIMEOUT_SECONDS = 10
# Two new accounts that want the same username can race; a handful of retries always settles it.
USERNAME_ATTEMPTS = 5
USERNAME_MAX_LENGTH = 150
# What Django's default username validator accepts.
USERNAME_DISALLOWED = re.compile(r"[^\w.@+-]")

_app_lock = threading.Lock()


@dataclass(frozen=True)
class FirebaseIdentity:
    """Who a verified Firebase ID token says the visitor is."""

    uid: str
    email: str
    email_verified: bool


class _AnonymousCredential(credentials.Base):
    """Verifying ID tokens only needs Google's public certificates, so no account is needed.

    Without any credential firebase-admin looks for Application Default Credentials, which
    probes the cloud metadata server and hangs on machines outside Google Cloud.
    """

    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.auth.credentials.AnonymousCredentials()


def firebase_configured() -> bool:
    return bool(settings.FIREBASE_PROJECT_ID)


def _firebase_app() -> firebase_admin.App:
    project_id = settings.FIREBASE_PROJECT_ID
    credentials_path = settings.FIREBASE_CREDENTIALS
    # A named app of our own, so nothing else that uses firebase-admin's default app clashes with
    # it; the name carries the configuration so that a changed setting gets a fresh app.
    name = f"rollerai:{project_id}:{credentials_path}"
    with _app_lock:
        try:
            return firebase_admin.get_app(name)
        except ValueError:
            credential: credentials.Base = (
                credentials.Certificate(credentials_path)
                if credentials_path
                else _AnonymousCredential()
            )
            return firebase_admin.initialize_app(
                credential,
                {"projectId": project_id, "httpTimeout": HTTP_TIMEOUT_SECONDS},
                name=name,
            )


def firebase_token_verify(*, id_token: str) -> FirebaseIdentity:
    """The identity in a Firebase ID token, once firebase-admin has checked its signature,
    project, issuer and expiry (and, with a service account, that it was not revoked)."""
    if not firebase_configured():
        raise NotFound(
            "Firebase sign-in is not available on this site.", code="firebase_not_configured"
        )
    # Outside the try: a broken service account file is the site's fault and must be seen.
    app = _firebase_app()
    try:
        claims = auth.verify_id_token(
            id_token,
            app=app,
            # Revocation is looked up in Firebase's user database, which needs a service account.
            check_revoked=bool(settings.FIREBASE_CREDENTIALS),
        )
    # Subclasses of InvalidIdTokenError, so they come first.
    except auth.ExpiredIdTokenError:
        raise InvalidRequest(
            "Your sign-in has expired. Please sign in again.", code="firebase_token_expired"
        )
    # A user deleted from the Firebase project since the token was issued counts as revoked.
    except (auth.RevokedIdTokenError, auth.UserNotFoundError):
        raise InvalidRequest(
            "Your sign-in has been revoked. Please sign in again.", code="firebase_token_revoked"
        )
    except auth.UserDisabledError:
        raise InvalidRequest(
            "This Firebase account has been disabled.", code="firebase_user_disabled"
        )
    except (auth.InvalidIdTokenError, ValueError) as error:
        # The visitor only needs to know it failed; the reason helps whoever runs the site.
        logger.info("Firebase ID token rejected: %s", error)
        raise InvalidRequest(
            "Your sign-in could not be verified. Please sign in again.",
            code="firebase_token_invalid",
        )
    except (auth.CertificateFetchError, FirebaseError) as error:
        # Google's certificates or user database could not be reached: not the visitor's fault,
        # and worth a look if it keeps happening.
        logger.warning("Firebase could not verify an ID token: %s", error, exc_info=True)
        raise Unavailable(
            "Sign-in could not be verified right now. Please try again in a minute.",
            code="firebase_unavailable",
        )
    email = claims.get("email") or ""
    return FirebaseIdentity(
        uid=claims["uid"],
        email=email if isinstance(email, str) else "",
        email_verified=claims.get("email_verified") is True,
    )


def _user_with_firebase_uid(uid: str) -> User | None:
    return User.objects.filter(profile__firebase_uid=uid).first()


def _username_free(identity: FirebaseIdentity) -> str:
    """A username nobody has, from the verified email's local part or else the uid."""
    local_part = identity.email.partition("@")[0] if identity.email_verified else ""
    base = USERNAME_DISALLOWED.sub("", local_part) or f"user-{identity.uid[:8]}"
    base = base[: USERNAME_MAX_LENGTH - 8]
    username, number = base, 1
    while User.objects.filter(username__iexact=username).exists():
        number += 1
        username = f"{base}-{number}"
    return username


def _active(user: User) -> User:
    if not user.is_active:
        raise InvalidRequest("This account has been disabled.", code="account_disabled")
    return user


def account_for_firebase(*, identity: FirebaseIdentity) -> User:
    """The user a Firebase identity signs into, made (with the signup credits) on first sign-in."""
    user = _user_with_firebase_uid(identity.uid)
    if user is not None:
        return _active(user)
    for _ in range(USERNAME_ATTEMPTS):
        try:
            with transaction.atomic():
                user = account_create(
                    username=_username_free(identity),
                    password=None,
                    email=identity.email if identity.email_verified else "",
                )
                Profile.objects.filter(user=user).update(firebase_uid=identity.uid)
            return user
        except IntegrityError:
            # Either a concurrent first sign-in with the same uid won (the unique firebase_uid
            # decides, and its account is the one to use), or another sign-up took the username.
            winner = _user_with_firebase_uid(identity.uid)
            if winner is not None:
                return _active(winner)
    raise Conflict(
        "Your account could not be created right now. Please try again.",
        code="account_create_conflict",
    )


def firebase_link(*, user: User, identity: FirebaseIdentity) -> None:
    """Let a Firebase identity sign into this (signed-in) local account from now on."""
    try:
        with transaction.atomic():
            # Accounts made outside sign-up (createsuperuser) may not have a profile yet.
            Profile.objects.get_or_create(user=user)
            linked = (
                Profile.objects.filter(user=user)
                .filter(Q(firebase_uid__isnull=True) | Q(firebase_uid=identity.uid))
                .update(firebase_uid=identity.uid)
            )
    except IntegrityError:
        # The unique firebase_uid: this identity already signs into someone else's account.
        raise Conflict(
            "This Firebase account is already linked to another RollerAI account.",
            code="firebase_already_linked",
        )
    if not linked:
        # Replacing a link would silently strand the account the old identity signed into.
        raise Conflict(
            "Your account is already linked to a different Firebase account.",
            code="account_already_linked",
        )
