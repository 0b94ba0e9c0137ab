"""The sites a benchmark measures: this tree and, with BENCH_COMPARE_WITH=<another checkout>, that
one too, each run as production runs it: its own Procfile's commands, with its own tree as cwd
and on PYTHONPATH, its own PostgreSQL database (migrated by its own manage.py) and its own
private redis-server. The same benchmark code then measures both in one run.

Only this module and the benchmarks run from this tree; whatever a benchmark does inside a site
(users, keys, seeding) runs in that site's tree through bench/in_tree/site_tasks.py, so that the
tree's own services write what they would write.
"""

import contextlib
import http.client
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.databases import bench_database_url
from testing.outage import PrivateRedis
from testing.ports import free_port, wait_for_port

THIS_TREE = Path(__file__).resolve().parent.parent
SITE_TASKS = Path(__file__).resolve().parent / "in_tree" / "site_tasks.py"
# The benchmark's interpreter and its tools (gunicorn, daphne) serve every tree: the trees
# differ in their code, not in what is installed.
VENV_BIN = Path(sys.executable).parent
# Limits a real user meets would answer 429 or 402 long before a benchmark is done.
UNLIMITED = {
    "SUBMISSIONS_PER_MINUTE": "1000000000",
    "MAX_ACTIVE_GENERATIONS": "1000000000",
    "SIGNUP_CREDITS": "1000000000",
}
# `scripts/respawn NAME ...` restarts a crashed process; a benchmark wants to see the crash.
RESPAWN = re.compile(r"^scripts/respawn\s+\S+\s+")
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def trees() -> dict[str, Path]:
    """The trees to measure, by label: the compared checkout (if any) first, then this one."""
    found = {"this tree": THIS_TREE}
    compared = os.environ.get("BENCH_COMPARE_WITH", "")
    if compared:
        found = {"compared": Path(compared).resolve(), **found}
    return found


def tree_commit(tree: Path) -> str:
    """The tree's commit, marked dirty if tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tree), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def procfile_commands(tree: Path) -> dict[str, str]:
    """The tree's Procfile, `name: command` per line, without the respawn wrapper."""
    commands = {}
    for line in (tree / "Procfile").read_text().splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() and not name.lstrip().startswith("#"):
            commands[name.strip()] = RESPAWN.sub("", command.strip())
    return commands


