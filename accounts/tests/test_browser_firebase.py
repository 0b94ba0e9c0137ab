"""Firebase sign-in end to end with real parts: the site's own copy of the Firebase web SDK in
Debian's Chromium, pointed at the Firebase Auth emulator (firebase-tools), and firebase-admin in
the site's web server verifying the emulator's ID tokens."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from accounts.services import account_create
from conftest import ARTIFACTS_DIR, PASSWORD
from testing.firebase_emulator import EMULATOR_PROJECT_ID, FirebaseAuthEmulator
from testing.processes import BASE_DIR, site_start

SDK = BASE_DIR / "static" / "vendor" / "firebase" / "firebase-auth.js"
PHONE = {"width": 390, "height": 844}
FIREBASE_PASSWORD = "firebase-login-secret"


@pytest.fixture(scope="module")
def firebase_site(
    django_db_setup: None,
    firebase_emulator: FirebaseAuthEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The site with Firebase sign-in on, its page's SDK and firebase-admin both using the
    emulator."""
    if not SDK.exists():
        pytest.fail(f"{SDK} is missing: run `make firebase-sdk` (make test does).")
    servers, url = site_start(
        tmp_path_factory.mktemp("firebase-web"),
        env={
            "FIREBASE_PROJECT_ID": EMULATOR_PROJECT_ID,
            "FIREBASE_WEB_API_KEY": "emulator-api-key",
            "FIREBASE_AUTH_EMULATOR_HOST": firebase_emulator.host,
            # Every step here signs in; the per-address limit has tests of its own.
            "SIGN_INS_PER_MINUTE": "1000",
        },
    )
    yield url
    for server in servers:
        server.stop()


def firebase_uid(emulator: FirebaseAuthEmulator, email: str) -> str:
    """The uid of the emulator's login with this email."""
    uids = [str(user["localId"]) for user in emulator.users() if user.get("email") == email]
    assert len(uids) == 1, emulator.users()
    return uids[0]


def firebase_form_fill(page: Any, email: str) -> None:
    """Opens the widget's email form, once its SDK has loaded, and types the login in."""
    page.wait_for_selector("#firebase-signin[data-ready=true]")
    page.click("#firebase-signin summary")
    page.fill("#firebase-email", email)
    page.fill("#firebase-password", FIREBASE_PASSWORD)


def password_sign_in(page: Any, site: str, username: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary:has-text('Sign in')")
    page.wait_for_url(f"{site}/")


def sign_out(page: Any, site: str) -> None:
    page.click("header button:has-text('Sign out')")
    page.wait_for_selector("header a[href='/accounts/login/']")
    assert not page.is_visible("#balance")


def signed_in_as(page: Any) -> str:
    return str(page.inner_text("header a[href='/accounts/']"))


@pytest.mark.browser
def test_a_new_user_signs_up_with_a_firebase_login_and_signs_in_again_as_the_same_user(
    transactional_db: None,
    firebase_site: str,
    firebase_emulator: FirebaseAuthEmulator,
    browser_page: Any,
) -> None:
    page = browser_page
    email = "erin@example.com"
    page.goto(f"{firebase_site}/accounts/login/")
    firebase_form_fill(page, email)
    assert page.is_visible("[data-firebase-emulator]")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.locator("#firebase-signin").screenshot(path=str(ARTIFACTS_DIR / "firebase-widget.png"))

    page.click("#firebase-signin button[value=create]")
    page.wait_for_url(f"{firebase_site}/")
    user = User.objects.get(profile__firebase_uid=firebase_uid(firebase_emulator, email))
    assert signed_in_as(page) == user.username
    credits = settings.SIGNUP_CREDITS
    assert page.inner_text("#balance") == f"{credits} credit{'s' if credits != 1 else ''}"
    page.screenshot(path=str(ARTIFACTS_DIR / "firebase-signed-in.png"), full_page=True)

    sign_out(page, firebase_site)
    page.goto(f"{firebase_site}/accounts/login/")
    firebase_form_fill(page, email)
    page.click("#firebase-signin button[value=sign-in]")
    page.wait_for_url(f"{firebase_site}/")
    assert signed_in_as(page) == user.username
    assert User.objects.count() == 1


@pytest.mark.browser
def test_a_local_account_links_a_firebase_login_that_no_other_account_can_then_link(
    transactional_db: None,
    firebase_site: str,
    firebase_emulator: FirebaseAuthEmulator,
    browser_page: Any,
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    alice = account_create(username="alice", password=PASSWORD)
    bob = account_create(username="bob", password=PASSWORD)
    email = "alice@example.com"

    password_sign_in(page, firebase_site, "alice")
    page.goto(f"{firebase_site}/accounts/")
    assert not page.is_visible("text=Linked to a Firebase sign-in.")
    firebase_form_fill(page, email)
    page.click("#firebase-signin button[value=create]")
    page.wait_for_selector("text=Linked to a Firebase sign-in.")
    assert not page.is_visible("#firebase-signin")
    alice.profile.refresh_from_db()
    assert alice.profile.firebase_uid == firebase_uid(firebase_emulator, email)

    # The Firebase login now opens alice's account.
    sign_out(page, firebase_site)
    page.goto(f"{firebase_site}/accounts/login/")
    firebase_form_fill(page, email)
    page.click("#firebase-signin button[value=sign-in]")
    page.wait_for_url(f"{firebase_site}/")
    assert signed_in_as(page) == "alice"

    # Bob, signed in with his password, tries to link the same Firebase login.
    sign_out(page, firebase_site)
    password_sign_in(page, firebase_site, "bob")
    page.goto(f"{firebase_site}/accounts/")
    firebase_form_fill(page, email)
    page.click("#firebase-signin button[value=sign-in]")
    error = page.locator("#firebase-signin [role=alert]")
    error.wait_for(state="visible")
    assert error.inner_text() == (
        "This Firebase account is already linked to another RollerAI account."
    )
    assert not page.is_visible("text=Linked to a Firebase sign-in.")
    # Nothing overflows sideways on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    bob.profile.refresh_from_db()
    assert bob.profile.firebase_uid is None
    assert signed_in_as(page) == "bob"


def test_the_site_serves_the_firebase_sdk_itself() -> None:
    """The page's SDK needs nothing from Google's CDN: firebase-auth.js imports its sibling."""
    if not SDK.exists():
        pytest.fail(f"{SDK} is missing: run `make firebase-sdk` (make test does).")
    text = SDK.read_text()
    assert 'from"./firebase-app.js"' in text
    assert 'from"https://' not in text
