"""Speed and memory of the synthetic home generator: 30, 90 and 365 days of a 150-entity home.

Each size runs in its own process, so the peak RSS (resource.getrusage) is that size's alone. Prints
seconds, events, events/s and peak RSS per size, and with --io the time to write the home's files.
Target: a year in well under 60 s (the test suite generates one). Exit status 1 when a year takes
60 s or more.

    .venv/bin/python bench/synthetic.py [--days 30 90 365] [--entities 150] [--seed 1] [--io]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time


def _one(days: int, entities: int, seed: int, with_io: bool) -> dict[str, float]:
    """Generate one home in this process and measure it."""
    from homeiq_ai.training.synthetic import generate_home
    from homeiq_ai.training.synthetic.io import write_home

    t0 = time.perf_counter()
    home = generate_home(seed, home_type="single_family", days=days, entity_target=entities)
    seconds = time.perf_counter() - t0
    out = {"days": days, "entities": len(home.spec.entities), "events": len(home.events), "seconds": seconds}
    if with_io:
        with tempfile.TemporaryDirectory() as d:
            t1 = time.perf_counter()
            write_home(d, home)
            out["write_seconds"] = time.perf_counter() - t1
    # ru_maxrss is in KiB on Linux.
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> int:
    """Run each size in a child process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[30, 90, 365])
    parser.add_argument("--entities", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--io", action="store_true", help="also time writing the files")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(_one(args.one, args.entities, args.seed, args.io)))
        return 0
    print(f"python {platform.python_version()} on {platform.machine()}, seed {args.seed}")
    header = (
        f"{'days':>5} {'entities':>8} {'events':>10} {'seconds':>8} {'events/s':>10} {'peak RSS MiB':>13}"
    )
    print(header + (f" {'write s':>8}" if args.io else ""))
    worst_year = 0.0
    for days in args.days:
        cmd = [sys.executable, __file__, "--one", str(days), "--entities", str(args.entities)]
        cmd += ["--seed", str(args.seed)] + (["--io"] if args.io else [])
        result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        rate = result["events"] / result["seconds"]
        line = (
            f"{days:>5} {result['entities']:>8} {result['events']:>10} {result['seconds']:>8.2f} "
            f"{rate:>10.0f} {result['peak_rss_mib']:>13.0f}"
        )
        if args.io:
            line += f" {result['write_seconds']:>8.2f}"
        print(line, flush=True)
        if days >= 365:
            worst_year = max(worst_year, result["seconds"])
    if worst_year >= 60:
        print(f"FAIL: a year took {worst_year:.1f} s (target < 60 s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
