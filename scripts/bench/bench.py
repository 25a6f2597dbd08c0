"""Runs sockplay's benchmarks against the real alternatives and prints each figure with its ratio.

Called by scripts/bench.sh, which builds the release binaries first. Medians of repeated runs. Peak
memory comes from GNU time (`/usr/bin/time -f %M`): a child forked from this Python process would
count Python's own pages in its ru_maxrss.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SOCKPLAY, PANEL_BENCH = sys.argv[1], sys.argv[2]
RUNS = 30
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def wall_ms(argv):
    """Wall time (ms) of one run of argv, output discarded."""
    start = time.perf_counter()
    status = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
    if status not in (0, 1):
        raise SystemExit(f"bench: {' '.join(argv)} failed with status {status}")
    return (time.perf_counter() - start) * 1000


def peak_kib(argv):
    """Peak resident memory (KiB) of one run of argv, from GNU time."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M", *argv],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(report.read().split()[-1])


def measure(argv):
    """Median wall time (ms) and the largest peak memory (KiB) seen."""
    times = statistics.median(wall_ms(argv) for _ in range(RUNS))
    return times, max(peak_kib(argv) for _ in range(5))


def row(label, value, unit, base_label, base, target=None):
    ratio = value / base if base else float("nan")
    verdict = ""
    if target is not None:
        verdict = "  ok" if ratio <= target else f"  MISSED (target ≤ {target})"
    print(f"  {label:<44} {value:9.2f} {unit:<3} vs {base_label:<22} {base:9.2f} {unit:<3} ratio {ratio:6.3f}{verdict}")


print("sockplay benchmarks (medians of", RUNS, "runs; lower ratio is better)")
print()
print("1. The seeds' TCP walk-through, panel after every step, vs Python making the same calls")
script = os.path.join(ROOT, "scripts/examples/tcp-server-client.sock")
sp_time, sp_mem = measure([SOCKPLAY, "--panel", "below", script])
py_time, py_mem = measure([sys.executable, os.path.join(HERE, "seeds.py")])
row("sockplay replay (wall)", sp_time, "ms", "python3 (wall)", py_time, 0.15)
row("sockplay replay (peak RSS)", sp_mem / 1024, "MiB", "python3 (peak RSS)", py_mem / 1024, 1.0)

print()
print("2. Start-up to exit")
start_sp, _ = measure([SOCKPLAY, "-c", "fds"])
for label, argv in [("nc -h", ["nc", "-h"]), ("socat -V", ["socat", "-V"]),
                    ("python3 -c 'import socket'", [sys.executable, "-c", "import socket"])]:
    if shutil.which(argv[0]) is None and not os.path.isabs(argv[0]):
        print(f"  {label}: not installed (apt-get install netcat-openbsd socat)")
        continue
    base, _ = measure(argv)
    row("sockplay -c fds", start_sp, "ms", label, base)

print()
print("3. One panel refresh (snapshot, diff, render for a 50-row screen) vs one `ss -tan`")
sizes = [1000, 10000]
out = subprocess.run([PANEL_BENCH, *map(str, sizes)], capture_output=True, text=True, check=True)
for line in out.stdout.splitlines():
    figures = json.loads(line)
    n = figures["sockets"]
    target = 0.5 if n == 1000 else None
    row(f"refresh with {n} sockets", figures["refresh_ms"], "ms", "ss -tan", figures["ss_ms"], target)
    if n == 10000:
        verdict = "ok" if figures["refresh_ms"] <= 20 else "MISSED (target ≤ 20 ms)"
        print(f"  {'':44} refresh at 10,000 sockets: {figures['refresh_ms']:.2f} ms, {verdict}")
    print(f"  {'(whole table, every row rendered)':<44} {figures['full_table_ms']:9.2f} ms")

print()
print("4. Per-step cost as open fds grow (should grow linearly: µs per fd roughly constant)")
growth = [10, 100, 1000, 3000, 10000]
out = subprocess.run([PANEL_BENCH, *map(str, growth)], capture_output=True, text=True, check=True)
print(f"  {'open sockets':>12} {'refresh ms':>11} {'µs per fd':>10}")
for line in out.stdout.splitlines():
    figures = json.loads(line)
    n, ms = figures["sockets"], figures["refresh_ms"]
    print(f"  {n:>12} {ms:>11.3f} {ms * 1000 / n:>10.2f}")
