"""A pool as an ECS service: scaled through its desiredCount, its workers are the service's tasks.

Settings (the pool's backend_settings):

- `cluster`: the ECS cluster's name or ARN (required).
- `service`: the service's name (required). Its task definition sets WORKER_POOL and a
  `stopTimeout` long enough for the worker to drain: on scale-in ECS sends SIGTERM and the worker
  finishes (or hands back) its job before that time runs out.
- `region` (optional): default AWS_DEFAULT_REGION, else "us-east-1".

Credentials and the endpoint come from boto3's usual sources (the task role, AWS_* variables,
AWS_ENDPOINT_URL_ECS / AWS_ENDPOINT_URL).

ECS picks the tasks a scale-in stops by itself; task scale-in protection is how the chosen
(idle) ones go: the pool's other tasks are protected first, the chosen ones unprotected, and only
then is desiredCount lowered.
"""

import os
import time
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from worker.autoscaler.backends.base import Backend, BackendError, Placeholders, PlatformWorker
from worker.autoscaler.pools import PoolSpec

SETTINGS = ("cluster", "service", "region")
# Protection only has to outlast the scale-in that follows at once; short, so a task protected
# while busy is not left unstoppable long after it went idle.
PROTECTION_MINUTES = 15
# The API's limits per call.
PROTECTION_BATCH = 10
DESCRIBE_BATCH = 100
# Tasks ECS is stopping: draining, no longer capacity.
LEAVING_STATUSES = {"DEACTIVATING", "STOPPING", "DEPROVISIONING"}


