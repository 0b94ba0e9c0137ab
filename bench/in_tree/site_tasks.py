"""What a benchmark does inside the site it measures, through that tree's own services and models:
`python site_tasks.py TASK '<json arguments>'`, run with the tree as cwd and on PYTHONPATH (see
bench/sites.py). Prints one JSON line, the task's answer.

Imports nothing from bench/: the compared tree's bench/ is its own, and this file must run in any
tree that keeps the names used here.
"""

import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

CROWD_PREFIX = "bench-crowd-"
SEED_BATCH = 5000


def model_ensure(*, slug: str, source: str = "bench") -> dict[str, Any]:
    """A model that takes the benchmarks' requests (64x64 and up, few steps), enabled."""
    from generation.models import DiffusionModel

    model, _ = DiffusionModel.objects.update_or_create(
        slug=slug,
        defaults={
            "name": f"Bench {slug}",
            "source": source,
            "enabled": True,
            "default_steps": 4,
            "default_width": 64,
            "default_height": 64,
        },
    )
    return {"slug": model.slug}


def users_create(*, prefix: str, count: int) -> dict[str, Any]:
    """`count` users with an API key each, made as signing up and the account page make them."""
    from accounts.services import account_create, api_key_create

    users = []
    for n in range(count):
        user = account_create(username=f"{prefix}{n}", password=None)
        _, key = api_key_create(user=user, name="bench")
        users.append({"id": user.pk, "key": key, "group": _group(user.pk)})
    return {"users": users, "event_type": _event_type()}


def _group(user_id: int) -> str | None:
    try:
        from rollerai.live import user_group
    except ImportError:
        return None
    return user_group(user_id)


def _event_type() -> str | None:
    try:
        from generation.events import EVENT_TYPE
    except ImportError:
        return None
    return str(EVENT_TYPE)


def model_location(*, slug: str) -> dict[str, Any]:
    """The folder the worker loads this model from."""
    from django.conf import settings

    from generation.models import DiffusionModel

    source = DiffusionModel.objects.get(slug=slug).source
    return {"location": str(Path(settings.MODELS_DIR) / source), "source": source}


def generations_forget() -> dict[str, Any]:
    """Every generation gone, at once (a load test leaves tens of thousands)."""
    from django.db import connection

    from generation.models import Generation

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(Generation._meta.db_table)} CASCADE")
    return {}


def footprints_compare(*, slug: str, crowd: int = 50) -> dict[str, Any]:
    """Which Redis keys (ids written as <id>, numbers as #) a real submit changes, and which a
    seeded generation changes: they should differ only by the submit's rate limit, so that the
    seeded line is what the site itself would have. Also makes the crowd that seeding uses.
    Run while the line is short: it reads every key."""
    from generation.models import DiffusionModel
    from generation.schemas import GenerationRequest
    from generation.services import generation_submit

    model = DiffusionModel.objects.get(slug=slug)
    users = _crowd(crowd)

    def submit() -> str:
        request = GenerationRequest(
            prompt="a lighthouse at dawn", model=model.slug, width=64, height=64, steps=4
        )
        return str(generation_submit(user=users[0], data=request).id)

    def seed() -> str:
        (generation_id,) = _seed(model, users, 1)
        return generation_id

    try:
        submitted = _keys_changed(submit)
    except (ImportError, TypeError) as error:
        # This tree submits differently; the benchmark reports that no comparison was made.
        return {"error": f"no real submit to compare with: {error!r}"}
    seeded = _keys_changed(seed)
    return {
        "submit": sorted(submitted),
        "only_submit": sorted(submitted - seeded),
        "only_seed": sorted(seeded - submitted),
    }


def queue_seed(*, slug: str, count: int) -> dict[str, Any]:
    """Put `count` more generations of the crowd in the model's line: rows bulk-created as
    generation_submit records them, each enqueued by the tree's own generation_enqueue, in
    order, as submit enqueues them. Several of these may run at once."""
    from generation.models import DiffusionModel

    _redis_clients_shared()
    model = DiffusionModel.objects.get(slug=slug)
    users = _crowd(0)
    assert users, "the footprints task makes the crowd; run it first"
    started = time.perf_counter()
    added = 0
    while added < count:
        added += len(_seed(model, users, min(SEED_BATCH, count - added)))
    return {"added": added, "seconds": round(time.perf_counter() - started, 2)}


def _redis_clients_shared() -> None:
    """One Redis client per URL in this process. A tree that builds a client per call (as
    django_rq.get_connection does) then seeds as fast as one that pools; what is written is
    the same, and the site's own processes are untouched."""
    from redis import Redis

    made: dict[tuple[Any, ...], Redis] = {}
    build = Redis.from_url.__func__  # type: ignore[attr-defined]

    def from_url(cls: type[Redis], url: str, **kwargs: Any) -> Redis:
        key = (cls, url, repr(sorted(kwargs.items())))
        if key not in made:
            made[key] = build(cls, url, **kwargs)
        return made[key]

    Redis.from_url = classmethod(from_url)  # type: ignore[method-assign,assignment]


