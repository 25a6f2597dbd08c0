#!/usr/bin/env bash
# The differential check: sockplay's panel (text and --json) against ss, lsof and /proc, field by
# field, over many situations (every TCP state on loopback, full and empty queues, UDP, Unix,
# IPv6 and dual stack, dup, detach, SCM_RIGHTS, epoll, EMFILE, 1,000 sockets, several processes).
# Any disagreement fails the check and is printed with its situation, its field and both values.
# Needs root (it reads the playground's fds and enters its network namespace), ss, lsof, nsenter,
# unshare and ip. Arguments go to scripts/truth.py (--only REGEX, --verbose, --jobs N).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in ss lsof nsenter unshare ip; do
    command -v "$tool" >/dev/null || { echo "truth: FAIL: $tool is not installed" >&2; exit 1; }
done
[ -x /usr/bin/python3 ] || { echo "truth: FAIL: /usr/bin/python3 is not installed" >&2; exit 1; }

cargo build --release --quiet
/usr/bin/python3 scripts/truth.py --sockplay "$PWD/target/release/sockplay" "$@"
# Again with every table watched from its first fd (a process with 32 fds or more is watched for
# what changed and looked at in part), so the incremental path is judged in every situation too:
# all but the two whose figures depend on the watch itself — the EMFILE count (the watch's fd is
# one more of sockplay's own) and half-open connections from another host (a watched table dumps
# a listener's port only when its queue holds connections of clients it does not hold, as README
# says).
if [ "$#" -eq 0 ]; then
    echo "truth: the same, every table watched (SOCKPLAY_WATCH_FROM=0)"
    SOCKPLAY_WATCH_FROM=0 /usr/bin/python3 scripts/truth.py --sockplay "$PWD/target/release/sockplay" \
        --only '^(?!emfile$|tcp-syn-recv$)'
fi
