#!/bin/sh
# Runs the engine_script target in a private user + network namespace whose one interface is
# loopback, so the scripts it makes up reach no address outside this machine.
# Usage: ./run-engine.sh [SECONDS]   (default 600)
set -eu
cd "$(dirname "$0")"
secs=${1:-600}
mkdir -p corpus/engine_script
# The playground's processes are sockplay itself, started by the front end the target runs.
cargo build --manifest-path ../Cargo.toml --bin sockplay
SOCKPLAY_WORKER_EXE="$(cd .. && pwd)/target/debug/sockplay"
export SOCKPLAY_WORKER_EXE
exec unshare --user --map-root-user --net sh -c "
    ip link set lo up
    exec cargo +nightly fuzz run engine_script \"$PWD/corpus/engine_script\" -- \
        -max_total_time=$secs -dict=engine_script.dict -timeout=20 -rss_limit_mb=4096 -jobs=1"
