"""The line: every queue's waiting generations in order, mirrored beside RQ's job list in a
sorted set (scored by a ticket drawn as each one joins) with a hash of their image counts.

RQ's list answers "who is next" but "where does X stand" only by reading the whole list, which
made every submit and every read of a queued generation slower as the queue grew (1.2 s per
submit at 20,000 queued). A sorted set gives a place in line as a rank, O(log n), and the first
places with their image counts in one range read.

A generation joins in the same MULTI as RQ's enqueue, so the two orders agree; it leaves when a
worker takes its job, when it is cancelled, or when it is found to have ended while still in the
sorted set (standings_publish clears those at the head of the line, where they would matter).
"""

from dataclasses import dataclass

from redis import Redis
from redis.client import Pipeline

# Places (from the front) whose images ahead are counted exactly; further back, an estimate
# from the average of these is honest enough for an ETA and costs the same at any queue length.
EXACT_PLACES = 50

# Joining draws the next ticket and takes its place in one step.
_JOIN = """
local ticket = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], ticket, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return ticket
"""


def _places(queue: str) -> str:
    return f"generation:line:{queue}"


def _images(queue: str) -> str:
    return f"generation:line:{queue}:images"


def _tickets(queue: str) -> str:
    return f"generation:line:{queue}:tickets"


def line_join(pipeline: Pipeline, *, queue: str, generation_id: str, images: int) -> None:
    """Queue up joining (at the back of `queue`) in the caller's pipeline, which also holds RQ's
    enqueue of the same generation."""
    pipeline.eval(_JOIN, 3, _places(queue), _images(queue), _tickets(queue), generation_id, images)


def line_leave(connection: Redis | Pipeline, *, queue: str, generation_ids: list[str]) -> None:
    if not generation_ids:
        return
    connection.zrem(_places(queue), *generation_ids)
    connection.hdel(_images(queue), *generation_ids)


def line_length(connection: Redis, queue: str) -> int:
    return int(connection.zcard(_places(queue)))  # type: ignore[arg-type]


def line_head(connection: Redis, queues: list[str], limit: int) -> list[tuple[str, int]]:
    """(generation id, images) of the first `limit` in line across `queues`, taken in order
    (high priority first)."""
    pipeline = connection.pipeline(transaction=False)
    for queue in queues:
        pipeline.zrange(_places(queue), 0, limit - 1)
    heads: list[list[bytes]] = pipeline.execute()
    pipeline = connection.pipeline(transaction=False)
    for queue, head in zip(queues, heads, strict=True):
        if head:
            pipeline.hmget(_images(queue), head)
        else:
            pipeline.echo("")  # keeps one reply per queue
    counts = pipeline.execute()
    line = []
    for head, images in zip(heads, counts, strict=True):
        if head:
            line += [
                (gid.decode(), int(count or 1)) for gid, count in zip(head, images, strict=True)
            ]
    return line[:limit]


@dataclass(frozen=True)
class Place:
    position: int
    # Images to be made before this generation's are done, its own included.
    images_until_done: int


def line_place(connection: Redis, queues: list[str], own: str, generation_id: str) -> Place | None:
    """Where a generation waiting in `own` (one of `queues`, which are in the order workers
    drain them) stands; None if it is not in line."""
    ahead = queues[: queues.index(own)]
    pipeline = connection.pipeline(transaction=False)
    for queue in ahead:
        pipeline.zcard(_places(queue))
    pipeline.zrank(_places(own), generation_id)
    pipeline.hget(_images(own), generation_id)
    *lengths, rank, images = pipeline.execute()
    if rank is None:
        return None
    position = sum(lengths) + rank + 1
    return Place(position, _images_until(connection, queues, position - 1, int(images or 1)))


def line_back(connection: Redis, queues: list[str], *, images: int) -> Place:
    """Where a generation joining the back of the last of `queues` will stand."""
    pipeline = connection.pipeline(transaction=False)
    for queue in queues:
        pipeline.zcard(_places(queue))
    waiting = sum(pipeline.execute())
    return Place(waiting + 1, _images_until(connection, queues, waiting, images))


def _images_until(connection: Redis, queues: list[str], ahead: int, own: int) -> int:
    """`own` plus the images of the `ahead` generations in front: counted for the first
    EXACT_PLACES, and estimated from their average beyond."""
    if ahead == 0:
        return own
    head = line_head(connection, queues, min(ahead, EXACT_PLACES))
    counted = sum(images for _, images in head)
    if ahead <= len(head):
        return counted + own
    average = counted / len(head) if head else 1
    return counted + round((ahead - len(head)) * average) + own
