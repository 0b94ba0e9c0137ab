"""Riding out a database or Redis outage: wait, reconnect, try again, and tell the operator once
per outage (not once per attempt) that the worker is waiting, and once when it is back.

A worker keeps its loaded pipelines through all of this; only a real crash makes it exit.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
T = TypeVar("T")

# What "the service is unreachable" looks like from here. Other errors are bugs, and raise.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
)
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 10.0
# How long a worker waits for the services to come back before giving a piece of work up.
GIVE_UP_SECONDS = 180.0


def service_of(error: BaseException) -> str:
    return "Redis" if isinstance(error, RedisConnectionError | RedisTimeoutError) else "database"


class OutageLog:
    """Says when a service became unreachable and when it came back, once each per outage."""

    def __init__(self) -> None:
        self._since: dict[str, float] = {}
        self._lock = threading.Lock()

    def failed(self, service: str, error: BaseException) -> None:
        with self._lock:
            if service in self._since:
                return
            self._since[service] = time.monotonic()
        log.warning("The %s is unreachable (%s); waiting for it to come back", service, error)

    def answered(self, service: str) -> None:
        with self._lock:
            since = self._since.pop(service, None)
        if since is not None:
            log.warning("The %s is back after %.1f s", service, time.monotonic() - since)


outages = OutageLog()


def when_reachable(action: Callable[[], T], *, give_up_after: float = GIVE_UP_SECONDS) -> T:
    """`action()`, tried again with backoff while the database or Redis is unreachable.

    After `give_up_after` seconds the last outage error is raised. `action` must be safe to
    repeat: a write that failed with the connection was rolled back (or never reached the
    server), and the services' own checks (conditional updates, the ledger) make a repeat of one
    that did land change nothing.
    """
    deadline = time.monotonic() + give_up_after
    wait = FIRST_WAIT_SECONDS
    failing: set[str] = set()
    while True:
        try:
            result = action()
        except OUTAGE_ERRORS as error:
            failing.add(service_of(error))
            outages.failed(service_of(error), error)
            if time.monotonic() + wait > deadline:
                raise
            _database_reset(error)
            time.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_SECONDS)
            continue
        # Only what this action saw failing is known to be back now.
        for service in failing:
            outages.answered(service)
        return result


def _database_reset(error: BaseException) -> None:
    """A connection the server dropped stays broken; the next query must open a new one."""
    if isinstance(error, DatabaseError) and not connection.in_atomic_block:
        connection.close()


def best_effort(action: Callable[[], T], *, default: T) -> T:
    """`action()`, or `default` while a service is unreachable (for reports nobody must wait
    for: progress, previews, cancel checks)."""
    try:
        return action()
    except OUTAGE_ERRORS as error:
        outages.failed(service_of(error), error)
        _database_reset(error)
        return default
