"""Taking access away closes the live sockets that used it, within seconds, and only those:
revoking an API key, signing out, changing the password and deleting the account, each done
through the site's real pages against daphne and watched with a real websocket client."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User

from accounts.models import ApiKey
from accounts.services import api_key_create
from billing.models import CreditEntry
from billing.selectors import balance_for
from billing.services.credits import credits_grant
from conftest import PASSWORD
from generation.consumers import CLOSE_NOT_AUTHENTICATED
from testing.websocket import LiveSocket

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a different horse, battery and staple"
# The issue asks for "within a couple of seconds"; the rest of each test waits no longer.
CLOSE_WITHIN_SECONDS = 3


class Browser:
    """One browser: its own cookie jar, signed in through the real sign-in page."""

    def __init__(self, server_url: str, *, username: str, password: str = PASSWORD) -> None:
        self.url = server_url
        self.http = requests.Session()
        self.http.get(f"{server_url}/accounts/login/", timeout=10).raise_for_status()
        response = self.post("/accounts/login/", username=username, password=password)
        assert "sessionid" in self.http.cookies, response.text

    def post(self, path: str, **fields: str) -> requests.Response:
        fields["csrfmiddlewaretoken"] = self.http.cookies["csrftoken"]
        response = self.http.post(
            f"{self.url}{path}", data=fields, allow_redirects=False, timeout=10
        )
        assert response.status_code in (200, 302), response.text
        return response

    def socket(self) -> LiveSocket:
        return LiveSocket(
            self.url,
            cookie=f"sessionid={self.http.cookies['sessionid']}",
            origin=self.url,
        )


@pytest.fixture
def sockets() -> Iterator[list[LiveSocket]]:
    """Sockets a test opened, closed at the end whatever happened."""
    opened: list[LiveSocket] = []
    yield opened
    for socket in opened:
        socket.close()


def key_socket(server_url: str, key: str) -> LiveSocket:
    return LiveSocket(server_url, protocols=["bearer", key])


def assert_closed_for_lost_access(socket: LiveSocket) -> None:
    assert socket.wait_closed(CLOSE_WITHIN_SECONDS) == CLOSE_NOT_AUTHENTICATED


def assert_still_live(user: User, *open_sockets: LiveSocket) -> None:
    """Each socket is open and hears the user's next balance change."""
    credits_grant(user=user, amount=5, kind=CreditEntry.Kind.STAFF_ADJUSTMENT)
    for socket in open_sockets:
        assert socket.is_open
        assert socket.next_event("balance")["credits"] == balance_for(user)


def test_revoking_a_key_closes_the_sockets_on_that_key_only(
    web_server: str, user: User, sockets: list[LiveSocket]
) -> None:
    revoked, revoked_key = api_key_create(user=user, name="old script")
    _, kept_key = api_key_create(user=user, name="new script")
    browser = Browser(web_server, username="alice")
    on_revoked = key_socket(web_server, revoked_key)
    on_kept = key_socket(web_server, kept_key)
    in_browser = browser.socket()
    sockets += [on_revoked, on_kept, in_browser]
    assert on_revoked.is_open and on_kept.is_open and in_browser.is_open

    browser.post(f"/accounts/api-keys/{revoked.id}/revoke/")

    assert_closed_for_lost_access(on_revoked)
    assert_still_live(user, on_kept, in_browser)
    refused = requests.get(
        f"{web_server}/api/v1/me", headers={"Authorization": f"Bearer {revoked_key}"}, timeout=10
    )
    assert refused.status_code == 401
    assert key_socket(web_server, revoked_key).refused_status == 403


def test_signing_out_closes_that_browsers_sockets_only(
    web_server: str, user: User, sockets: list[LiveSocket]
) -> None:
    _, key = api_key_create(user=user, name="script")
    leaving, staying = Browser(web_server, username="alice"), Browser(web_server, username="alice")
    leaving_socket, staying_socket = leaving.socket(), staying.socket()
    on_key = key_socket(web_server, key)
    sockets += [leaving_socket, staying_socket, on_key]

    leaving.post("/accounts/logout/")

    assert_closed_for_lost_access(leaving_socket)
    assert_still_live(user, staying_socket, on_key)


def test_changing_the_password_closes_the_other_browsers_sockets(
    web_server: str, user: User, sockets: list[LiveSocket]
) -> None:
    _, key = api_key_create(user=user, name="script")
    changing = Browser(web_server, username="alice")
    elsewhere = Browser(web_server, username="alice")
    elsewhere_socket, on_key = elsewhere.socket(), key_socket(web_server, key)
    sockets += [elsewhere_socket, on_key]

    changing.post(
        "/accounts/password/",
        old_password=PASSWORD,
        new_password1=NEW_PASSWORD,
        new_password2=NEW_PASSWORD,
    )

    assert_closed_for_lost_access(elsewhere_socket)
    # The browser that changed it stays signed in, and its new socket is live like the key's.
    assert (
        changing.http.get(f"{web_server}/accounts/", allow_redirects=False, timeout=10).status_code
        == 200
    )
    changing_socket = changing.socket()
    sockets.append(changing_socket)
    assert_still_live(user, changing_socket, on_key)


def test_deleting_the_account_closes_all_its_sockets_and_nobody_elses(
    web_server: str, user: User, other_user: User, sockets: list[LiveSocket]
) -> None:
    _, key = api_key_create(user=user, name="script")
    deleting = Browser(web_server, username="alice")
    elsewhere = Browser(web_server, username="alice")
    alice_sockets = [deleting.socket(), elsewhere.socket(), key_socket(web_server, key)]
    bob_socket = Browser(web_server, username="bob").socket()
    sockets += [*alice_sockets, bob_socket]

    deleting.post("/accounts/delete/", confirm_username="alice")

    for socket in alice_sockets:
        assert_closed_for_lost_access(socket)
    assert not ApiKey.objects.filter(user_id=user.pk).exists()
    assert_still_live(other_user, bob_socket)


@pytest.mark.browser
def test_a_page_signed_out_elsewhere_says_so_and_stops_reconnecting(
    web_server: str, user: User, tiny_model: Any, browser_page: Any
) -> None:
    page = browser_page
    page.goto(f"{web_server}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=open]")
    sockets_opened: list[Any] = []
    page.on("websocket", lambda socket: sockets_opened.append(socket))

    Browser(web_server, username="alice").post(
        "/accounts/password/",
        old_password=PASSWORD,
        new_password1=NEW_PASSWORD,
        new_password2=NEW_PASSWORD,
    )

    page.wait_for_selector(
        "#live-status[data-state=signed-out]", timeout=CLOSE_WITHIN_SECONDS * 1000
    )
    assert "You were signed out" in page.inner_text("#signed-out")
    assert page.get_attribute("#signed-out a", "href") == "/accounts/login/?next=%2F"
    # It would have retried after one second had it kept reconnecting.
    time.sleep(2.5)
    assert sockets_opened == []
