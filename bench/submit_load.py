"""Load on the production web command: wrk (with bench/submit_load.lua) against the Procfile's
`web:` line, for this tree and BENCH_COMPARE_WITH, with 1 and 2 web processes (WEB_PROCESSES)
where the command takes a process count.

Figures, each for BENCH_LOAD_SECONDS: `POST /api/v1/generations` (64x64, 4 steps) at 16 and 64
connections; `GET /healthz` and `GET /api/v1/me` at 64, the ceiling of what the server does
around a view. Requests carry BENCH_LOAD_USERS users' API keys in turn, as many users would
send them. Each POST figure starts from an empty line (Redis flushed, generations gone), so no
figure pays for the line an earlier one left. wrk runs on the same machine (BENCH_WRK_THREADS
threads) and takes CPU from the server: on a two-core machine two web processes cannot double.

Knobs: BENCH_LOAD_SECONDS, BENCH_LOAD_ROUNDS (alternating rounds), BENCH_WEB_PROCESSES
(default 1,2), BENCH_LOAD_USERS, BENCH_WRK_THREADS.
"""

import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from bench.records import record_append
from bench.sites import Site, http_status, sites

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "submit_load.lua"
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "1"))
PROCESS_COUNTS = [int(n) for n in os.environ.get("BENCH_WEB_PROCESSES", "1,2").split(",")]
USERS = int(os.environ.get("BENCH_LOAD_USERS", "64"))
THREADS = int(os.environ.get("BENCH_WRK_THREADS", "2"))
WARM_UP_SECONDS = 2
MODEL = "bench-load"
BODY = {"prompt": "a lighthouse at dawn", "model": MODEL, "width": 64, "height": 64, "steps": 4}
POST = ("POST", "/api/v1/generations")
SCENARIOS = [(POST, 16), (POST, 64), (("GET", "/healthz"), 64), (("GET", "/api/v1/me"), 64)]
# What the site should do on one process, at 64 connections: (req/s at least, p99 ms at most).
GOALS = {
    "POST /api/v1/generations": (500, 100),
    "GET /healthz": (2000, None),
    "GET /api/v1/me": (1000, None),
}


def _site_ready(site: Site) -> tuple[Path, Path]:
    """The model, the users' keys (a file, one a line) and the POST body (a file)."""
    site.task("model", slug=MODEL)
    users = site.task("users", prefix="bench-load-", count=USERS)["users"]
    keys = site.folder / "keys.txt"
    keys.write_text("".join(f"{user['key']}\n" for user in users))
    body = site.folder / "body.json"
    body.write_text(json.dumps(BODY))
    return keys, body


def _line_empty(site: Site) -> None:
    site.redis_flush()
    site.task("generations_forget")


def _settled(port: int) -> None:
    """Wait out the requests a finished wrk left in the server's accept queue (a sync server
    answers them one by one, after wrk has gone): a request sent now is answered after them."""
    http_status(port, "/healthz", timeout=120)


