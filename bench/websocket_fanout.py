"""Live event fan-out through one web process: 1,000 websockets held open (two per user), events
offered at 1,000 and then 5,000 deliveries per second, published through the product's own
publisher (`generation_event_publish`) to the users' groups from separate processes.

Each user's events are generations of STEPS progress steps followed by their end (`succeeded`,
a kept event). Prints, per offered rate: deliveries per second achieved, p50/p99 latency from
publishing to the socket, progress and terminal messages lost (terminal must be 0); and memory
per socket (the web process's RSS before and after the sockets connected). Appends the figures
to bench/results/websocket_fanout.jsonl.

The web process is started as testing/processes.web_server_start does (`python -m
rollerai.webserver`), against a private Redis and the bench database (DATABASE_URL if it points
at PostgreSQL, else rollerai_bench). Events carry two fields of the bench's own, `sent_at` and
`phase`, so that the receiver can time them and count them by rate. Knobs: BENCH_FANOUT_SOCKETS,
BENCH_FANOUT_SOCKETS_PER_USER, BENCH_FANOUT_RATES, BENCH_FANOUT_SECONDS, BENCH_FANOUT_PUBLISHERS.
"""

import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SOCKETS = int(os.environ.get("BENCH_FANOUT_SOCKETS", "1000"))
SOCKETS_PER_USER = int(os.environ.get("BENCH_FANOUT_SOCKETS_PER_USER", "2"))
RATES = [int(rate) for rate in os.environ.get("BENCH_FANOUT_RATES", "1000,5000").split(",")]
SECONDS = float(os.environ.get("BENCH_FANOUT_SECONDS", "10"))
PUBLISHERS = int(os.environ.get("BENCH_FANOUT_PUBLISHERS", "2"))
# Progress steps per generation before its end: 1 event in 20 is a kept one.
STEPS = 19
CONNECTING_AT_ONCE = 50


def _nofile_raised() -> None:
    """A thousand sockets need more file descriptors than the usual soft limit of 1,024; the web
    process, started from here, inherits the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * SOCKETS + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _child(role: str, payload: Any) -> subprocess.Popen[str]:
    """A receiver or publisher process, handed its work as one JSON line on stdin."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.websocket_fanout", role],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    _tell(child, payload)
    return child


def _tell(child: subprocess.Popen[str], payload: Any) -> None:
    assert child.stdin is not None
    child.stdin.write(json.dumps(payload) + "\n")
    child.stdin.flush()


def _hear(child: subprocess.Popen[str]) -> Any:
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        raise RuntimeError(f"a bench process ({child.args}) ended early")
    return json.loads(line)


# The receiver: every socket, in one asyncio process.


async def _socket_listen(url: str, cookie: str, index: int, stats: dict[str, Any]) -> Any:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    connection = await connect(
        url.replace("http://", "ws://") + "/ws/generations/",
        additional_headers={"Cookie": cookie},
        origin=Origin(url),
        open_timeout=60,
        ping_interval=None,
        max_queue=None,
    )
    return asyncio.ensure_future(_socket_read(connection, index, stats)), connection


async def _socket_read(connection: Any, index: int, stats: dict[str, Any]) -> None:
    async for raw in connection:
        arrived = time.time()
        event = json.loads(raw)
        phase = event.get("phase")
        if phase is None:
            continue  # the signup balance and the like
        totals = stats.setdefault(
            phase, {"progress": 0, "terminal": set(), "duplicates": 0, "latency": [], "last": 0}
        )
        totals["latency"].append(arrived - event["sent_at"])
        totals["last"] = max(totals["last"], arrived)
        if event["status"] == "running":
            totals["progress"] += 1
        elif (index, event["id"]) in totals["terminal"]:
            totals["duplicates"] += 1
        else:
            totals["terminal"].add((index, event["id"]))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _summary(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        phase: {
            "progress": totals["progress"],
            "terminal": len(totals["terminal"]),
            "duplicates": totals["duplicates"],
            "p50_ms": round(statistics.median(totals["latency"]) * 1000, 1),
            "p99_ms": round(_percentile(totals["latency"], 0.99) * 1000, 1),
            "last": totals["last"],
        }
        for phase, totals in stats.items()
    }


