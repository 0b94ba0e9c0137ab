"""With DEBUG off, a missing page and a server error show the site's own styled pages with a way
home, while the API keeps answering in its JSON error shape."""

import pytest
from django.test import Client
from pytest_django.fixtures import DjangoAssertNumQueries, Settings


@pytest.fixture(autouse=True)
def debug_off(settings: Settings) -> None:
    settings.DEBUG = False


def test_a_missing_page_shows_the_styled_404_with_a_way_home(client: Client, db: None) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<title>Page not found · RollerAI</title>" in html
    assert '<h1 id="error-title">There is no such page</h1>' in html
    assert '<a class="button primary" id="error-home" href="/">Go to the front page</a>' in html
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert "Not Found</h1>" not in html  # not Django's bare page


def test_a_private_generation_is_the_same_styled_404_for_a_stranger(
    bob_client: Client, db: None
) -> None:
    response = bob_client.get("/s/no-such-share-token/")

    assert response.status_code == 404
    assert "There is no such page" in response.content.decode()


def test_a_missing_api_endpoint_stays_json(client: Client, db: None) -> None:
    response = client.get("/api/v1/no-such-endpoint")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "There is no such API endpoint.", "field": None}
    }


@pytest.mark.urls("tests.failing_urls")
def test_a_failing_page_shows_the_styled_500_without_touching_the_database(
    db: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client = Client(raise_request_exception=False)

    with django_assert_num_queries(0):
        response = client.get("/broken-page/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "<title>Something went wrong · RollerAI</title>" in html
    assert '<h1 id="error-title">Something went wrong on our side</h1>' in html
    assert '<a class="button primary" id="error-home" href="/">Go to the front page</a>' in html
    assert "a bug in a page" not in html  # no details for the visitor


@pytest.mark.urls("tests.failing_urls")
def test_a_failing_api_endpoint_answers_in_the_json_error_shape(db: None) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/broken/")

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side.",
            "field": None,
        }
    }
