"""Password sign-in is limited per account name as well as per address: guesses at one account
from many addresses are stopped, but only failures count and only for a short window."""

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from conftest import PASSWORD

LOCKED = "Too many failed sign-ins to this account. Wait a few minutes and try again."


def sign_in(username: str, password: str, address: str) -> tuple[Any, Client]:
    client = Client(raise_request_exception=False)
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return response, client


def test_failures_at_one_account_from_many_addresses_are_stopped(
    user: User, other_user: User
) -> None:
    for number in range(10):
        wrong, _ = sign_in("alice", f"guess {number}", f"10.0.0.{number}")
        assert wrong.status_code == 200

    blocked, client = sign_in("Alice", PASSWORD, "10.0.1.1")

    assert blocked.status_code == 429
    assert LOCKED in blocked.content.decode()
    assert 0 < int(blocked["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session
    # Somebody else's account, from the same new address, is not affected.
    assert sign_in("bob", PASSWORD, "10.0.1.1")[0].status_code == 302


def test_successful_sign_ins_do_not_count_against_the_account(user: User) -> None:
    for number in range(15):
        signed_in, client = sign_in("alice", PASSWORD, f"10.0.2.{number}")
        assert signed_in.status_code == 302
        assert client.session["_auth_user_id"] == str(user.pk)


def test_a_few_failures_do_not_stop_the_owner(user: User) -> None:
    for number in range(9):
        assert sign_in("alice", "typo", f"10.0.3.{number}")[0].status_code == 200

    assert sign_in("alice", PASSWORD, "10.0.3.100")[0].status_code == 302