async def _receive(work: dict[str, Any]) -> None:
    stats: dict[str, Any] = {}
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def opened(index: int, cookie: str) -> Any:
        async with gate:
            return await _socket_listen(work["url"], cookie, index, stats)

    sockets = await asyncio.gather(*(opened(i, c) for i, c in enumerate(work["cookies"])))
    print(json.dumps({"connected": len(sockets)}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    print(json.dumps(_summary(stats)), flush=True)
    for reader, connection in sockets:
        reader.cancel()
        await connection.close()


# A publisher: its share of the users, at its share of the rate.


class _UserStream:
    """One user's events: generations of STEPS progress steps, each followed by its end."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self._next_generation()
        # Users are at different steps, so ends come evenly rather than all at once.
        self.step = random.randrange(STEPS + 1)

    def _next_generation(self) -> None:
        from generation.models import Generation

        self.generation = Generation(
            id=uuid.uuid4(), user_id=self.user_id, status="running", revision=1, steps=STEPS
        )
        self.step = 0

    def publish(self, phase: str, *, wait: bool = False) -> bool:
        """Publish the next event; True if it was an end."""
        from generation.events import generation_event_publish

        self.step += 1
        finished = self.step > STEPS
        if finished:
            self.generation.status, self.generation.revision = "succeeded", 2
        extra = {"step": self.step, "total": STEPS} if not finished else {}
        generation_event_publish(
            self.generation, wait=wait, sent_at=time.time(), phase=phase, **extra
        )
        if finished:
            self._next_generation()
        return finished


def _publish_phase(streams: list[_UserStream], phase: str, sends_per_second: float) -> Any:
    sent = {"progress": 0, "terminal": 0}
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < SECONDS:
        due = int(elapsed * sends_per_second) - sent["progress"] - sent["terminal"]
        for _ in range(due):
            stream = streams[(sent["progress"] + sent["terminal"]) % len(streams)]
            sent["terminal" if stream.publish(phase) else "progress"] += 1
        time.sleep(0.002)
    _backlog_sent()
    return {**sent, "seconds": time.monotonic() - started}


def _backlog_sent() -> None:
    """Wait until the publisher has sent everything handed to it: a message sent through the
    same queue, with a wait as long as the backlog may take."""
    from rollerai.live import publisher

    publisher.group_send("bench.flush", {"type": "bench.flush"}, wait=True, timeout=120)


def _publish(work: dict[str, Any]) -> None:
    import django

    django.setup()
    streams = [_UserStream(user_id) for user_id in work["user_ids"]]
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        phase = json.loads(line)
        print(json.dumps(_publish_phase(streams, phase["name"], phase["sends"])), flush=True)


# The run.


def _users_signed_in(count: int) -> tuple[list[Any], list[str]]:
    from django.test import Client

    from accounts.services import account_create

    users, cookies = [], []
    for n in range(count):
        user = account_create(username=f"fanout-{os.getpid()}-{n}", password=None)
        client = Client()
        client.force_login(user)
        users.append(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return users, cookies


def _phase_run(
    publishers: list[subprocess.Popen[str]], rate: int, check_seconds: float
) -> dict[str, Any]:
    sends = rate / SOCKETS_PER_USER / len(publishers)
    started = time.time()
    for child in publishers:
        _tell(child, {"name": str(rate), "sends": sends})
    sent = [_hear(child) for child in publishers]
    # Dropped ends are delivered by the sockets' periodic check (two checks, then the read).
    time.sleep(2 * check_seconds + 2)
    return {
        "started": started,
        "progress_sent": sum(s["progress"] for s in sent) * SOCKETS_PER_USER,
        "terminal_sent": sum(s["terminal"] for s in sent) * SOCKETS_PER_USER,
    }


def _figures(rate: int, sent: dict[str, Any], received: dict[str, Any]) -> dict[str, Any]:
    got = received.get(str(rate), {"progress": 0, "terminal": 0, "p50_ms": 0, "p99_ms": 0})
    deliveries = got["progress"] + got["terminal"]
    seconds = max(1e-9, got.get("last", sent["started"]) - sent["started"])
    return {
        "offered_per_second": rate,
        "achieved_per_second": round(deliveries / seconds),
        "p50_ms": got["p50_ms"],
        "p99_ms": got["p99_ms"],
        "progress_sent": sent["progress_sent"],
        "progress_lost": sent["progress_sent"] - got["progress"],
        "terminal_sent": sent["terminal_sent"],
        "terminal_lost": sent["terminal_sent"] - got["terminal"],
        "terminal_duplicates": got.get("duplicates", 0),
    }


def main() -> None:
    import django

    from bench.databases import bench_database_url
    from testing.environment import test_environment_start, test_environment_stop

    _nofile_raised()
    os.environ["DATABASE_URL"] = bench_database_url("rollerai_bench")
    test_environment_start()
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.records import record_append
    from testing.processes import web_server_start

    call_command("migrate", verbosity=0)
    users, cookies = _users_signed_in(SOCKETS // SOCKETS_PER_USER)
    log = Path(tempfile.mkdtemp(prefix="bench-fanout-")) / "daphne.log"
    server, url = web_server_start(log)
    children: list[subprocess.Popen[str]] = []
    try:
        rss_before = _rss_bytes(server.process.pid)
        receiver = _child("--receive", {"url": url, "cookies": cookies * SOCKETS_PER_USER})
        children.append(receiver)
        connected = _hear(receiver)["connected"]
        rss_after = _rss_bytes(server.process.pid)
        ids = [user.pk for user in users]
        publishers = [
            _child("--publish", {"user_ids": ids[k::PUBLISHERS]}) for k in range(PUBLISHERS)
        ]
        children += publishers
        for child in publishers:
            _hear(child)
        check_seconds = settings.LIVE_EVENTS_CHECK_SECONDS
        sent = {rate: _phase_run(publishers, rate, check_seconds) for rate in RATES}
        _tell(receiver, "stop")
        received = _hear(receiver)
    finally:
        for child in children:
            child.kill()
        server.stop()
        for user in users:
            user.delete()
        test_environment_stop()
    per_socket_kib = (rss_after - rss_before) / max(1, connected) / 1024
    results = [_figures(rate, sent[rate], received) for rate in RATES]
    _report(connected, per_socket_kib, results)
    path = record_append(
        "websocket_fanout",
        {
            "sockets": connected,
            "sockets_per_user": SOCKETS_PER_USER,
            "publishers": PUBLISHERS,
            "seconds_per_rate": SECONDS,
            "rss_before_mib": round(rss_before / 2**20, 1),
            "rss_after_mib": round(rss_after / 2**20, 1),
            "memory_per_socket_kib": round(per_socket_kib, 1),
            "rates": results,
        },
    )
    print(f"(appended to {path})")


def _report(connected: int, per_socket_kib: float, results: list[dict[str, Any]]) -> None:
    print(f"{connected} sockets on one web process: {per_socket_kib:.1f} KiB of RSS per socket")
    for r in results:
        print(
            f"offered {r['offered_per_second']:>5}/s: achieved {r['achieved_per_second']:>5}/s, "
            f"latency p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms, progress lost "
            f"{r['progress_lost']} of {r['progress_sent']}, terminal lost "
            f"{r['terminal_lost']} of {r['terminal_sent']}"
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--receive"]:
        asyncio.run(_receive(json.loads(sys.stdin.readline())))
    elif sys.argv[1:] == ["--publish"]:
        _publish(json.loads(sys.stdin.readline()))
    else:
        main()
