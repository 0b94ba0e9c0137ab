"""The web tier rides out a PostgreSQL or Redis restart: submits are refused with a 503 that says
nothing was charged, nothing already stored is lost, and pages that need only the database still
render while Redis is down. A real web server runs against a private PostgreSQL and a private
Redis that the tests stop and start again."""

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from django.contrib.auth.models import User
from django.db.models.signals import post_save
from django.test import Client, override_settings

from billing.selectors import balance_for
from conftest import PASSWORD
from generation.models import DiffusionModel, Generation
from rollerai.ratelimit import QUEUE_UNREACHABLE
from testing.api import generation_post
from testing.outage import PrivatePostgres, PrivateRedis, seconds_until
from testing.ports import free_port
from testing.processes import (
    BASE_DIR,
    RunningProcess,
    gpu_worker_start,
    process_environment,
    web_server_start,
)
from testing.waiting import generation_wait

OUTAGE_ERROR = {
    "code": "service_unavailable",
    "message": "RollerAI is briefly unavailable. Nothing was charged; please try again in a "
    "minute.",
    "field": None,
}
QUEUE_ERROR = {"code": "service_unavailable", "message": QUEUE_UNREACHABLE, "field": None}
SEED = f"""
from accounts.services import account_create, api_key_create
from generation.models import DiffusionModel
user = account_create(username="dora", password={PASSWORD!r})
DiffusionModel.objects.create(
    slug="tiny-demo", name="Tiny demo", source="tiny-sd", is_demo=True, default_width=64,
    default_height=64, max_width=512, max_height=512, default_steps=4, max_steps=50,
)
print("KEY", api_key_create(user=user, name="outage test")[1])
"""