def _wrk(
    port: int, method: str, path: str, connections: int, seconds: int, files: tuple[Path, Path]
) -> dict[str, Any]:
    keys, body = files
    command = [
        "wrk",
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        f"http://127.0.0.1:{port}{path}",
        "--",
        method,
        path,
        str(keys),
        str(body) if method == "POST" else "",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    return {
        "requests_per_second": round(figures["requests"] / (figures["duration_us"] / 1e6), 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "max_ms": round(figures["max_us"] / 1000, 2),
        "requests": figures["requests"],
        "non_2xx": figures["non2xx"],
        "first_non_2xx": figures["statuses"].split(),
        "socket_errors": {kind: figures[f"{kind}_errors"] for kind in ("connect", "read", "write")}
        | {"timeout": figures["timeouts"]},
    }


def _servers_start(opened: dict[str, Site], processes: int) -> dict[str, tuple[Any, int]]:
    """Each tree's web command with `processes` processes; a command without WEB_PROCESSES
    runs only for one."""
    servers = {}
    for label, site in opened.items():
        if processes > 1 and "WEB_PROCESSES" not in (site.command("web") or ""):
            continue
        process, port = site.start("web", WEB_PROCESSES=str(processes))
        assert port is not None
        servers[label] = (process, port)
    return servers


def _scenarios_run(site: Site, port: int, files: tuple[Path, Path]) -> list[dict[str, Any]]:
    _line_empty(site)
    _wrk(port, *POST, 16, WARM_UP_SECONDS, files)
    rows = []
    for (method, path), connections in SCENARIOS:
        _settled(port)
        if method == "POST":
            _line_empty(site)
        rows.append(
            {"endpoint": f"{method} {path}", "connections": connections}
            | _wrk(port, method, path, connections, SECONDS, files)
        )
    return rows


def _goal(row: dict[str, Any]) -> str:
    rate, p99 = GOALS[row["endpoint"]]
    if row["processes"] != 1 or row["connections"] != 64:
        return ""
    met = row["requests_per_second"] >= rate and (p99 is None or row["p99_ms"] <= p99)
    wanted = f">= {rate} req/s" + (f", p99 <= {p99} ms" if p99 else "")
    return f"goal {wanted}: {'met' if met else 'MISSED'}"


def _print(opened: dict[str, Site], rows: list[dict[str, Any]]) -> None:
    print(
        f"Submit load: wrk, {SECONDS} s a figure, {THREADS} wrk threads on this machine, "
        f"{USERS} users' API keys in turn, {ROUNDS} alternating round(s)"
    )
    for label, site in opened.items():
        print(f"  {label}: {site.tree} ({site.commit}): {site.command('web')}")
    print(
        f"{'tree':11} {'procs':>5} {'endpoint':26} {'conns':>5} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'non-2xx':>8}  {'errors'}"
    )
    for row in rows:
        errors = sum(row["socket_errors"].values())
        print(
            f"{row['tree']:11} {row['processes']:>5} {row['endpoint']:26} {row['connections']:>5} "
            f"{row['requests_per_second']:>8.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['non_2xx']:>8}  {errors or ''} {' '.join(row['first_non_2xx'][:5])} {_goal(row)}"
        )


def _mean_rates(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int, int], float]:
    """Mean req/s by (tree, endpoint, connections, processes), over the rounds."""
    grouped: dict[tuple[str, str, int, int], list[float]] = {}
    for row in rows:
        key = (row["tree"], row["endpoint"], row["connections"], row["processes"])
        grouped.setdefault(key, []).append(row["requests_per_second"])
    return {key: statistics.mean(rates) for key, rates in grouped.items()}


def _scaling(opened: dict[str, Site], rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per tree and figure: req/s with the most processes over req/s with one."""
    most, rates = max(PROCESS_COUNTS), _mean_rates(rows)
    scaling: dict[str, dict[str, float]] = {}
    for label in opened:
        for (method, path), connections in SCENARIOS:
            one = rates.get((label, f"{method} {path}", connections, 1))
            many = rates.get((label, f"{method} {path}", connections, most))
            if most > 1 and one and many is not None:
                figure = f"{method} {path} @{connections}"
                scaling.setdefault(label, {})[figure] = round(many / one, 2)
    return scaling


def _print_scaling(opened: dict[str, Site], scaling: dict[str, dict[str, float]]) -> None:
    most = max(PROCESS_COUNTS)
    if most == 1:
        return
    for label in opened:
        ratios = "; ".join(
            f"{figure}: {ratio:.2f}" for figure, ratio in scaling.get(label, {}).items()
        )
        print(
            f"  {label}, req/s with {most} processes / with 1: "
            + (ratios or "n/a (its web command takes no WEB_PROCESSES)")
        )


def main() -> None:
    subprocess.run(["scripts/system-packages", "wrk"], cwd=HERE.parent, check=True)
    rows: list[dict[str, Any]] = []
    with sites("submit_load") as opened:
        files = {label: _site_ready(site) for label, site in opened.items()}
        for processes in PROCESS_COUNTS:
            servers = _servers_start(opened, processes)
            try:
                for round_number in range(ROUNDS):
                    for label, (_, port) in servers.items():
                        for row in _scenarios_run(opened[label], port, files[label]):
                            rows.append(
                                {"tree": label, "processes": processes, "round": round_number} | row
                            )
            finally:
                for label, (process, _) in servers.items():
                    opened[label].stop(process)
        scaling = _scaling(opened, rows)
        _print(opened, rows)
        _print_scaling(opened, scaling)
        path = record_append(
            "submit_load",
            {
                "trees": {label: site.described("web") for label, site in opened.items()},
                "seconds": SECONDS,
                "users": USERS,
                "wrk_threads": THREADS,
                "rows": rows,
                "scaling": scaling,
            },
        )
    print(f"Recorded in {path}")


if __name__ == "__main__":
    main()
