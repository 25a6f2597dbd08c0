#!/usr/bin/env bash
# Benchmarks sockplay against the real alternatives on this machine, in one run, and prints ratios:
# the seeds' walk-through vs Python, start-up vs nc/socat/python3, a panel refresh vs `ss -tan`,
# and the per-step cost as open fds grow. Run it on a quiet machine; BENCHMARKS.md keeps the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in python3 ss /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install python3 iproute2 time)" >&2; exit 1; }
done
cargo build --release --quiet --bin sockplay --example panel_bench
exec python3 scripts/bench/bench.py target/release/sockplay target/release/examples/panel_bench
