"""What the site adds around sampling: from `POST /api/v1/generations` (tiny model, 64x64, one
step, one image) to its `succeeded` event on the user's websocket, minus the time the pipeline
call itself takes; one worker process (the Procfile's `worker:` line), one request at a time,
against the Procfile's `web:` (and `live:`, where websockets have a line of their own) commands,
for this tree and BENCH_COMPARE_WITH.

Sampling time is not read from the site: a bare diffusers loop, in a process of its own, makes
the same pipeline call as the worker (same model folder, device, dtype, size, steps, guidance,
prompt lists and CPU generator; no step callback) while the site is idle, before and after each
tree's runs, and its median is subtracted from every run's time. The worker's own "sampling"
figure for each job, from its log where it writes one, is subtracted too, as a second opinion;
it includes the step callback (progress events, previews), which the bare call does not.

The same run measures the floor: an RQ round trip (a trivial job enqueued on a private queue, a
SimpleWorker in another process runs it, its result is read back) plus one websocket hop (an
event handed to the tree's channel layer until the user's socket has it).

Knobs: BENCH_E2E_RUNS (per tree), BENCH_E2E_ROUNDS (alternating rounds), BENCH_BARE_RUNS (per
bare loop block), BENCH_FLOOR_RUNS, BENCH_TORCH_THREADS (the worker's and the bare loop's torch
threads, default 1; empty for torch's default).
"""

import json
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.records import record_append
from bench.sites import THIS_TREE, ApiClient, Site, SiteProcess, percentile, sites

RUNS = int(os.environ.get("BENCH_E2E_RUNS", "60"))
ROUNDS = int(os.environ.get("BENCH_E2E_ROUNDS", "2"))
BARE_RUNS = int(os.environ.get("BENCH_BARE_RUNS", "20"))
FLOOR_RUNS = int(os.environ.get("BENCH_FLOOR_RUNS", "50"))
WARM_UP = 3
TINY_MODEL = "tiny-demo"
PROMPT = "a lighthouse at dawn"
GUIDANCE = 7.5
BODY = {
    "prompt": PROMPT,
    "model": TINY_MODEL,
    "width": 64,
    "height": 64,
    "steps": 1,
    "guidance": GUIDANCE,
}
# Torch's threads for the worker and the bare loop alike. On a small CPU machine shared with the
# web server, several threads per sampler wait on each other whenever one is descheduled, and
# sampling times swing by seconds; one thread keeps them steady. Empty: torch's default.
TORCH_THREADS = os.environ.get("BENCH_TORCH_THREADS", "1")
SAMPLER_ENV = {"OMP_NUM_THREADS": TORCH_THREADS} if TORCH_THREADS else {}
FLOOR_QUEUE = "bench-floor"
GOALS_MS = {"p50": 10, "p99": 40}
# worker/runner.py: "Generation(s) <ids> done: ... sampling 0.123 s, storing ..."
SAMPLING_LINE = re.compile(
    r"Generation\(s\) (?P<ids>[0-9a-f-]+(?:, [0-9a-f-]+)*) done:.*?sampling (?P<seconds>[\d.]+) s"
)


def floor_job() -> int:
    """The floor's job: nothing to do, so its round trip is RQ's alone."""
    return 1


