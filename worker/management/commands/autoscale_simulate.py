"""`manage.py autoscale_simulate`: replay the arrival traces against our policy and its rivals
and print GPU-seconds and waits (DESIGN.md 7)."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from worker.autoscaler.comparison import GRID, as_json, compare, contenders
from worker.autoscaler.report import table
from worker.autoscaler.simulator import SimulatedPool
from worker.autoscaler.traces import TRACES


class Command(BaseCommand):
    help = (
        "Simulate the autoscaler against KEDA-, Knative- and Modal-like policies and the two "
        "earlier designs on seeded traces; each policy at its cheapest knob that keeps the p95 "
        "wait within 30 s of the cold start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trace", action="append", choices=sorted(TRACES))
        parser.add_argument("--cold-start", action="append", type=int, metavar="SECONDS")
        parser.add_argument("--seconds-per-image", action="append", type=int, metavar="SECONDS")
        parser.add_argument(
            "--policy", action="append", choices=[c.name for c in contenders()], metavar="NAME"
        )
        parser.add_argument(
            "--no-sweep", action="store_true", help="Each policy at its defaults only."
        )
        parser.add_argument("--json", action="store_true", help="Machine-readable output.")

    def handle(self, *args: Any, **options: Any) -> None:
        colds = options["cold_start"] or sorted({p.cold_start_seconds for p in GRID})
        per_image = options["seconds_per_image"] or sorted({p.seconds_per_image for p in GRID})
        pools = [
            SimulatedPool(cold_start_seconds=cold, seconds_per_image=spi)
            for cold in colds
            for spi in per_image
        ]
        policies = options["policy"]
        if policies and "ours" not in policies:
            policies = ["ours", *policies]  # the saving lines compare against ours
        outcomes = compare(
            options["trace"] or list(TRACES), pools, policies, sweep=not options["no_sweep"]
        )
        if options["json"]:
            self.stdout.write(json.dumps(as_json(outcomes), indent=1))
            return
        self.stdout.write("\n".join(table(outcomes)))
