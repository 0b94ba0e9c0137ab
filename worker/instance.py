"""Who this worker is to the platform that started it and to the autoscaler: its pool and its
platform id (a pid, a pod's name, an ECS task id, a RunPod pod id), carried in its heartbeat so
the controller can tell a worker that is up from one still starting."""

import json
import os
import socket
import urllib.request

# ECS puts this in every container: the task's metadata, TaskARN included.
_ECS_METADATA = "ECS_CONTAINER_METADATA_URI_V4"


def worker_pool() -> str:
    """The pool this worker was started for ('' if started by hand, outside any pool)."""
    return os.environ.get("WORKER_POOL", "")


def instance_id() -> str:
    """The platform's name for this worker: set by our backends as WORKER_INSTANCE_ID (the local
    one, and Kubernetes through the downward API), else RunPod's pod id, else the ECS task id,
    else the host name (a pod's name on Kubernetes)."""
    explicit = os.environ.get("WORKER_INSTANCE_ID") or os.environ.get("RUNPOD_POD_ID")
    if explicit:
        return explicit
    if os.environ.get(_ECS_METADATA):
        task = _ecs_task_id(os.environ[_ECS_METADATA])
        if task:
            return task
    return socket.gethostname()


def _ecs_task_id(metadata_uri: str) -> str:
    try:
        with urllib.request.urlopen(f"{metadata_uri}/task", timeout=2) as response:  # noqa: S310
            arn = json.load(response).get("TaskARN", "")
    except (OSError, ValueError):
        return ""
    return str(arn).rsplit("/", 1)[-1]
