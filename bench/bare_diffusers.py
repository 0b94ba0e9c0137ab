"""The reference the worker benchmarks hold the worker to: diffusers alone, in processes of
their own, making the same images in the same calls as the worker (the same prompts, size,
steps, guidance, batching and per-image generators), with nothing claimed, reported or stored.

Each process loads the pipeline, makes one warm-up call, says it is ready and waits for a line
on its standard input; then it makes its images (or as many as it can in a time limit) and
prints how many, and when it started and finished (wall clock), so that several processes
released together can be timed as one.

    python -m bench.bare_diffusers FOLDER --images 200 --batch 4 --threads 1 ...
"""

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

READY = "ready"


@dataclass(frozen=True)
class Work:
    """What each pipeline call makes."""

    width: int
    height: int
    steps: int
    guidance: float
    batch: int
    prompt: str
    negative_prompt: str = ""

    def arguments(self) -> list[str]:
        return [
            f"--width={self.width}",
            f"--height={self.height}",
            f"--steps={self.steps}",
            f"--guidance={self.guidance}",
            f"--batch={self.batch}",
            f"--prompt={self.prompt}",
            f"--negative-prompt={self.negative_prompt}",
        ]


def bare_images_per_second(
    *,
    folder: str,
    work: Work,
    processes: int,
    images: int,
    seconds: float,
    threads: int | None = None,
) -> float:
    """Images per second of `processes` bare loops released at once, `images` in all (or what
    they made in about `seconds`); each with `threads` torch threads (None: torch's default)."""
    share = -(-images // processes)
    args = [sys.executable, "-m", "bench.bare_diffusers", folder, *work.arguments()]
    args += [f"--images={share}", f"--seconds={seconds}"]
    args += [f"--threads={threads}"] if threads else []
    loops = [
        subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        for loop in loops:
            _expect(loop, READY)
        for loop in loops:
            assert loop.stdin is not None
            loop.stdin.write("go\n")
            loop.stdin.flush()
        results = [json.loads(_expect(loop, "{")) for loop in loops]
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    started = min(result["started"] for result in results)
    finished = max(result["finished"] for result in results)
    return sum(result["images"] for result in results) / (finished - started)


def _expect(loop: subprocess.Popen[str], start: str) -> str:
    """The next line the loop prints that starts with `start` (libraries may print others)."""
    assert loop.stdout is not None
    for line in loop.stdout:
        if line.startswith(start):
            return line
    raise RuntimeError(f"a bare diffusers loop exited with status {loop.wait()}")


def _pipeline(folder: str, device: str) -> Any:
    import torch
    from diffusers import AutoPipelineForText2Image

    # The precision the worker loads in on each device.
    dtype = torch.float16 if device == "cuda" else torch.float32
    pipeline = AutoPipelineForText2Image.from_pretrained(folder, dtype=dtype).to(device)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _call(pipeline: Any, work: Work, first_seed: int) -> None:
    import torch

    pipeline(
        prompt=[work.prompt] * work.batch,
        negative_prompt=[work.negative_prompt] * work.batch,
        width=work.width,
        height=work.height,
        num_inference_steps=work.steps,
        guidance_scale=work.guidance,
        num_images_per_prompt=1,
        generator=[
            torch.Generator(device="cpu").manual_seed(first_seed + n) for n in range(work.batch)
        ],
        output_type="pil",
    )


def _loop(options: argparse.Namespace) -> None:
    import torch

    if options.threads:
        torch.set_num_threads(options.threads)
        torch.set_num_interop_threads(options.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    work = Work(
        width=options.width,
        height=options.height,
        steps=options.steps,
        guidance=options.guidance,
        batch=options.batch,
        prompt=options.prompt,
        negative_prompt=options.negative_prompt,
    )
    pipeline = _pipeline(options.folder, device)
    _call(pipeline, work, 0)  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    print(READY, flush=True)
    sys.stdin.readline()
    calls = 0
    started = time.time()
    while calls * work.batch < options.images and time.time() - started < options.seconds:
        _call(pipeline, work, calls * work.batch)
        calls += 1
    # PIL images come back on the CPU: the GPU's work is done by now.
    finished = time.time()
    print(json.dumps({"started": started, "finished": finished, "images": calls * work.batch}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder")
    parser.add_argument("--images", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=600, help="stop after this long")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--guidance", type=float, required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--negative-prompt", default="")
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    _loop(parser.parse_args())


if __name__ == "__main__":
    main()
