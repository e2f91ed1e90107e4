#!/usr/bin/env python3
"""Runs named commands side by side, interleaved, and prints medians of wall time, CPU seconds
and peak memory per command, plus each command's ratio to the first one.

Usage: measure.py --runs N --cwd DIR NAME=COMMAND [NAME=COMMAND ...]

Interleaving (A B C A B C ...) matters on a shared, noisy machine: ratios from the same run are
what count. Peak memory is the max RSS that wait4(2) reports for the command's process tree: the
largest single process in it (for semgrep, its biggest process, not the sum of them).

Output goes to a pipe that is read and thrown away, never to /dev/null: ripgrep notices a
/dev/null stdout and stops at the first match per file, which would time less work.
--json FILE also writes {name: {wall, cpu, peak_mib, runs}} (medians) for scripts.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(cmd, cwd):
    # /usr/bin/time forks the command from a small C process, so the peak RSS it reports is the
    # command's own, not a copy of this Python interpreter's pages.
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(["/usr/bin/time", "-f", "%U %S %M", "-o", stats.name,
                                     "sh", "-c", cmd], cwd=cwd, stdout=subprocess.PIPE,
                                    stderr=errors)
            while proc.stdout.read(1 << 16):
                pass
            code = proc.wait()
            wall = time.perf_counter() - start
            errors.seek(0)
            err = errors.read().decode(errors="replace")
        fields = stats.read().split()[-3:]
    user, system, max_kib = (float(f) for f in fields)
    return wall, user + system, max_kib / 1024.0, code, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--cwd", default=".")
    ap.add_argument("--ok-codes", default="0,1", help="exit codes that count as success")
    ap.add_argument("--json", help="also write the medians to this file")
    ap.add_argument("commands", nargs="+", help="NAME=COMMAND")
    args = ap.parse_args()
    ok = {int(c) for c in args.ok_codes.split(",")}
    named = []
    for item in args.commands:
        name, _, cmd = item.partition("=")
        named.append((name, cmd))
    results = {name: [] for name, _ in named}
    for _ in range(args.warmup):
        for name, cmd in named:
            run_once(cmd, args.cwd)
    for _ in range(args.runs):
        for name, cmd in named:
            wall, cpu, rss, code, err = run_once(cmd, args.cwd)
            if code not in ok:
                print(f"{name}: exit {code}: {err.strip()[:500]}", file=sys.stderr)
                sys.exit(2)
            results[name].append((wall, cpu, rss))
    base = None
    summary = {}
    print(f"{'command':<24} {'median wall s':>14} {'median CPU s':>13} {'peak MiB':>9} {'wall ratio':>11}")
    for name, _ in named:
        walls = [r[0] for r in results[name]]
        cpus = [r[1] for r in results[name]]
        rss = max(r[2] for r in results[name])
        med = statistics.median(walls)
        if base is None:
            base = med
        print(f"{name:<24} {med:>14.3f} {statistics.median(cpus):>13.3f} {rss:>9.1f} {med / base:>10.2f}x")
        summary[name] = {"wall": med, "cpu": statistics.median(cpus), "peak_mib": rss,
                         "runs": len(walls)}
    for name, cmd in named:
        print(f"  {name}: {cmd}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(summary, out, indent=2)


if __name__ == "__main__":
    main()