class LiveEvents:
    """The user's websocket (API key as subprotocol), every event stamped as it arrives, read
    on a thread of its own so that nothing waits on the HTTP request to read it."""

    def __init__(self, port: int, key: str) -> None:
        from websockets.sync.client import connect
        from websockets.typing import Subprotocol

        self.arrivals: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.socket = connect(
            f"ws://127.0.0.1:{port}/ws/generations/",
            subprotocols=[Subprotocol("bearer"), Subprotocol(key)],
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for message in self.socket:
            self.arrivals.put((time.perf_counter(), json.loads(message)))

    def arrival(self, generation_id: str, status: str, timeout: float = 60.0) -> float:
        """When the event saying `generation_id` reached `status` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            arrived, event = self.arrivals.get(timeout=max(0.01, deadline - time.monotonic()))
            if event.get("id") != generation_id:
                continue
            if event.get("status") == status:
                return arrived
            if event.get("status") in ("failed", "canceled"):
                raise RuntimeError(f"Generation {generation_id} ended {event}")

    def close(self) -> None:
        self.socket.close()


class TreeUnderTest:
    """One tree's site with its web, live and worker processes, a user, a key and a socket."""

    def __init__(self, site: Site) -> None:
        self.site = site
        site.manage("create_tiny_model")
        (user,) = site.task("users", prefix="bench-e2e-", count=1)["users"]
        self.user = user
        self.model_location = site.task("model_location", slug=TINY_MODEL)["location"]
        _, web_port = site.start("web", WEB_PROCESSES="1")
        self.live_port = (
            site.start("live", ready_path=None)[1] if site.command("live") else web_port
        )
        assert web_port is not None and self.live_port is not None
        self.worker, _ = site.start("worker", **SAMPLER_ENV)
        # RQ prints this once it blocks on its queues, i.e. once it can take jobs.
        self.worker.wait_for_output("Listening on")
        self.api = ApiClient(web_port, user["key"])
        self.events = LiveEvents(self.live_port, user["key"])
        self.floor_worker = self._floor_worker_start()
        self.bare_loop = BareLoop(self.model_location, log=site.folder / "bare-loop.log")
        self.runs: dict[str, float] = {}
        self.bare: list[float] = []
        self.rq_floor: list[float] = []
        self.hop_floor: list[float] = []

    def _floor_worker_start(self) -> SiteProcess:
        process = SiteProcess(
            [
                sys.executable,
                "-m",
                "bench.end_to_end_overhead",
                "--floor-worker",
                self.site.redis.url,
            ],
            tree=THIS_TREE,
            env={**os.environ, "PYTHONPATH": str(THIS_TREE)},
            log=self.site.folder / "floor-worker.log",
        )
        self.site.processes.append(process)
        process.wait_for_output("Listening on")
        return process

    def generate(self) -> tuple[str, float]:
        """One generation, submitted and seen succeed on the socket: its id and seconds."""
        started = time.perf_counter()
        answer, _ = self.api.expect(202, "POST", "/api/v1/generations", BODY)
        return answer["id"], self.events.arrival(answer["id"], "succeeded") - started

    def round(self, runs: int, *, warm_up: int) -> None:
        self.bare.extend(self.bare_loop.calls(BARE_RUNS))
        for n in range(warm_up + runs):
            generation_id, seconds = self.generate()
            if n >= warm_up:
                self.runs[generation_id] = seconds
        self.rq_floor.extend(_rq_round_trips(self.site.redis.url, FLOOR_RUNS))
        hop = self.site.task(
            "socket_hop",
            port=self.live_port,
            key=self.user["key"],
            user_id=self.user["id"],
            count=FLOOR_RUNS,
        )
        self.hop_floor.extend(hop["seconds"])

    def worker_sampling(self) -> dict[str, float]:
        """Each generation's sampling seconds as the worker logged them (if it does)."""
        sampling = {}
        for match in SAMPLING_LINE.finditer(self.worker.output()):
            for generation_id in match["ids"].split(", "):
                sampling[generation_id] = float(match["seconds"])
        return sampling

    def close(self) -> None:
        self.events.close()
        self.bare_loop.close()


class BareLoop:
    """A bare diffusers loop in a process of its own, its pipeline loaded once; asked for a
    number of calls, it answers each call's seconds. It waits (idle) while the site runs."""

    def __init__(self, location: str, *, log: Path) -> None:
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.end_to_end_overhead", "--bare", location],
            cwd=THIS_TREE,
            env={**os.environ, **SAMPLER_ENV, "PYTHONPATH": str(THIS_TREE), "HF_HUB_OFFLINE": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def calls(self, runs: int) -> list[float]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{runs}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"The bare diffusers loop exited; see {self._log.name}")
        return json.loads(answer)  # type: ignore[no-any-return]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self._log.close()


def bare_loop_serve(location: str) -> None:
    """The worker's pipeline call (worker/runner.py _sample, worker/pipelines.py loading)
    without the worker: one warm-up call, then for each number read from stdin that many
    timed calls, their seconds written as a JSON line."""
    import torch
    from diffusers import AutoPipelineForText2Image

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    pipeline = AutoPipelineForText2Image.from_pretrained(location, dtype=dtype).to(device)
    pipeline.set_progress_bar_config(disable=True)

    def call(seed: int) -> None:
        pipeline(
            prompt=[PROMPT],
            negative_prompt=[""],
            width=BODY["width"],
            height=BODY["height"],
            num_inference_steps=BODY["steps"],
            guidance_scale=GUIDANCE,
            num_images_per_prompt=1,
            generator=[torch.Generator(device="cpu").manual_seed(seed)],
            output_type="pil",
        )
        if device == "cuda":
            torch.cuda.synchronize()

    call(0)
    for line in sys.stdin:
        seconds = []
        for seed in range(int(line)):
            started = time.perf_counter()
            call(seed)
            seconds.append(time.perf_counter() - started)
        print(json.dumps(seconds), flush=True)


def _rq_round_trips(redis_url: str, runs: int) -> list[float]:
    """Enqueue floor_job on the private queue and block until its result is in."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(redis_url)
    line = Queue(FLOOR_QUEUE, connection=connection)
    seconds = []
    for _ in range(runs + WARM_UP):
        started = time.perf_counter()
        job = line.enqueue("bench.end_to_end_overhead.floor_job", result_ttl=60)
        result = job.latest_result(timeout=10)
        assert result is not None and result.type == result.Type.SUCCESSFUL, result
        seconds.append(time.perf_counter() - started)
    connection.close()
    return seconds[WARM_UP:]


def floor_worker(redis_url: str) -> None:
    from redis import Redis
    from rq import Queue, SimpleWorker

    connection = Redis.from_url(redis_url)
    SimpleWorker([Queue(FLOOR_QUEUE, connection=connection)], connection=connection).work(
        logging_level="INFO"
    )


def _ms(values: list[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000, 2)


def _figures(tree: TreeUnderTest) -> dict[str, Any]:
    bare = statistics.median(tree.bare)
    end_to_end = list(tree.runs.values())
    overhead = [seconds - bare for seconds in end_to_end]
    logged = tree.worker_sampling()
    by_log = [seconds - logged[gid] for gid, seconds in tree.runs.items() if gid in logged]
    floor = statistics.median(tree.rq_floor) + statistics.median(tree.hop_floor)
    figures = {
        "runs": len(end_to_end),
        "end_to_end_ms": {"p50": _ms(end_to_end, 0.5), "p99": _ms(end_to_end, 0.99)},
        "bare_sampling_ms": {"p50": round(bare * 1000, 2), "runs": len(tree.bare)},
        "overhead_ms": {"p50": _ms(overhead, 0.5), "p99": _ms(overhead, 0.99)},
        "rq_round_trip_ms": {"p50": _ms(tree.rq_floor, 0.5), "p99": _ms(tree.rq_floor, 0.99)},
        "socket_hop_ms": {"p50": _ms(tree.hop_floor, 0.5), "p99": _ms(tree.hop_floor, 0.99)},
        "floor_ms": {"p50": round(floor * 1000, 2)},
    }
    if by_log:
        figures["overhead_by_worker_log_ms"] = {"p50": _ms(by_log, 0.5), "p99": _ms(by_log, 0.99)}
        figures["worker_sampling_ms"] = {"p50": round(statistics.median(logged.values()) * 1000, 2)}
    return figures


COLUMNS = [
    # (heading, figure, percentile)
    ("e2e p50", "end_to_end_ms", "p50"),
    ("bare", "bare_sampling_ms", "p50"),
    ("overhead p50", "overhead_ms", "p50"),
    ("p99", "overhead_ms", "p99"),
    ("by log p50", "overhead_by_worker_log_ms", "p50"),
    ("p99", "overhead_by_worker_log_ms", "p99"),
    ("floor: rq", "rq_round_trip_ms", "p50"),
    ("+ hop", "socket_hop_ms", "p50"),
    ("= floor", "floor_ms", "p50"),
]


def _print(opened: dict[str, Site], results: dict[str, dict[str, Any]]) -> None:
    print(
        "End-to-end overhead (ms): POST -> 'succeeded' on the websocket, tiny model, 64x64, "
        "1 step, one worker, sequential, minus the median of a bare diffusers loop's same call; "
        "'by log': minus the worker's own logged sampling time of each job"
    )
    for label, site in opened.items():
        lines = ("web", "live", "worker")
        commands = "; ".join(
            f"{line}: {site.command(line)}" for line in lines if site.command(line)
        )
        print(f"  {label}: {site.tree} ({site.commit}): {commands}")
    print(f"{'tree':11} {'runs':>5} " + " ".join(f"{heading:>12}" for heading, _, _ in COLUMNS))
    for label, figures in results.items():
        cells = [figures.get(figure, {}).get(at, float("nan")) for _, figure, at in COLUMNS]
        print(f"{label:11} {figures['runs']:>5} " + " ".join(f"{cell:>12.2f}" for cell in cells))
    print(f"  goals: overhead p50 <= {GOALS_MS['p50']} ms, p99 <= {GOALS_MS['p99']} ms")


def main() -> None:
    per_round = max(1, RUNS // ROUNDS)
    with sites("end_to_end") as opened:
        under_test = {label: TreeUnderTest(site) for label, site in opened.items()}
        try:
            for round_number in range(ROUNDS):
                for tree in under_test.values():
                    tree.round(per_round, warm_up=WARM_UP if round_number == 0 else 0)
            for tree in under_test.values():
                tree.bare.extend(tree.bare_loop.calls(BARE_RUNS))
        finally:
            for tree in under_test.values():
                tree.close()
        results = {label: _figures(tree) for label, tree in under_test.items()}
        _print(opened, results)
        path = record_append(
            "end_to_end_overhead",
            {
                "trees": {
                    label: site.described("web", "live", "worker") for label, site in opened.items()
                },
                "sampling_subtracted": "median of a bare diffusers loop making the worker's call",
                "results": results,
            },
        )
    print(f"Recorded in {path}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bare"]:
        bare_loop_serve(sys.argv[2])
    elif sys.argv[1:2] == ["--floor-worker"]:
        floor_worker(sys.argv[2])
    else:
        main()
