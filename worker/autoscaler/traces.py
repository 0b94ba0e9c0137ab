"""Arrival traces the simulator replays: when each job arrives and how many images it asks for.
Each trace is built from its own seeded `random.Random`, so a trace is the same on every run."""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

HOUR = 3600


@dataclass(frozen=True)
class TraceJob:
    # Whole seconds since the trace began: the simulator ticks once a second.
    arrives_at: int
    images: int


@dataclass(frozen=True)
class Trace:
    name: str
    # What the trace stands for, for the table's legend.
    description: str
    seconds: int
    jobs: tuple[TraceJob, ...]


def _images(rng: random.Random) -> int:
    # A generation asks for 1 to 4 images.
    return rng.randint(1, 4)


def _poisson(
    rng: random.Random, seconds: int, rate: Callable[[float], float], peak: float
) -> list[TraceJob]:
    """Arrivals at `rate(t)` jobs a second, by thinning a Poisson process at the `peak` rate."""
    jobs: list[TraceJob] = []
    t = 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= seconds:
            return jobs
        if rng.random() * peak <= rate(t):
            jobs.append(TraceJob(arrives_at=int(t), images=_images(rng)))


def steady(seed: int = 1) -> Trace:
    rng = random.Random(seed)  # noqa: S311 (a reproducible trace, not a secret)
    seconds = 4 * HOUR
    rate = 1 / 30
    return Trace(
        name="steady",
        description="4 h, a job every 30 s on average (Poisson)",
        seconds=seconds,
        jobs=tuple(_poisson(rng, seconds, lambda t: rate, rate)),
    )


def diurnal(seed: int = 2) -> Trace:
    """A day squeezed into 6 hours: from a job every 10 minutes at night to one every 12 s at
    the peak, along a sine."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible trace, not a secret)
    seconds = 6 * HOUR
    night, peak = 1 / 600, 1 / 12

    def rate(t: float) -> float:
        return night + (peak - night) * (1 - math.cos(2 * math.pi * t / seconds)) / 2

    return Trace(
        name="diurnal",
        description="a day in 6 h: a job every 10 min at night to one every 12 s at the peak",
        seconds=seconds,
        jobs=tuple(_poisson(rng, seconds, rate, peak)),
    )


def bursty(seed: int = 3) -> Trace:
    """Quiet (a job every 5 minutes), with a crowd every 40 minutes or so: 10 to 30 jobs within
    a minute (a Discord server finding the bot)."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible trace, not a secret)
    seconds = 4 * HOUR
    jobs = _poisson(rng, seconds, lambda t: 1 / 300, 1 / 300)
    t = rng.expovariate(1 / (40 * 60))
    while t < seconds - 60:
        for _ in range(rng.randint(10, 30)):
            jobs.append(TraceJob(arrives_at=int(t + rng.uniform(0, 60)), images=_images(rng)))
        t += 10 * 60 + rng.expovariate(1 / (30 * 60))
    jobs.sort(key=lambda job: job.arrives_at)
    return Trace(
        name="bursty",
        description="4 h quiet (a job every 5 min) with a crowd of 10-30 jobs in a minute "
        "every ~40 min",
        seconds=seconds,
        jobs=tuple(jobs),
    )


def sparse(seed: int = 4) -> Trace:
    rng = random.Random(seed)  # noqa: S311 (a reproducible trace, not a secret)
    seconds = 4 * HOUR
    rate = 1 / 240
    return Trace(
        name="sparse",
        description="4 h, a job every 4 minutes on average (Poisson)",
        seconds=seconds,
        jobs=tuple(_poisson(rng, seconds, lambda t: rate, rate)),
    )


def empty(seconds: int = HOUR) -> Trace:
    """No jobs at all: what an idle pool costs."""
    return Trace(name="empty", description="no jobs", seconds=seconds, jobs=())


TRACES: dict[str, Callable[[], Trace]] = {
    "steady": steady,
    "diurnal": diurnal,
    "bursty": bursty,
    "sparse": sparse,
}