def _crowd(count: int) -> list[Any]:
    from django.contrib.auth.models import User

    from accounts.services import account_create

    users = list(User.objects.filter(username__startswith=CROWD_PREFIX).order_by("id"))
    for n in range(len(users), count):
        users.append(account_create(username=f"{CROWD_PREFIX}{n}", password=None))
    return users


def _new_generations(model: Any, users: list[Any], count: int) -> list[Any]:
    """Rows as generation_submit records them for a 64x64, 4-step request of one image."""
    from generation.models import Generation

    return Generation.objects.bulk_create(
        Generation(
            id=uuid.uuid4(),
            user=users[n % len(users)],
            model=model,
            prompt=f"a lighthouse at dawn, crowd {n}",
            negative_prompt="",
            width=64,
            height=64,
            steps=4,
            guidance=model.default_guidance,
            seed=random.randrange(2**32),
            count=1,
            credits_charged=model.credits_per_image,
            high_priority=False,
        )
        for n in range(count)
    )


def _seed(model: Any, users: list[Any], count: int) -> list[str]:
    from generation.queues import generation_enqueue

    generations = _new_generations(model, users, count)
    for generation in generations:
        generation_enqueue(generation)
    return [str(generation.id) for generation in generations]


def _keys_changed(act: Callable[[], str]) -> set[str]:
    import re

    before = _redis_sizes()
    generation_id = act()
    after = _redis_sizes()
    changed = {key for key, size in after.items() if before.get(key) != size}
    changed |= set(before) - set(after)
    return {re.sub(r"\d+", "#", key.replace(generation_id, "<id>")) for key in changed}


def _redis_sizes() -> dict[str, tuple[str, int]]:
    """Every key's type and size (length, members, fields): what changes when one is written.
    Only called while the line is short."""
    from django.conf import settings
    from redis import Redis

    connection = Redis.from_url(settings.REDIS_URL)
    sizes = {}
    for raw in connection.scan_iter(count=1000):
        key = raw.decode()
        kind = connection.type(raw).decode()
        size = {
            "string": connection.strlen,
            "list": connection.llen,
            "hash": connection.hlen,
            "set": connection.scard,
            "zset": connection.zcard,
            "stream": connection.xlen,
        }.get(kind, lambda _: 0)(raw)
        sizes[key] = (kind, int(size))
    return sizes


def queue_length_of(*, slug: str) -> dict[str, Any]:
    from generation.models import DiffusionModel
    from generation.queues import queue_length

    return {"queue_length": queue_length(DiffusionModel.objects.get(slug=slug))}


def socket_hop(*, port: int, key: str, user_id: int, count: int) -> dict[str, Any]:
    """Seconds from handing a generation event to this tree's channel layer (its settings, its
    group for the user) until a socket of that user on the server at `port` has it: one
    websocket hop, the last leg of every live event."""
    import asyncio
    import queue
    import threading

    from channels.layers import get_channel_layer
    from websockets.sync.client import connect
    from websockets.typing import Subprotocol

    arrivals: queue.Queue[tuple[float, str]] = queue.Queue()
    socket = connect(
        f"ws://127.0.0.1:{port}/ws/generations/",
        subprotocols=[Subprotocol("bearer"), Subprotocol(key)],
    )

    def read() -> None:
        for message in socket:
            arrivals.put((time.perf_counter(), json.loads(message).get("id", "")))

    threading.Thread(target=read, daemon=True).start()
    layer, loop = get_channel_layer(), asyncio.new_event_loop()
    group, event_type = _group(user_id), _event_type()
    seconds = []
    for n in range(count):
        event = {"type": "generation", "id": f"hop-{n}", "status": "succeeded", "revision": 1}
        started = time.perf_counter()
        loop.run_until_complete(layer.group_send(group, {"type": event_type, "event": event}))
        while (arrived := arrivals.get(timeout=10))[1] != event["id"]:
            pass
        seconds.append(arrived[0] - started)
    socket.close()
    return {"seconds": seconds}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "model": model_ensure,
    "users": users_create,
    "model_location": model_location,
    "generations_forget": generations_forget,
    "footprints": footprints_compare,
    "seed": queue_seed,
    "queue_length": queue_length_of,
    "socket_hop": socket_hop,
}

if __name__ == "__main__":
    django.setup()
    task, arguments = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    print(json.dumps(TASKS[task](**arguments)))