def command_argv(command: str, environment: dict[str, str]) -> list[str]:
    """The command's words as bash expands them (`${VAR:-default}` and all) in `environment`."""
    words = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {command}"],
        env=environment,
        capture_output=True,
        check=True,
    ).stdout
    return [word.decode() for word in words.split(b"\0")[:-1]]


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def fresh_database_url(name: str) -> str:
    """An empty database called `name`, on the PostgreSQL server of DATABASE_URL if it names one
    (else the local server): dropped and made again, so that rows of an earlier run (a long
    queue, thousands of generations) never weigh on this one."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        configured = "postgres://postgres@127.0.0.1:5432/postgres"
    url = urlsplit(configured)._replace(path=f"/{name}").geturl()
    database_drop(url)
    with _environ(DATABASE_URL=url):
        return bench_database_url(name)


def database_drop(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class SiteProcess:
    """One of a site's processes, in a process group of its own (gunicorn's workers with it),
    its output in a log file."""

    def __init__(self, argv: list[str], *, tree: Path, env: dict[str, str], log: Path) -> None:
        self.argv = argv
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=tree,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, *, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{text!r} never appeared in {self.log_path}:\n{self.output()[-3000:]}")

    def stop(self, timeout: float = 30.0) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


class Site:
    """One tree's site: database, Redis, storage and the processes started from its Procfile."""

    def __init__(self, *, label: str, tree: Path, benchmark: str) -> None:
        self.label = label
        self.tree = tree
        self.commit = tree_commit(tree)
        slug = re.sub(r"\W+", "_", label).strip("_")
        database_url = fresh_database_url(f"rollerai_bench_{benchmark}_{slug}")
        self.folder = Path(tempfile.mkdtemp(prefix=f"rollerai-bench-{benchmark}-{slug}-"))
        self.redis = PrivateRedis()
        self.environment = {
            **os.environ,
            **UNLIMITED,
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "DJANGO_SETTINGS_MODULE": "rollerai.settings",
            "DJANGO_SECRET_KEY": "bench-only-not-secret",
            "DJANGO_DEBUG": "false",
            "MEDIA_ROOT": str(self.folder / "media"),
            "MODELS_DIR": str(self.folder / "models"),
            "PYTHONPATH": str(tree),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[SiteProcess] = []
        try:
            self.manage("migrate", "--no-input", "--verbosity", "0")
        except BaseException:
            self.redis.destroy()
            raise

    def python(self, *args: str) -> str:
        """Run the interpreter in the tree (its cwd and PYTHONPATH); its standard output."""
        done = subprocess.run(
            [sys.executable, *args],
            cwd=self.tree,
            env=self.environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"{args} failed in {self.tree}:\n{done.stderr[-4000:]}")
        return done.stdout

    def manage(self, *args: str) -> str:
        return self.python("manage.py", *args)

    def task(self, name: str, **arguments: Any) -> Any:
        """One of bench/in_tree/site_tasks.py's tasks, run in the tree; what it answered."""
        return self.tasks_at_once(name, [arguments])[0]

    def tasks_at_once(self, name: str, arguments: list[dict[str, Any]]) -> list[Any]:
        """The same task in several processes at once, one per set of arguments."""
        running = [
            subprocess.Popen(
                [sys.executable, str(SITE_TASKS), name, json.dumps(each)],
                cwd=self.tree,
                env=self.environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for each in arguments
        ]
        answers = []
        for process in running:
            output, errors = process.communicate()
            if process.returncode:
                raise RuntimeError(f"Task {name} failed in {self.tree}:\n{errors[-4000:]}")
            answers.append(json.loads(output.strip().splitlines()[-1]))
        return answers

    def described(self, *lines: str) -> dict[str, Any]:
        """What a record says about the tree: where, which commit, the commands it ran."""
        return {
            "path": str(self.tree),
            "commit": self.commit,
            **{line: self.command(line) for line in lines},
        }

    def redis_flush(self) -> None:
        """Everything in the site's Redis gone: queues, jobs, rate limits."""
        from redis import Redis

        with Redis.from_url(self.redis.url) as connection:
            connection.flushdb()

    def command(self, name: str) -> str | None:
        commands = procfile_commands(self.tree)
        if name == "worker" and "worker" not in commands and "autoscaler" in commands:
            # Its workers follow the queue through the autoscaler; a benchmark wants one worker
            # that is up throughout, as the Procfile's `worker` line gave before.
            return "python manage.py rungpuworker"
        return commands.get(name)

    def start(
        self, name: str, *, ready_path: str | None = "/healthz", **extra: str
    ) -> tuple[SiteProcess, int | None]:
        """Start the Procfile's `name` line; every *PORT* variable it reads gets a free port
        (returned), every *HOST* one loopback. A server is ready once it listens and
        `ready_path` answers 200."""
        command = self.command(name)
        if command is None:
            raise RuntimeError(f"{self.tree}/Procfile has no {name}: line")
        environment = {**self.environment, **extra}
        variables = set(VARIABLE.findall(command))
        port = free_port() if any("PORT" in variable for variable in variables) else None
        for variable in variables:
            if "PORT" in variable:
                environment[variable] = str(port)
            elif "HOST" in variable:
                environment[variable] = "127.0.0.1"
        argv = command_argv(command, environment)
        if argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        if port is not None and not any(str(port) in word for word in argv):
            raise RuntimeError(f"Cannot tell which port `{command}` listens on")
        process = SiteProcess(
            argv,
            tree=self.tree,
            env=environment,
            log=self.folder / f"{name}-{len(self.processes)}.log",
        )
        self.processes.append(process)
        if port is not None:
            try:
                wait_for_port(port, timeout=60, what=f"{self.label} {name}")
                if ready_path:
                    _ready_wait(port, ready_path)
            except RuntimeError as error:
                raise RuntimeError(f"{error}\n{process.output()[-3000:]}")
        return process, port

    def stop(self, process: SiteProcess) -> None:
        process.stop()
        self.processes.remove(process)

    def close(self) -> None:
        for process in list(self.processes):
            self.stop(process)
        self.redis.destroy()
        # A hundred thousand generations need not outlive the run on a shared server.
        database_drop(self.environment["DATABASE_URL"])


def http_status(port: int, path: str, *, timeout: float = 5.0) -> int:
    """The status a GET of `path` on the loopback server at `port` answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _ready_wait(port: int, path: str, timeout: float = 60.0) -> None:
    """gunicorn listens before its workers have loaded Django; wait until one answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http_status(port, path) == 200:
                return
        except (http.client.HTTPException, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{path} on port {port} did not answer 200 within {timeout:.0f} s")


@contextlib.contextmanager
def sites(benchmark: str) -> Iterator[dict[str, Site]]:
    """A site per tree to measure, closed (processes stopped, Redis gone) afterwards. Their
    logs are kept when something failed, or with BENCH_KEEP_LOGS=1."""
    opened: dict[str, Site] = {}
    keep_logs = os.environ.get("BENCH_KEEP_LOGS", "") not in ("", "0")
    try:
        for label, tree in trees().items():
            opened[label] = Site(label=label, tree=tree, benchmark=benchmark)
        yield opened
    except BaseException:
        keep_logs = True
        raise
    finally:
        for site in opened.values():
            site.close()
            if keep_logs:
                print(f"Logs of {site.label} kept in {site.folder}", file=sys.stderr)
            else:
                shutil.rmtree(site.folder, ignore_errors=True)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of them lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class ApiClient:
    """Sequential JSON API calls with an API key over one keep-alive connection (opened again
    whenever the server closes it, as gunicorn's sync workers do after every response)."""

    def __init__(self, port: int, key: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
        """Status, decoded JSON and seconds from sending to the whole answer read."""
        payload = json.dumps(body) if body is not None else None
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=payload, headers=self.headers)
            response = self.connection.getresponse()
            content = response.read()
        except (http.client.HTTPException, OSError):
            # A keep-alive connection the server had already closed: once more on a new one.
            self.connection.close()
            started = time.perf_counter()
            self.connection.request(method, path, body=payload, headers=self.headers)
            response = self.connection.getresponse()
            content = response.read()
        seconds = time.perf_counter() - started
        return response.status, json.loads(content) if content else None, seconds

    def expect(self, status: int, method: str, path: str, body: Any = None) -> tuple[Any, float]:
        got, answer, seconds = self.call(method, path, body)
        if got != status:
            raise RuntimeError(f"{method} {path} answered {got}, not {status}: {answer}")
        return answer, seconds
