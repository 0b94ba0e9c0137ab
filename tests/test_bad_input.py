"""Input PostgreSQL, psycopg or the JSON parser cannot take (NUL, lone surrogates, deep nesting,
an overlong URL) is refused with a 400 (or 414) on every route that takes it, never a 500, and
nothing is written."""

import http.client
import json
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import ApiKey
from billing.models import CreditEntry, Payment, StripeEvent
from billing.tests.conftest import WEBHOOK_SECRET
from billing.tests.stripe_stand_in import stripe_signature
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation
from testing.processes import SiteURL

DEEPLY_NESTED = "[" * 5000 + "]" * 5000
NESTED_TOO_DEEPLY = {
    "code": "malformed_json",
    "message": "The request body is nested too deeply.",
    "field": None,
}


def nul_in(field: str) -> dict[str, Any]:
    return {
        "code": "nul_character",
        "message": f"'{field}' must not contain the NUL character (\\u0000).",
        "field": field,
    }


def control_character_in(field: str) -> dict[str, Any]:
    """What a NUL in a JSON string gets: the same answer as any other control character."""
    return {
        "code": "control_characters",
        "message": f"{field.replace('_', ' ').capitalize()} must not contain control "
        "characters such as line breaks or tabs.",
        "field": field,
    }


def surrogate_in(field: str) -> dict[str, Any]:
    return {
        "code": "invalid_unicode",
        "message": f"'{field}' must be valid Unicode text; it contains a lone surrogate.",
        "field": field,
    }


@pytest.fixture
def client(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def webhook_secret(settings: Settings) -> str:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


def nothing_was_written(user: User) -> bool:
    return (
        not Generation.objects.exists()
        and not ApiKey.objects.exists()
        and not Payment.objects.exists()
        and not StripeEvent.objects.exists()
        and not CreditEntry.objects.exclude(kind="signup_grant").exists()
        and User.objects.count() == 1
    )


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/generations?q=%00", "q"),
        ("/api/v1/generations?q=a%00b", "q"),
        ("/api/v1/generations?model=%00", "model"),
        ("/api/v1/generations?status=%00", "status"),
        ("/api/v1/generations?cursor=%00", "cursor"),
        ("/api/v1/generations?%00=1", "\x00"),
        ("/api/v1/models?q=%00", "q"),
    ],
)
def test_nul_in_an_api_query_string_is_a_400_in_the_error_shape(
    client: Client, user: User, tiny_model: DiffusionModel, url: str, field: str
) -> None:
    response = client.get(url)

    assert response.status_code == 400
    assert response.json() == {"error": nul_in(field)}


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/gallery/?q=%00", "q"),
        ("/gallery/?q=a%00b", "q"),
        ("/gallery/?model=%00", "model"),
        ("/gallery/?status=%00", "status"),
        ("/gallery/?cursor=%00", "cursor"),
        ("/explore/?cursor=%00", "cursor"),
        ("/?remix=%00", "remix"),
        ("/billing/checkout/success/?session_id=%00", "session_id"),
    ],
)
def test_nul_in_a_page_query_string_is_a_plain_400_page(
    client: Client, user: User, tiny_model: DiffusionModel, url: str, field: str
) -> None:
    response = client.get(url)

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == nul_in(field)["message"]


