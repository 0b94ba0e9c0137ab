"""ECS on loopback for tests of the ECS backend: moto's server holds the cluster, task definition,
service and tasks, and a thin proxy in front of it adds what moto leaves out.

moto 5.2.5's ECS (moto/ecs/models.py) has no service scheduler (a service never launches or stops
tasks; `list_tasks(serviceName=...)` ignores the service) and no task scale-in protection
(UpdateTaskProtection / GetTaskProtection are not implemented). The proxy forwards every request to
moto and, like ECS:

- answers UpdateTaskProtection and GetTaskProtection itself, keeping each task's protection;
- after CreateService / UpdateService, brings the service's running tasks to its desiredCount:
  runs tasks in the service's group (`service:<name>`), or on scale-in stops unprotected tasks
  (newest first) and never a protected one;
- can fail the next requests with a given status and error code.
"""

import http.client
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3

from testing.loopback_api import LoopbackServer, json_reply
from testing.ports import free_port, wait_for_port
from testing.processes import RunningProcess

ECS_REGION = "us-east-1"
ECS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."


class ECSPlatform:
    def __init__(self, log_path: Path) -> None:
        moto_port = free_port()
        self.moto_port = moto_port
        self.moto_url = f"http://127.0.0.1:{moto_port}"
        self._moto = RunningProcess(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
            log_path=log_path,
            env={**os.environ, **ECS_CREDENTIALS},
        )
        wait_for_port(moto_port, what="moto server")
        # moto moves a task one step along RUNNING -> ... -> STOPPED each time it is described;
        # ECS keeps it RUNNING until it is stopped.
        connection = http.client.HTTPConnection("127.0.0.1", moto_port)
        transition = {"progression": "manual", "times": 10**9}
        connection.request(
            "POST",
            "/moto-api/state-manager/set-transition",
            body=json.dumps({"model_name": "ecs::task", "transition": transition}),
        )
        connection.getresponse().read()
        connection.close()
        self.moto = boto3.client(
            "ecs",
            region_name=ECS_REGION,
            endpoint_url=self.moto_url,
            aws_access_key_id=ECS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=ECS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        # Fargate tasks need a subnet and security group: moto's default VPC has both.
        ec2 = boto3.client(
            "ec2",
            region_name=ECS_REGION,
            endpoint_url=self.moto_url,
            aws_access_key_id=ECS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=ECS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        self._network = {
            "awsvpcConfiguration": {
                "subnets": [ec2.describe_subnets()["Subnets"][0]["SubnetId"]],
                "securityGroups": [ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]],
            }
        }
        # Task id -> scale-in protection, as UpdateTaskProtection left it.
        self.protection: dict[str, bool] = {}
        self.calls: list[str] = []
        self._failures: list[tuple[str | None, int, str, str]] = []
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler())
        self.port = self._http.port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def service_create(self, cluster: str, service: str) -> None:
        self.moto.create_cluster(clusterName=cluster)
        self.moto.register_task_definition(
            family="rollerai-worker",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="1024",
            memory="2048",
            containerDefinitions=[{"name": "worker", "image": "rollerai-worker", "memory": 2048}],
        )
        self.moto.create_service(
            cluster=cluster,
            serviceName=service,
            taskDefinition="rollerai-worker",
            desiredCount=0,
            launchType="FARGATE",
        )

    def desired_count(self, cluster: str, service: str) -> int:
        found = self.moto.describe_services(cluster=cluster, services=[service])["services"]
        return int(found[0]["desiredCount"])

    def running_tasks(self, cluster: str, service: str) -> list[str]:
        """The service's running task ids, oldest first."""
        arns = self.moto.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return []
        tasks = self.moto.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
        return [
            task["taskArn"].rsplit("/", 1)[-1]
            for task in tasks
            if task.get("group") == f"service:{service}"
        ]

    def reset(self) -> None:
        with self._lock:
            self.protection.clear()
            self.calls.clear()
            self._failures.clear()

    def fail_next(
        self, count: int, status: int, code: str, message: str, *, action: str | None = None
    ) -> None:
        """Answer the next `count` requests (for `action`, if given) with this error."""
        with self._lock:
            self._failures.extend([(action, status, code, message)] * count)

    def _failure_take(self, action: str) -> tuple[int, str, str] | None:
        with self._lock:
            self.calls.append(action)
            for index, (wanted, status, code, message) in enumerate(self._failures):
                if wanted in (None, action):
                    del self._failures[index]
                    return status, code, message
            return None

    def stop(self) -> None:
        self._http.stop()
        self._moto.stop()

    def _reconcile(self, cluster: str, service: str) -> None:
        # What ECS's service scheduler does after a change of desiredCount.
        desired = self.desired_count(cluster, service)
        running = self.running_tasks(cluster, service)
        if len(running) < desired:
            self.moto.run_task(
                cluster=cluster,
                taskDefinition="rollerai-worker",
                count=desired - len(running),
                launchType="FARGATE",
                group=f"service:{service}",
                startedBy="ecs-svc/standin",
                networkConfiguration=self._network,
            )
        unprotected = [task for task in reversed(running) if not self.protection.get(task)]
        for task in unprotected[: max(len(running) - desired, 0)]:
            self.moto.stop_task(cluster=cluster, task=task, reason="Scaling activity initiated")

    def _protection_update(self, body: dict[str, Any]) -> dict[str, Any]:
        arns = self.moto.list_tasks(cluster=body["cluster"])["taskArns"]
        known = {arn.rsplit("/", 1)[-1] for arn in arns}
        protected, failures = [], []
        for task in body["tasks"]:
            task_id = task.rsplit("/", 1)[-1]
            if task_id not in known:
                failures.append({"arn": task, "reason": "TASK_NOT_VALID", "detail": "not found"})
                continue
            if "protectionEnabled" in body:
                self.protection[task_id] = bool(body["protectionEnabled"])
            entry = {"taskArn": task, "protectionEnabled": self.protection.get(task_id, False)}
            protected.append(entry)
        return {"protectedTasks": protected, "failures": failures}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                action = (self.headers.get("X-Amz-Target") or "").removeprefix(TARGET_PREFIX)
                failure = platform._failure_take(action)
                if failure:
                    status, code, message = failure
                    return self._json(status, {"__type": code, "message": message})
                if action in ("UpdateTaskProtection", "GetTaskProtection"):
                    return self._json(200, platform._protection_update(json.loads(raw)))
                status, headers, data = self._forward(raw)
                if action in ("CreateService", "UpdateService") and status == 200:
                    body = json.loads(raw)
                    platform._reconcile(body.get("cluster", "default"), body["service"])
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                connection = http.client.HTTPConnection("127.0.0.1", platform.moto_port)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request("POST", self.path, body=raw, headers=headers)
                response = connection.getresponse()
                data = response.read()
                connection.close()
                return response.status, response.getheaders(), data

            def _json(self, status: int, document: dict[str, Any]) -> None:
                json_reply(self, status, document, "application/x-amz-json-1.1")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
