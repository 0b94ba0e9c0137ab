"""Fixtures shared by every app's tests: users, the tiny model, the private Redis, real worker and
web server processes, and a real browser."""

import os
from collections.abc import Iterator
from pathlib import Path

import django
import pytest

from testing.environment import test_environment_start, test_environment_stop

# Before anything reads Django's settings: they take REDIS_URL and the folders from it.
test_environment_start()
django.setup()

import django_rq  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.services import account_create  # noqa: E402
from generation.models import DiffusionModel  # noqa: E402
from testing.processes import RunningProcess, gpu_worker_start, site_start  # noqa: E402

ARTIFACTS_DIR = Path(__file__).resolve().parent / "var" / "test-artifacts"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def empty_redis() -> None:
    """Each test starts with empty queues and channel groups in the session's private Redis."""
    django_rq.get_connection("default").flushdb()


@pytest.fixture
def own_channel_layer() -> Iterator[None]:
    """A channel layer for this test alone, for consumers run in-process on the test's event
    loop: channels-redis binds a layer's receiving to one loop, so one left over from an
    earlier test's loop can fail with "bound to a different event loop"."""
    from channels import DEFAULT_CHANNEL_LAYER
    from channels.layers import channel_layers

    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    yield
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)


@pytest.fixture
def user(db: None) -> User:
    return account_create(username="alice", password=PASSWORD)


@pytest.fixture
def other_user(db: None) -> User:
    return account_create(username="bob", password=PASSWORD)


@pytest.fixture
def alice_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bob_client(other_user: User) -> Client:
    client = Client()
    client.force_login(other_user)
    return client


@pytest.fixture(scope="session")
def tiny_model_folder() -> Path:
    """The tiny random pipeline, built once per test session under the session's MODELS_DIR."""
    from worker.tiny_model import tiny_pipeline_save

    folder = Path(settings.MODELS_DIR) / "tiny-sd"
    if not (folder / "model_index.json").exists():
        tiny_pipeline_save(folder=folder)
    return folder


@pytest.fixture
def tiny_model(db: None) -> DiffusionModel:
    """The demo model's registry entry (its files are built by `tiny_model_folder`)."""
    return DiffusionModel.objects.create(
        slug="tiny-demo",
        name="Tiny demo",
        source="tiny-sd",
        is_demo=True,
        default_width=64,
        default_height=64,
        max_width=512,
        max_height=512,
        default_steps=4,
        max_steps=50,
    )


@pytest.fixture
def gpu_worker(
    transactional_db: None, tiny_model: DiffusionModel, tiny_model_folder: Path, tmp_path: Path
) -> Iterator[RunningProcess]:
    """A real `manage.py rungpuworker` process serving every enabled model."""
    worker = gpu_worker_start(tmp_path / "worker.log")
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def web_server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site as production serves it from the test database (gunicorn for HTTP, daphne for
    websockets); yields its URL, which also knows the live server's."""
    servers, url = site_start(tmp_path_factory.mktemp("web"))
    yield url
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def firebase_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The Firebase Auth emulator (firebase-tools, from testing/node_modules) on free ports."""
    from testing.firebase_emulator import FirebaseAuthEmulator, firebase_emulator_missing

    missing = firebase_emulator_missing()
    if missing:
        pytest.fail(f"The Firebase Auth emulator cannot start: {missing}")
    emulator = FirebaseAuthEmulator(tmp_path_factory.mktemp("firebase"))
    yield emulator
    emulator.stop()


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[object]:
    """A page in Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page()
        yield page
        browser.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    test_environment_stop()
