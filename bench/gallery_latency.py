"""Gallery page and API list latency for one user with 100,000 generations on PostgreSQL: the
first page and a deep page (keyset cursor), median and p99 over many requests.

Measured in-process with Django's test Client: the full Django stack (middleware, session and
user lookup, selectors, templates or JSON), without an HTTP server in front. The data lives in
a private PostgreSQL database (DATABASE_URL if it points at PostgreSQL, else rollerai_bench on
the local server), under a throwaway user that is deleted afterwards.
"""

import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import django

from bench.databases import bench_database_url

GENERATIONS = int(os.environ.get("BENCH_GALLERY_GENERATIONS", "100000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
WARM_UP = 30
# How deep the "deep page" starts: 90% of the way to the oldest generation.
DEEP_FRACTION = 0.9
BATCH = 5000
WORDS = [
    *("lighthouse", "dawn", "castle", "forest", "river", "mountain", "portrait", "city", "night"),
    *("neon", "dragon", "robot", "cat", "ocean", "storm", "garden", "desert", "train", "bridge"),
    *("winter", "autumn", "painting", "watercolor", "photo", "sketch"),
]


def _generations_make(user: object, model: object) -> None:
    from django.db import connection

    from generation.models import Generation, GenerationImage

    rng = random.Random(7)
    statuses = ["succeeded"] * 90 + ["failed"] * 6 + ["canceled"] * 4
    for start in range(0, GENERATIONS, BATCH):
        generations = Generation.objects.bulk_create(
            Generation(
                user=user,
                model=model,
                prompt=" ".join(rng.choices(WORDS, k=8)) + f" #{n}",
                width=512,
                height=512,
                steps=20,
                guidance=7.5,
                seed=n,
                status=rng.choice(statuses),
                credits_charged=1,
            )
            for n in range(start, min(start + BATCH, GENERATIONS))
        )
        GenerationImage.objects.bulk_create(
            GenerationImage(
                generation=generation,
                index=0,
                seed=generation.seed,
                width=512,
                height=512,
                image=f"generations/{generation.id}/0.png",
                thumbnail=f"generations/{generation.id}/0.webp",
            )
            for generation in generations
            if generation.status == "succeeded"
        )
    with connection.cursor() as cursor:
        # A history spread over about six weeks, one generation every 37 seconds.
        cursor.execute(
            "UPDATE generation_generation AS g "
            "SET created_at = now() - s.n * interval '37 seconds' "
            "FROM (SELECT id, row_number() OVER (ORDER BY seed DESC) AS n "
            "      FROM generation_generation WHERE user_id = %s) AS s WHERE g.id = s.id",
            [user.pk],  # type: ignore[attr-defined]
        )
        cursor.execute("ANALYZE generation_generation")
        cursor.execute("ANALYZE generation_generationimage")


def _generations_drop(user: object) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM generation_generationimage WHERE generation_id IN "
            "(SELECT id FROM generation_generation WHERE user_id = %s)",
            [user.pk],  # type: ignore[attr-defined]
        )
        cursor.execute("DELETE FROM generation_generation WHERE user_id = %s", [user.pk])  # type: ignore[attr-defined]
    user.delete()  # type: ignore[attr-defined]


def _timed(request: Callable[[], object]) -> list[float]:
    for _ in range(WARM_UP):
        request()
    seconds = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        request()
        seconds.append(time.perf_counter() - started)
    return seconds


def _get(client: object, url: str, expected_items: bytes | None = None) -> Callable[[], object]:
    def request() -> object:
        response = client.get(url)  # type: ignore[attr-defined]
        assert response.status_code == 200, (url, response.status_code)
        return response

    first = request()
    if expected_items is not None:
        assert expected_items in first.content  # type: ignore[attr-defined]
    return request


def _measure() -> None:
    database_url = bench_database_url("rollerai_bench")
    os.environ["DATABASE_URL"] = database_url
    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.services import account_create
    from generation.models import DiffusionModel, Generation
    from generation.selectors import _cursor_encode

    setup_test_environment()
    call_command("migrate", verbosity=0)
    model, _ = DiffusionModel.objects.get_or_create(
        slug="bench-gallery", defaults={"name": "Bench model", "source": "bench"}
    )
    user = account_create(username=f"bench-{uuid.uuid4().hex[:8]}", password=None)
    try:
        started = time.perf_counter()
        _generations_make(user, model)
        made_in = time.perf_counter() - started
        print(
            f"Made {GENERATIONS:,} generations for one user in {made_in:.1f} s "
            f"({database_url.rsplit('/', 1)[-1]})."
        )
        deep = Generation.objects.filter(user=user).order_by("-created_at", "-id")[
            int(GENERATIONS * DEEP_FRACTION)
        ]
        cursor = _cursor_encode(deep)
        client = Client()
        client.force_login(user)
        cases = [
            ("gallery page", "first", _get(client, "/gallery/", b'id="gallery-older"')),
            ("gallery page", "deep", _get(client, f"/gallery/?cursor={cursor}", b"gallery-item")),
            ("API list", "first", _get(client, "/api/v1/generations")),
            ("API list", "deep", _get(client, f"/api/v1/generations?cursor={cursor}")),
            ("gallery search", "common word", _get(client, "/gallery/?q=lighthouse")),
            ("gallery search", "rare text", _get(client, "/gallery/?q=%2399999")),
            ("gallery filter", "failed", _get(client, "/gallery/?status=failed")),
        ]
        results = [(what, page, _timed(request)) for what, page, request in cases]
    finally:
        _generations_drop(user)
        test_environment_stop()

    print(
        f"Latency, {REQUESTS} requests each after {WARM_UP} warm-up (ms), Django test Client, "
        f"deep page = after {int(GENERATIONS * DEEP_FRACTION):,} newer ones:"
    )
    print(f"{'':16} {'page':>12} {'median':>8} {'p99':>8} {'max':>8}")
    for what, page, seconds in results:
        p99 = statistics.quantiles(seconds, n=100, method="inclusive")[98]
        print(
            f"{what:16} {page:>12} {statistics.median(seconds) * 1000:>8.1f} "
            f"{p99 * 1000:>8.1f} {max(seconds) * 1000:>8.1f}"
        )
    sys.stdout.flush()


def main() -> None:
    from django.apps import apps

    if apps.ready:
        # Another benchmark has already set Django up in this process, for its own database.
        subprocess.run([sys.executable, "-m", "bench.gallery_latency"], check=True)
        return
    _measure()


if __name__ == "__main__":
    main()
