#!/usr/bin/env bash
# Benchmarks sockplay against the real alternatives on this machine, paired in one run, and prints
# each figure with its ratio and target: the seeds' walk-through vs Python's same calls, building
# 1,000 and 3,000 listeners vs Python, one step with 1,000 and 10,000 sockets vs `ss -tan`, and
# peak memory vs `lsof -p`. Python is the system's /usr/bin/python3, never a wrapper. Run it on a
# quiet machine: the figures move with load. BENCHMARKS.md keeps the figures of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in /usr/bin/python3 ss lsof nproc /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install python3 iproute2 lsof coreutils time)" >&2; exit 1; }
done
cargo build --release --quiet --bin sockplay
exec /usr/bin/python3 scripts/bench/bench.py target/release/sockplay