@dataclass
class Site:
    url: str
    key: str
    postgres: PrivatePostgres
    redis: PrivateRedis
    server: RunningProcess

    def api(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/api/v1/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.postgres.url) as connection:
            return connection.execute(sql).fetchall()  # type: ignore[arg-type]

    def signed_in(self) -> requests.Session:
        """A browser-like session, signed in through the sign-in page."""
        session = requests.Session()
        session.get(f"{self.url}/accounts/login/", timeout=30)
        response = session.post(
            f"{self.url}/accounts/login/",
            data={
                "username": "dora",
                "password": PASSWORD,
                "csrfmiddlewaretoken": session.cookies.get("csrftoken") or "",
            },
            headers={"Referer": f"{self.url}/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302, response.text
        return session


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    postgres, redis = PrivatePostgres(), PrivateRedis()
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url}
    try:
        manage = [sys.executable, "manage.py"]
        environment = process_environment(**env)
        subprocess.run(
            [*manage, "migrate", "--noinput"],
            cwd=BASE_DIR,
            env=environment,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seeded = subprocess.run(
            [*manage, "shell", "-c", SEED],
            cwd=BASE_DIR,
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )
        key = re.search(r"^KEY (\S+)$", seeded.stdout, re.M)
        assert key, seeded.stdout + seeded.stderr
        log = tmp_path_factory.mktemp("outage-web") / "daphne.log"
        server, url = web_server_start(log, env=env)
        yield Site(url=url, key=key.group(1), postgres=postgres, redis=redis, server=server)
        server.stop()
    finally:
        redis.destroy()
        postgres.destroy()


def _balance(site: Site) -> int:
    return int(site.query("SELECT credits FROM billing_creditbalance")[0][0])


def test_a_submit_while_redis_is_down_is_refused_and_charges_nothing(site: Site) -> None:
    queued = site.api("POST", "generations", {"prompt": "a lighthouse before the outage"})
    assert queued.status_code == 202, queued.text
    balance = _balance(site)
    entries = site.query("SELECT count(*) FROM billing_creditentry")
    site.redis.stop()
    try:
        refused = site.api("POST", "generations", {"prompt": "a lighthouse during the outage"})
        assert refused.status_code == 503
        assert refused.json() == {"error": QUEUE_ERROR}
        assert _balance(site) == balance
        assert site.query("SELECT count(*) FROM billing_creditentry") == entries
        assert site.query("SELECT prompt, status FROM generation_generation") == [
            ("a lighthouse before the outage", "queued")
        ]
        # What was stored before the outage is still there, read from the database alone.
        detail = site.api("GET", f"generations/{queued.json()['id']}")
        assert detail.status_code == 200, detail.text
        assert (detail.json()["status"], detail.json()["position"]) == ("queued", None)
        assert site.api("GET", "me").json() == {"username": "dora", "credits": balance}
    finally:
        site.redis.start()


def test_pages_that_need_only_the_database_render_while_redis_is_down(site: Site) -> None:
    site.redis.stop()
    try:
        # Signing in is rate-limited in Redis; during the outage the limit lets people through.
        browser = site.signed_in()
        for page in ("/", "/gallery/", "/accounts/", "/billing/", "/api/v1/generations"):
            response = browser.get(f"{site.url}{page}", timeout=30)
            assert response.status_code == 200, (page, response.text[:500])
        # The header's balance, from the database.
        home = browser.get(f"{site.url}/", timeout=30).text
        assert f'data-credits="{_balance(site)}"' in home
        health = requests.get(f"{site.url}/healthz", timeout=30)
        assert (health.status_code, health.json()) == (
            503,
            {"status": "failing", "database": "ok", "redis": "unreachable"},
        )
    finally:
        site.redis.start()
    assert "Sign-in limits are off while Redis is unreachable" in site.server.output()


def test_submits_succeed_again_soon_after_redis_is_back(site: Site) -> None:
    site.redis.stop()
    refused = site.api("POST", "generations", {"prompt": "a harbour during the outage"})
    assert (refused.status_code, refused.json()) == (503, {"error": QUEUE_ERROR})
    site.redis.start()
    back = time.monotonic()

    def accepted() -> bool:
        return site.api("POST", "generations", {"prompt": "a harbour after"}).status_code == 202

    seconds_until(accepted, timeout=30, interval=0.05)
    seconds = time.monotonic() - back
    print(f"\nRedis back -> first submit accepted: {seconds:.2f} s")
    assert seconds < 5


def test_pages_answer_again_soon_after_a_long_postgres_outage(site: Site) -> None:
    browser = site.signed_in()
    site.postgres.stop()
    try:
        # Long enough, with users asking all the while, for the connection pool's reconnection
        # attempts to back off to many seconds apart.
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            assert browser.get(f"{site.url}/gallery/", timeout=30).status_code == 503
            time.sleep(0.5)
    finally:
        site.postgres.start()
    back = time.monotonic()

    def answered() -> bool:
        return browser.get(f"{site.url}/gallery/", timeout=30).status_code == 200

    seconds_until(answered, timeout=60, interval=0.05)
    seconds = time.monotonic() - back
    print(f"\nPostgreSQL back -> first page served: {seconds:.2f} s")
    # 3.1-4.3 s while the pool's reconnection backoff ran on; 0.05 s once it gives up early.
    assert seconds < 2


def test_while_postgres_is_down_the_api_and_pages_answer_503(site: Site) -> None:
    browser = site.signed_in()
    balance = _balance(site)
    count = site.query("SELECT count(*) FROM generation_generation")
    site.postgres.stop()
    try:
        for response in (
            site.api("GET", "me"),
            site.api("POST", "generations", {"prompt": "a harbour with no database"}),
            browser.post(
                f"{site.url}/api/v1/generations",
                json={"prompt": "a harbour with no database"},
                headers={"X-CSRFToken": browser.cookies.get("csrftoken") or ""},
                timeout=30,
            ),
        ):
            assert response.status_code == 503
            assert response.json() == {"error": OUTAGE_ERROR}
            assert response.headers["Retry-After"] == "30"
        for page in ("/", "/gallery/", "/billing/"):
            response = browser.get(f"{site.url}{page}", timeout=30)
            assert response.status_code == 503
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert response.text == OUTAGE_ERROR["message"]
        health = requests.get(f"{site.url}/healthz", timeout=30)
        assert (health.status_code, health.json()) == (
            503,
            {"status": "failing", "database": "unreachable", "redis": "ok"},
        )
    finally:
        site.postgres.start()
    assert _balance(site) == balance
    assert site.query("SELECT count(*) FROM generation_generation") == count
    assert browser.get(f"{site.url}/gallery/", timeout=30).status_code == 200
    assert site.api("POST", "generations", {"prompt": "a harbour, database back"}).status_code == (
        202
    )
    assert "Internal Server Error" not in site.server.output()
    assert "Traceback" not in site.server.output()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    yield redis
    redis.destroy()


def test_a_submit_is_refunded_and_refused_when_redis_goes_away_before_its_enqueue(
    transactional_db: None,
    user: User,
    alice_client: Client,
    tiny_model: DiffusionModel,
    private_redis: PrivateRedis,
) -> None:
    def outage_after_the_charge(instance: Generation, created: bool, **kwargs: Any) -> None:
        # The rate limit has asked Redis already; it dies before the generation is enqueued.
        if created:
            private_redis.stop()

    post_save.connect(outage_after_the_charge, sender=Generation)
    try:
        with override_settings(RQ_QUEUES={"default": {"URL": private_redis.url}}):
            response = generation_post(alice_client, headers={"Idempotency-Key": "k1"})
    finally:
        post_save.disconnect(outage_after_the_charge, sender=Generation)
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "The job queue became unreachable before your generation could start, so "
            "it was not started and its 1 credit went back to your balance. Please try again in "
            "a minute.",
            "field": None,
        }
    }
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.FAILED
    assert generation.error == (
        "The job queue is unreachable right now. Please try again in a moment."
    )
    assert balance_for(user) == 10
    assert list(user.credit_entries.order_by("id").values_list("kind", "amount")) == [
        ("signup_grant", 10),
        ("generation_debit", -1),
        ("generation_refund", 1),
    ]
    # The refused request did not use up its key: the same request, retried, is a new one.
    private_redis.start()
    with override_settings(RQ_QUEUES={"default": {"URL": private_redis.url}}):
        retried = generation_post(alice_client, headers={"Idempotency-Key": "k1"})
    assert retried.status_code == 202, retried.content
    assert retried.json()["id"] != str(generation.id)
    assert json.loads(retried.content)["status"] == "queued"
    assert balance_for(user) == 9