@pytest.mark.parametrize(
    ("url", "form", "field"),
    [
        ("/accounts/api-keys/", {"name": "render\x00script"}, "name"),
        ("/accounts/login/", {"username": "alice\x00", "password": "x"}, "username"),
        (
            "/accounts/signup/",
            {"username": "carol\x00", "password1": "a long pass 1", "password2": "a long pass 1"},
            "username",
        ),
        ("/accounts/delete/", {"confirm_username": "alice\x00"}, "confirm_username"),
        ("/billing/checkout/", {"pack": "\x00"}, "pack"),
    ],
)
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_nul_in_a_form_field_is_a_plain_400_page_and_nothing_is_written(
    client: Client, user: User, url: str, form: dict[str, str], field: str, encoding: str
) -> None:
    if encoding == "urlencoded":
        response = client.post(
            url, data=urlencode(form), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(url, data=form)

    assert response.status_code == 400
    assert response.content.decode() == nul_in(field)["message"]
    assert nothing_was_written(user)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "\ud800"}, "prompt"),
        ({"prompt": "a cat \udfff"}, "prompt"),
        ({"prompt": "a cat", "negative_prompt": "\ud800"}, "negative_prompt"),
        ({"prompt": "a cat", "model": "\udc00"}, "model"),
    ],
)
def test_a_lone_surrogate_in_a_submission_is_a_400(
    client: Client, user: User, tiny_model: DiffusionModel, body: dict[str, Any], field: str
) -> None:
    # ensure_ascii keeps the surrogate as the escape \ud800, exactly as a client would send it.
    response = client.post(
        "/api/v1/generations", data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"error": surrogate_in(field)}
    assert nothing_was_written(user)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "a cat", "model": "tiny\x00demo"}, "model"),
        ({"prompt": "a cat", "sampler": "\x00"}, "sampler"),
        ({"prompt": "a cat", "\x00": 1}, "\x00"),
    ],
)
def test_nul_in_a_submission_is_a_400(
    client: Client, user: User, tiny_model: DiffusionModel, body: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/api/v1/generations", data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"error": control_character_in(field)}
    assert nothing_was_written(user)


def test_nul_in_an_idempotency_key_is_a_400(
    client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    response = client.post(
        "/api/v1/generations",
        data=json.dumps({"prompt": "a cat"}),
        content_type="application/json",
        headers={"Idempotency-Key": "retry\x00-1"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": nul_in("Idempotency-Key")}
    assert nothing_was_written(user)


def api_routes(user: User, model: DiffusionModel) -> list[tuple[str, str]]:
    generation = generation_make(user=user, model=model)
    return [
        ("post", "/api/v1/generations"),
        ("patch", f"/api/v1/generations/{generation.id}"),
        ("post", "/accounts/firebase/"),
        ("post", "/accounts/firebase/link/"),
    ]


@pytest.mark.parametrize("route", range(4))
def test_deeply_nested_json_is_a_400_on_every_json_route(
    client: Client, user: User, tiny_model: DiffusionModel, route: int
) -> None:
    method, url = api_routes(user, tiny_model)[route]

    response = getattr(client, method)(url, data=DEEPLY_NESTED, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"error": NESTED_TOO_DEEPLY}
    assert Generation.objects.get().is_public is False
    assert Generation.objects.count() == 1


def signed_webhook_post(body: bytes) -> Any:
    return Client(raise_request_exception=False).post(
        "/billing/stripe/webhook/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(body, WEBHOOK_SECRET)},
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (DEEPLY_NESTED.encode(), NESTED_TOO_DEEPLY),
        (
            json.dumps({"id": "evt_\x00", "object": "event", "type": "x"}).encode(),
            control_character_in("id"),
        ),
        (
            json.dumps({"id": "evt_1", "object": "event", "type": "\ud800"}).encode(),
            surrogate_in("type"),
        ),
    ],
    ids=["deeply-nested", "nul", "lone-surrogate"],
)
def test_a_signed_stripe_delivery_the_database_cannot_take_is_a_400(
    user: User, webhook_secret: str, body: bytes, error: dict[str, Any]
) -> None:
    response = signed_webhook_post(body)

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert nothing_was_written(user)


@pytest.fixture(params=["web", "live"])
def server(request: pytest.FixtureRequest, web_server: str) -> tuple[str, int]:
    """Each real server and the longest line it reads: gunicorn (the pages and the API) and
    daphne (the websockets), which answer for themselves before Django sees the request."""
    if request.param == "web":
        return web_server, 8190
    return cast(SiteURL, web_server).live_url, 16384


def _connection(url: str) -> http.client.HTTPConnection:
    address = urlsplit(url)
    return http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)


def test_a_100_kb_query_string_is_answered_414_by_the_real_server(
    server: tuple[str, int],
) -> None:
    url, limit = server
    connection = _connection(url)

    connection.request("GET", "/api/v1/generations?q=" + "a" * 100_000)
    response = connection.getresponse()

    assert response.status == 414
    assert json.loads(response.read()) == {
        "error": {
            "code": "uri_too_long",
            "message": f"The URL is too long; send at most {limit} bytes.",
            "field": None,
        }
    }


def test_an_overlong_page_url_is_answered_414_and_the_server_keeps_serving(
    server: tuple[str, int], transactional_db: None
) -> None:
    url, limit = server
    connection = _connection(url)
    connection.request("GET", "/gallery/?q=" + "a" * 100_000)
    response = connection.getresponse()
    assert (response.status, response.read()) == (
        414,
        f"The URL is too long; send at most {limit} bytes.".encode(),
    )

    connection = _connection(url)
    connection.request("GET", "/accounts/login/")
    assert connection.getresponse().status == 200


def test_an_overlong_header_is_answered_431_by_the_real_server(server: tuple[str, int]) -> None:
    url, limit = server
    connection = _connection(url)

    connection.request("GET", "/api/v1/me", headers={"X-Padding": "a" * 20_000})
    response = connection.getresponse()

    assert response.status == 431
    assert json.loads(response.read()) == {
        "error": {
            "code": "header_too_long",
            "message": f"A request header is too long; send at most {limit} bytes each.",
            "field": None,
        }
    }


def test_a_body_over_the_general_limit_is_413_everywhere_but_a_submission(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    """64 kB (MAX_REQUEST_BODY_BYTES) for every request but POST /api/v1/generations, which may
    carry an init image; in the API's error shape for the API and JSON, plain text for forms."""
    generation = generation_make(user=user, model=tiny_model)
    big = "x" * 70_000
    refusals = [
        alice_client.patch(
            f"/api/v1/generations/{generation.id}",
            data=json.dumps({"public": True, "pad": big}),
            content_type="application/json",
        ),
        alice_client.post(
            f"/api/v1/generations/{generation.id}/variations",
            data=json.dumps({"index": 0, "pad": big}),
            content_type="application/json",
        ),
        alice_client.post("/billing/stripe/webhook/", data=big, content_type="application/json"),
    ]
    page = alice_client.post(
        f"/gallery/{generation.id}/visibility/",
        data=urlencode({"public": "1", "pad": big}),
        content_type="application/x-www-form-urlencoded",
    )

    for response in refusals:
        assert response.status_code == 413
        assert response.json() == {
            "error": {
                "code": "body_too_large",
                "message": "The request body is too large.",
                "field": None,
            }
        }
    assert page.status_code == 413
    assert page.content.decode() == "The request body is too large."
    assert not Generation.objects.filter(id=generation.id, is_public=True).exists()
