"""`make bench`: every benchmark in turn, each in a process of its own (each sets Django up
for its own private database)."""

import subprocess
import sys

BENCHMARKS = [
    "generate_to_image",
    "worker_efficiency",
    "image_to_image",
    "worker_throughput",
    # Prints one line and skips where torch sees no CUDA GPU.
    "gpu_worker",
    "gallery_latency",
    "api_latency",
    "submit_load",
    "queue_depth",
    "end_to_end_overhead",
    "websocket_fanout",
    "discord_roundtrip",
    "compat_roundtrip",
    # Pure simulation: no database, no GPU.
    "autoscaler",
]

if __name__ == "__main__":
    for name in BENCHMARKS:
        print(f"\n== {name}", flush=True)
        subprocess.run([sys.executable, "-m", f"bench.{name}"], check=True)
