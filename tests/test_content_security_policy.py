"""Pages carry a Content-Security-Policy that runs only our own scripts (no inline ones), and
allows Firebase's SDK and popup only when Firebase sign-in is configured."""

import subprocess
import sys

from django.test import Client

from testing.processes import BASE_DIR, process_environment

# Prints the policy of the sign-in page as served by settings read from the environment.
SIGN_IN_PAGE_POLICY = """
import django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").get("/accounts/login/")
print(response.status_code, 'id="firebase-signin"' in response.content.decode())
print(response["Content-Security-Policy"])
"""


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


def test_pages_run_only_their_own_scripts(user: object, alice_client: Client) -> None:
    for url in ["/", "/gallery/", "/billing/", "/accounts/", "/accounts/login/"]:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert "<script>" not in response.content.decode(), url


def sign_in_page_policy(**env: str) -> tuple[str, dict[str, list[str]]]:
    result = subprocess.run(
        [sys.executable, "-c", SIGN_IN_PAGE_POLICY],
        cwd=BASE_DIR,
        env=process_environment(
            FIREBASE_PROJECT_ID="rollerai-test",
            FIREBASE_WEB_API_KEY="AIzaTestKeyNotSecret",
            DJANGO_SECRET_KEY="x",
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status_line, policy_line = result.stdout.strip().splitlines()
    return status_line, directives(policy_line)


def test_with_firebase_configured_its_origins_are_allowed(db: None) -> None:
    status_line, policy = sign_in_page_policy()

    assert status_line == "200 True"
    # The SDK itself is the site's own copy (static/vendor/firebase/).
    assert policy["script-src"] == ["'self'", "https://apis.google.com"]
    assert "https://identitytoolkit.googleapis.com" in policy["connect-src"]
    assert "https://securetoken.googleapis.com" in policy["connect-src"]
    assert policy["frame-src"] == ["https://rollerai-test.firebaseapp.com"]


def test_an_sdk_from_elsewhere_and_an_auth_emulator_are_allowed_when_named(db: None) -> None:
    status_line, policy = sign_in_page_policy(
        FIREBASE_JS_SDK_URL="https://www.gstatic.com/firebasejs/12.19.0/",
        FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099",
    )

    assert status_line == "200 True"
    assert policy["script-src"] == [
        "'self'",
        "https://www.gstatic.com",
        "https://apis.google.com",
    ]
    assert "http://127.0.0.1:9099" in policy["connect-src"]
