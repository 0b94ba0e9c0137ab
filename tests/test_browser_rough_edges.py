"""In a real browser, on a desktop and a phone: the rough edges a first-time user hit stay fixed.
An API key is shown once and a reload makes no second one; revoking asks first; a queued
generation is cancelled from its own page with its credits back, and the credits history names
it; sharing again makes a new link while the revoked one stays dead; staff see every model's
queue in /admin/rq/."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from accounts.models import ApiKey
from conftest import PASSWORD
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel
from testing.browser import VIEWPORTS, browser_sign_in


def api_submit(page: Any, site: str, **fields: Any) -> str:
    """Submits a generation with the browser's session, as a script on the site would."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{site}/api/v1/generations",
        data={"model": "tiny-demo", **fields},
        headers={"X-CSRFToken": csrf, "Referer": f"{site}/"},
    )
    assert response.status == 202, response.text()
    return str(response.json()["id"])


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser_page: Any) -> Any:
    browser_page.set_viewport_size(VIEWPORTS[request.param])
    return browser_page


@pytest.mark.browser
def test_a_new_api_key_is_shown_once_and_revoking_it_asks_first(
    web_server: str, page: Any, user: User, transactional_db: None
) -> None:
    browser_sign_in(page, web_server)
    page.goto(f"{web_server}/accounts/")
    page.fill("#key-name", "render script")
    page.click("#api-keys button[type=submit]")
    page.wait_for_selector("#new-key")
    assert page.inner_text("#new-key .key").startswith(ApiKey.objects.get().prefix)

    page.reload()
    assert ApiKey.objects.count() == 1
    assert not page.is_visible("#new-key")

    questions: list[str] = []

    def answer_no(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer_no)
    page.click("#api-keys button:text('Revoke')")
    assert questions == ["Revoke the key “render script”? Anything using it stops working at once."]
    assert ApiKey.objects.get().revoked_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#api-keys button:text('Revoke')")
    page.wait_for_selector("#api-keys tr.revoked")
    assert ApiKey.objects.get().revoked_at is not None


@pytest.mark.browser
def test_a_queued_generation_is_cancelled_from_its_page_and_the_history_names_it(
    web_server: str, page: Any, user: User, tiny_model: DiffusionModel, transactional_db: None
) -> None:
    # No worker runs: the generation waits in line until it is cancelled.
    browser_sign_in(page, web_server)
    generation_id = api_submit(page, web_server, prompt="a paper boat on a pond", count=3)
    page.goto(f"{web_server}/gallery/{generation_id}/")
    assert page.inner_text("#balance") == "7 credits"

    page.click("#cancel")
    page.wait_for_url(f"{web_server}/gallery/{generation_id}/")
    page.wait_for_selector(".notice")
    assert page.inner_text(".notice") == "Cancelled: its 3 credits are back on your balance."
    assert page.inner_text("#balance") == "10 credits"
    assert page.inner_text(".generation-detail .badge.status") == "Cancelled"
    assert not page.is_visible("#cancel")

    page.goto(f"{web_server}/billing/")
    for what in ["Generation: a paper boat on a pond", "Refund for a paper boat on a pond"]:
        link = page.locator("tr", has_text=what).locator("a")
        assert link.get_attribute("href") == f"/gallery/{generation_id}/", what


@pytest.mark.browser
def test_sharing_again_makes_a_new_link_and_the_revoked_one_stays_dead(
    web_server: str, page: Any, user: User, tiny_model: DiffusionModel, transactional_db: None
) -> None:
    generation = generation_make(user=user, model=tiny_model, prompt="a red kite", pictures=True)
    browser_sign_in(page, web_server)
    page.goto(f"{web_server}/gallery/{generation.id}/")

    page.click("#make-public")
    first = page.input_value("#share-url")
    page.click("#make-private")
    page.wait_for_selector("#make-public")
    assert page.request.get(first).status == 404
    page.click("#make-public")
    second = page.input_value("#share-url")

    assert second != first
    assert page.request.get(first).status == 404
    assert "a red kite" in page.request.get(second).text()
    # The link selects itself when clicked, ready to copy.
    page.click("#share-url")
    selected = "(f => f.value.substring(f.selectionStart, f.selectionEnd))(document.activeElement)"
    assert page.evaluate(selected) == second


@pytest.mark.browser
def test_staff_see_every_models_queue_with_its_waiting_jobs(
    web_server: str, page: Any, user: User, tiny_model: DiffusionModel, transactional_db: None
) -> None:
    User.objects.create_user("operator", password=PASSWORD, is_staff=True, is_superuser=True)
    browser_sign_in(page, web_server)
    api_submit(page, web_server, prompt="a quiet harbour")
    page.context.clear_cookies()
    page.goto(f"{web_server}/admin/login/?next=/admin/rq/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{web_server}/admin/rq/")

    queued = {
        cells[0]: cells[1]
        for cells in page.eval_on_selector_all(
            "#results_list tbody tr",
            "rows => rows.map(row => [...row.children].map(cell => cell.innerText.trim()))",
        )
    }
    assert queued["model-tiny-demo"] == "1"
    assert queued["model-tiny-demo-high"] == "0"
