"""Firebase sign-in and linking, with the real firebase-admin verifying tokens signed by keys
whose certificates a requests-mock stand-in serves at Google's certificate address."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests_mock
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from accounts.firebase import FirebaseIdentity, account_for_firebase
from accounts.models import Profile
from accounts.services import account_create
from accounts.tests.firebase_stand_in import (
    CERTIFICATES_URL,
    OAUTH_TOKEN_URL,
    USER_LOOKUP_URL,
    SigningKey,
    id_token_make,
    service_account_file_make,
    signing_key_make,
)
from billing.models import CreditEntry
from billing.selectors import balance_for

PROJECT = "rollerai-test"
SIGN_IN_URL = "/accounts/firebase/"
LINK_URL = "/accounts/firebase/link/"
INVALID_MESSAGE = "Your sign-in could not be verified. Please sign in again."


@dataclass
class Firebase:
    key: SigningKey
    google: requests_mock.Mocker

    def token(self, uid: str, **claims: Any) -> str:
        return id_token_make(self.key, project=PROJECT, uid=uid, **claims)


@pytest.fixture
def firebase(settings: Settings) -> Iterator[Firebase]:
    """A configured Firebase project; its one signing key's certificate is what Google serves.

    The Mocker refuses every other address, so nothing here can reach the network.
    """
    settings.FIREBASE_PROJECT_ID = PROJECT
    settings.FIREBASE_WEB_API_KEY = "test-web-api-key"
    settings.FIREBASE_CREDENTIALS = ""
    key = signing_key_make()
    with requests_mock.Mocker() as google:
        google.get(CERTIFICATES_URL, json={key.kid: key.certificate_pem})
        yield Firebase(key=key, google=google)


def post_token(client: Client, url: str, id_token: str, **body: object) -> Any:
    return client.post(
        url, data=json.dumps({"id_token": id_token, **body}), content_type="application/json"
    )


def csrf_client() -> Client:
    """A browser-like client: CSRF enforced, the token read from the sign-in page like the JS."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def signed_in_user_id(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id is not None else None


def test_a_valid_token_signs_in_a_new_user_with_the_signup_credits(
    db: None, firebase: Firebase, settings: Settings
) -> None:
    client = csrf_client()

    response = post_token(
        client,
        SIGN_IN_URL,
        firebase.token("uid-carol-0001", email="carol@example.com", email_verified=True),
    )

    assert response.status_code == 200
    assert response.json() == {"redirect": "/"}
    assert firebase.google.called  # the real certificate fetch and signature check happened
    user = User.objects.get(profile__firebase_uid="uid-carol-0001")
    assert signed_in_user_id(client) == user.pk
    # Signed in: the front page is the generate page, not the landing page.
    assert b'<form id="generate-form"' in client.get("/").content
    assert user.username == "carol"
    assert user.email == "carol@example.com"
    assert not user.has_usable_password()
    assert balance_for(user) == settings.SIGNUP_CREDITS


def test_an_unverified_email_is_not_kept_nor_used_for_the_username(
    db: None, firebase: Firebase
) -> None:
    client = Client()

    response = post_token(
        client,
        SIGN_IN_URL,
        firebase.token("k9XyZ12345abcdef", email="someone@example.com", email_verified=False),
    )

    assert response.status_code == 200
    user = User.objects.get(profile__firebase_uid="k9XyZ12345abcdef")
    assert signed_in_user_id(client) == user.pk
    assert user.email == ""
    assert user.username == "user-k9XyZ123"


def test_a_taken_username_gets_a_number(db: None, user: User, firebase: Firebase) -> None:
    response = post_token(
        Client(),
        SIGN_IN_URL,
        firebase.token("uid-other-alice", email="Alice@example.com", email_verified=True),
    )

    assert response.status_code == 200
    assert User.objects.get(profile__firebase_uid="uid-other-alice").username == "Alice-2"
    assert User.objects.get(pk=user.pk).profile.firebase_uid is None