class ECSBackend(Backend):
    kind = "ecs"

    def __init__(self, pool: PoolSpec) -> None:
        super().__init__(pool)
        settings = pool.backend_settings
        self.cluster: str = settings.get("cluster") or ""
        self.service: str = settings.get("service") or ""
        self.region: str = (
            settings.get("region") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
        self._ecs: Any = None
        # When desiredCount was last raised: the start time of tasks not placed yet.
        self._placeholders = Placeholders()

    @classmethod
    def settings_problems(cls, settings: dict[str, Any]) -> list[str]:
        problems = []
        for key in ("cluster", "service"):
            value = settings.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"ECS: `{key}` is required.")
        region = settings.get("region")
        if region is not None and (not isinstance(region, str) or not region.strip()):
            problems.append("ECS: `region` must be a region name, such as us-east-1.")
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            problems.append(f"ECS: unknown settings: {', '.join(unknown)}.")
        return problems

    def workers(self) -> list[PlatformWorker]:
        desired = self._desired_count()
        found = [
            PlatformWorker(
                id=task["taskArn"].rsplit("/", 1)[-1],
                started_at=_epoch(task.get("createdAt")),
                stopping=task.get("desiredStatus") == "STOPPED"
                or task.get("lastStatus") in LEAVING_STATUSES,
            )
            for task in self._tasks()
        ]
        return self._placeholders.added(found, desired)

    def start(self, count: int) -> None:
        if count <= 0:
            return
        self._set_desired_count(self._desired_count() + count)
        self._placeholders.scaled_up()

    def stop(self, workers: Sequence[PlatformWorker]) -> None:
        chosen = {worker.id for worker in workers if not worker.stopping}
        if not chosen:
            return
        desired = self._desired_count()
        running = {
            task["taskArn"].rsplit("/", 1)[-1]: task["taskArn"]
            for task in self._tasks()
            if task.get("desiredStatus") != "STOPPED"
        }
        keep = [arn for task_id, arn in running.items() if task_id not in chosen]
        leave = [arn for task_id, arn in running.items() if task_id in chosen]
        # Protect before unprotecting: if either fails, desiredCount is untouched and no task
        # stops, so the controller simply tries again.
        self._protect(keep, enabled=True)
        self._protect(leave, enabled=False)
        # Placeholders stand for tasks not placed yet: lowering the count for them stops
        # nobody. A chosen task that is gone already is not counted, or ECS would stop another.
        removed = len(leave) + sum(1 for worker_id in chosen if worker_id.startswith("pending-"))
        if removed:
            self._set_desired_count(max(desired - removed, 0))

    def close(self) -> None:
        if self._ecs is not None:
            self._ecs.close()
            self._ecs = None

    def _tasks(self) -> list[dict[str, Any]]:
        """The service's tasks: running, and stopped ones still draining."""
        arns: list[str] = []
        for desired_status in ("RUNNING", "STOPPED"):
            pages = self._call(
                "list the service's tasks",
                "list_tasks",
                paginate=True,
                cluster=self.cluster,
                serviceName=self.service,
                desiredStatus=desired_status,
            )
            arns.extend(arn for page in pages for arn in page["taskArns"])
        tasks = []
        for first in range(0, len(arns), DESCRIBE_BATCH):
            batch = arns[first : first + DESCRIBE_BATCH]
            tasks.extend(
                self._call(
                    "describe the service's tasks",
                    "describe_tasks",
                    cluster=self.cluster,
                    tasks=batch,
                )["tasks"]
            )
        return [
            task
            for task in tasks
            # A service's tasks are in its group (this also keeps to the service where the
            # endpoint, like moto, ignores serviceName); long-stopped ones are history.
            if task.get("group") == f"service:{self.service}"
            and not (task.get("desiredStatus") == "STOPPED" and task.get("lastStatus") == "STOPPED")
        ]

    def _desired_count(self) -> int:
        answer = self._call(
            "read the service",
            "describe_services",
            cluster=self.cluster,
            services=[self.service],
        )
        if not answer.get("services"):
            reasons = ", ".join(f.get("reason", "") for f in answer.get("failures", []))
            raise BackendError(
                f"ECS has no service {self.service} in cluster {self.cluster}: {reasons or '?'}"
            )
        return int(answer["services"][0]["desiredCount"])

    def _set_desired_count(self, count: int) -> None:
        self._call(
            f"set the service's desired count to {count}",
            "update_service",
            cluster=self.cluster,
            service=self.service,
            desiredCount=count,
        )

    def _protect(self, arns: list[str], *, enabled: bool) -> None:
        what = "protect the busy tasks" if enabled else "unprotect the chosen tasks"
        for first in range(0, len(arns), PROTECTION_BATCH):
            batch = arns[first : first + PROTECTION_BATCH]
            options: dict[str, Any] = {"expiresInMinutes": PROTECTION_MINUTES} if enabled else {}
            answer = self._call(
                what,
                "update_task_protection",
                cluster=self.cluster,
                tasks=batch,
                protectionEnabled=enabled,
                **options,
            )
            # A busy task left unprotected could be the one ECS stops: refuse to scale in.
            failures = [
                f"{f.get('arn', '?').rsplit('/', 1)[-1]}: {f.get('reason', '?')}"
                for f in answer.get("failures", [])
                if enabled
            ]
            if failures:
                raise BackendError(f"ECS could not {what}: {'; '.join(failures)}")

    def _client(self) -> Any:
        if self._ecs is None:
            # Two attempts at most (botocore's `max_attempts` counts retries, one more than it
            # says; `total_max_attempts` counts the first try): backoff between rounds is the
            # controller's job. Standard mode retries 5xx and throttling (LimitExceeded too).
            config = Config(
                retries={"total_max_attempts": 2, "mode": "standard"},
                connect_timeout=5,
                read_timeout=15,
            )
            self._ecs = boto3.client("ecs", region_name=self.region, config=config)
        return self._ecs

    def _call(self, what: str, operation: str, *, paginate: bool = False, **params: Any) -> Any:
        """One ECS operation (every page of it, with `paginate`), its failures as BackendError."""
        try:
            if paginate:
                return list(self._client().get_paginator(operation).paginate(**params))
            return getattr(self._client(), operation)(**params)
        except ClientError as error:
            details = error.response.get("Error", {})
            raise BackendError(
                f"ECS refused to {what}: {details.get('Code', '?')}: {details.get('Message', '')}"
            )
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
            raise BackendError(f"ECS unreachable (could not {what}): {error}")
        except BotoCoreError as error:
            raise BackendError(f"ECS: could not {what}: {error}")


def _epoch(moment: Any) -> float:
    # botocore gives datetimes; an endpoint that leaves createdAt out gets "now".
    return moment.timestamp() if moment is not None else time.time()