@pytest.mark.browser
def test_a_page_cut_off_by_a_web_server_restart_shows_the_image_it_missed(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    tmp_path: Path,
    browser_page: Any,
) -> None:
    page = browser_page
    port = free_port()
    server, url = web_server_start(tmp_path / "daphne-1.log", port=port)
    worker = None
    try:
        page.goto(f"{url}/accounts/signup/")
        page.fill("#id_username", "erin")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.wait_for_selector("#live-status[data-state=open]")
        page.evaluate('() => { window.pageLoadMarker = "still the same page"; }')
        page.fill("#prompt", "a lighthouse in a storm")
        page.click("#generate")
        page.wait_for_selector(".generation[data-status=queued]")

        # The server goes away with the page's socket; the generation finishes meanwhile, so
        # its events reach no page.
        server.stop()
        page.wait_for_selector("#live-status[data-state=closed]")
        worker = gpu_worker_start(tmp_path / "worker.log")
        generation = Generation.objects.get()
        generation_wait(generation.id, Generation.Status.SUCCEEDED, timeout=120)
        assert page.get_attribute(".generation", "data-status") == "queued"

        server, _ = web_server_start(tmp_path / "daphne-2.log", port=port)
        image = page.wait_for_selector(
            ".generation[data-status=succeeded] .images img", timeout=60_000
        )
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
        assert page.evaluate("window.pageLoadMarker") == "still the same page"
        assert page.inner_text(".generation .status") == "Succeeded"
        assert page.get_attribute("#live-status", "data-state") == "open"
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