def test_the_same_uid_signs_into_the_same_account_without_a_second_grant(
    db: None, firebase: Firebase, settings: Settings
) -> None:
    first, second = Client(), Client()

    assert post_token(first, SIGN_IN_URL, firebase.token("uid-dave")).status_code == 200
    assert post_token(second, SIGN_IN_URL, firebase.token("uid-dave")).status_code == 200

    user = User.objects.get(profile__firebase_uid="uid-dave")
    assert User.objects.count() == 1
    assert signed_in_user_id(first) == signed_in_user_id(second) == user.pk
    assert CreditEntry.objects.filter(user=user).count() == 1
    assert balance_for(user) == settings.SIGNUP_CREDITS


def test_it_returns_to_a_page_of_this_site_but_never_elsewhere(
    db: None, firebase: Firebase
) -> None:
    inside = post_token(Client(), SIGN_IN_URL, firebase.token("uid-erin"), next="/billing/")
    outside = post_token(
        Client(), SIGN_IN_URL, firebase.token("uid-erin"), next="https://evil.example/"
    )

    assert inside.json() == {"redirect": "/billing/"}
    assert outside.json() == {"redirect": "/"}


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        (
            "expired",
            "firebase_token_expired",
            "Your sign-in has expired. Please sign in again.",
        ),
        ("another project's audience", "firebase_token_invalid", INVALID_MESSAGE),
        ("another issuer", "firebase_token_invalid", INVALID_MESSAGE),
        ("unknown key id", "firebase_token_invalid", INVALID_MESSAGE),
        ("signed by another key with the same key id", "firebase_token_invalid", INVALID_MESSAGE),
        ("not a token", "firebase_token_invalid", INVALID_MESSAGE),
    ],
)
def test_a_bad_token_is_refused_and_signs_nobody_in(
    db: None, firebase: Firebase, case: str, code: str, message: str
) -> None:
    uid = "uid-mallory"
    id_token = {
        "expired": lambda: firebase.token(uid, age_seconds=7200),
        "another project's audience": lambda: firebase.token(uid, audience="another-project"),
        "another issuer": lambda: firebase.token(
            uid, issuer="https://securetoken.google.com/another-project"
        ),
        "unknown key id": lambda: id_token_make(signing_key_make(), project=PROJECT, uid=uid),
        "signed by another key with the same key id": lambda: id_token_make(
            signing_key_make(kid=firebase.key.kid), project=PROJECT, uid=uid
        ),
        "not a token": lambda: "not-a-jwt",
    }[case]()
    client = Client()

    response = post_token(client, SIGN_IN_URL, id_token)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": code, "message": message, "field": None}}
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()


def test_a_revoked_token_is_refused_when_a_service_account_is_configured(
    db: None, firebase: Firebase, settings: Settings, tmp_path: Path
) -> None:
    settings.FIREBASE_CREDENTIALS = str(
        service_account_file_make(tmp_path / "service-account.json", project=PROJECT)
    )
    firebase.google.post(OAUTH_TOKEN_URL, json={"access_token": "ya29.test", "expires_in": 3600})
    # The user signed out everywhere after this token was issued.
    firebase.google.post(
        USER_LOOKUP_URL.format(project=PROJECT),
        json={"users": [{"localId": "uid-frank", "validSince": str(int(time.time()))}]},
    )
    client = Client()

    response = post_token(client, SIGN_IN_URL, firebase.token("uid-frank", age_seconds=120))

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "firebase_token_revoked",
        "message": "Your sign-in has been revoked. Please sign in again.",
        "field": None,
    }
    assert firebase.google.last_request.headers["Authorization"] == "Bearer ya29.test"
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()


def test_unreachable_google_certificates_give_a_clear_error(db: None, firebase: Firebase) -> None:
    firebase.google.get(CERTIFICATES_URL, status_code=503)

    response = post_token(Client(), SIGN_IN_URL, firebase.token("uid-gina"))

    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "firebase_unavailable",
        "message": "Sign-in could not be verified right now. Please try again in a minute.",
        "field": None,
    }
    assert not User.objects.exists()


def test_a_request_without_an_id_token_is_refused(db: None, firebase: Firebase) -> None:
    response = Client().post(SIGN_IN_URL, data="{}", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "required",
        "message": "Send the Firebase ID token as 'id_token'.",
        "field": "id_token",
    }


def test_sign_in_without_the_csrf_token_is_refused(db: None, firebase: Firebase) -> None:
    client = Client(enforce_csrf_checks=True)

    response = post_token(client, SIGN_IN_URL, firebase.token("uid-hank"))

    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert not User.objects.exists()


def test_a_disabled_account_cannot_sign_in_with_firebase(db: None, firebase: Firebase) -> None:
    post_token(Client(), SIGN_IN_URL, firebase.token("uid-ivan"))
    User.objects.filter(profile__firebase_uid="uid-ivan").update(is_active=False)
    client = Client()

    response = post_token(client, SIGN_IN_URL, firebase.token("uid-ivan"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "account_disabled"
    assert signed_in_user_id(client) is None


def test_a_local_account_links_a_firebase_uid_and_then_signs_in_with_it(
    user: User, alice_client: Client, firebase: Firebase
) -> None:
    credits_before = balance_for(user)

    linked = post_token(alice_client, LINK_URL, firebase.token("uid-alice"))
    again = post_token(alice_client, LINK_URL, firebase.token("uid-alice"))
    client = Client()
    signed_in = post_token(client, SIGN_IN_URL, firebase.token("uid-alice"))

    assert linked.status_code == 200
    assert linked.json() == {"linked": True}
    assert again.status_code == 200
    assert signed_in.status_code == 200
    assert signed_in_user_id(client) == user.pk
    assert User.objects.count() == 1
    assert balance_for(user) == credits_before


def test_a_uid_linked_to_another_user_cannot_be_linked_again(
    user: User, alice_client: Client, other_user: User, bob_client: Client, firebase: Firebase
) -> None:
    assert post_token(bob_client, LINK_URL, firebase.token("uid-bob")).status_code == 200

    response = post_token(alice_client, LINK_URL, firebase.token("uid-bob"))

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "firebase_already_linked",
        "message": "This Firebase account is already linked to another RollerAI account.",
        "field": None,
    }
    assert Profile.objects.get(user=user).firebase_uid is None
    assert Profile.objects.get(user=other_user).firebase_uid == "uid-bob"


def test_an_account_linked_to_one_uid_refuses_another(
    user: User, alice_client: Client, firebase: Firebase
) -> None:
    assert post_token(alice_client, LINK_URL, firebase.token("uid-alice")).status_code == 200

    response = post_token(alice_client, LINK_URL, firebase.token("uid-alice-second"))

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "account_already_linked",
        "message": "Your account is already linked to a different Firebase account.",
        "field": None,
    }
    assert Profile.objects.get(user=user).firebase_uid == "uid-alice"


def test_linking_needs_a_signed_in_account(db: None, firebase: Firebase) -> None:
    response = post_token(Client(), LINK_URL, firebase.token("uid-jane"))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Profile.objects.filter(firebase_uid="uid-jane").exists()


def test_without_a_firebase_project_the_endpoints_are_not_found(
    user: User, alice_client: Client, firebase: Firebase, settings: Settings
) -> None:
    settings.FIREBASE_PROJECT_ID = ""
    expected = {
        "error": {
            "code": "firebase_not_configured",
            "message": "Firebase sign-in is not available on this site.",
            "field": None,
        }
    }

    sign_in = post_token(Client(), SIGN_IN_URL, firebase.token("uid-kate"))
    link = post_token(alice_client, LINK_URL, firebase.token("uid-kate"))

    assert (sign_in.status_code, sign_in.json()) == (404, expected)
    assert (link.status_code, link.json()) == (404, expected)
    assert not firebase.google.called


def test_the_sign_in_page_offers_firebase_only_when_configured(
    db: None, settings: Settings
) -> None:
    settings.FIREBASE_PROJECT_ID = ""
    settings.FIREBASE_WEB_API_KEY = ""
    plain = Client().get("/accounts/login/")
    settings.FIREBASE_PROJECT_ID = PROJECT
    settings.FIREBASE_WEB_API_KEY = "test-web-api-key"
    offered = Client().get("/accounts/login/")

    assert plain.status_code == offered.status_code == 200
    assert "Continue with Google" not in plain.content.decode()
    assert "firebase-signin.js" not in plain.content.decode()
    page = offered.content.decode()
    assert "Continue with Google" in page
    assert '<script type="module" src="/static/js/firebase-signin.js"></script>' in page
    assert '<script id="firebase-config" type="application/json">' in page
    assert f'"projectId": "{PROJECT}"' in page
    assert '"apiKey": "test-web-api-key"' in page
    assert 'data-sign-in-url="/accounts/firebase/"' in page
    assert "data-link-url" not in page


def test_too_many_sign_in_attempts_from_one_address_are_refused(
    db: None, firebase: Firebase, settings: Settings
) -> None:
    settings.SIGN_INS_PER_MINUTE = 2
    client = Client()

    statuses = [
        post_token(client, SIGN_IN_URL, firebase.token("uid-leo")).status_code for _ in range(2)
    ]
    refused = post_token(Client(), SIGN_IN_URL, firebase.token("uid-leo"))

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"] == {
        "code": "rate_limited",
        "message": "Too many sign-in attempts from your network. Wait a minute and try again.",
        "field": None,
    }


def test_on_the_account_page_the_buttons_link_until_a_login_is_linked(
    user: User, firebase: Firebase
) -> None:
    request = RequestFactory().get("/accounts/")
    request.user = user

    unlinked = render_to_string(
        "accounts/_firebase_signin.html", {"firebase_link": True}, request=request
    )
    Profile.objects.filter(user=user).update(firebase_uid="uid-alice")
    user.refresh_from_db()
    linked = render_to_string(
        "accounts/_firebase_signin.html", {"firebase_link": True}, request=request
    )

    assert 'data-link-url="/accounts/firebase/link/"' in unlinked
    assert "Link Firebase: Google" in unlinked
    assert "Continue with Google" not in unlinked
    # Once linked the account page says so itself; there is nothing left to link.
    assert linked.strip() == ""


def test_when_two_first_sign_ins_race_the_unique_uid_picks_one_account(
    transactional_db: None,
) -> None:
    """The first sign-in holds its new account uncommitted while the second makes its own; the
    second must wait on the firebase_uid constraint and then hand back the first one's account."""
    identity = FirebaseIdentity(uid="uid-race", email="", email_verified=False)
    first_linked, first_may_commit = threading.Event(), threading.Event()
    results: dict[str, User] = {}

    def first_sign_in() -> None:
        try:
            with transaction.atomic():
                user = account_create(username="first", password=None)
                Profile.objects.filter(user=user).update(firebase_uid=identity.uid)
                first_linked.set()
                first_may_commit.wait(timeout=30)
            results["first"] = user
        finally:
            connection.close()

    def second_sign_in() -> None:
        try:
            results["second"] = account_for_firebase(identity=identity)
        finally:
            connection.close()

    first = threading.Thread(target=first_sign_in)
    first.start()
    assert first_linked.wait(timeout=30)
    second = threading.Thread(target=second_sign_in)
    second.start()
    # Wait until the second sign-in is really blocked on the first one's row.
    deadline = time.monotonic() + 30
    second_waited = False
    with connection.cursor() as cursor:
        while not second_waited and time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            second_waited = cursor.fetchone()[0] == 1
            time.sleep(0.02)
    first_may_commit.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert second_waited
    assert results["second"].pk == results["first"].pk
    assert User.objects.count() == 1
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SIGNUP_GRANT).count() == 1
