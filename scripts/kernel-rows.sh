#!/usr/bin/env bash
# Holds the panel's kernel rows against `ss` at the same moment: for each case, sockplay replays a
# script (`--json`) that ends in a long `sleep`; while it sleeps, `ss -tanp`, `ss -uanp` and
# `ss -xanp` list the playground process's sockets, and every TCP, UDP and Unix row of the last
# record (state, RECV-Q, SEND-Q, local and remote address), and every connection it lists without
# an fd (`without_fd`: queued, or left by a close, TIME_WAIT included), must be what `ss` prints.
# A disagreement names the case, the socket, the field and both values; any one fails the script.
set -euo pipefail
trap 'echo "kernel-rows: FAIL: unexpected error at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

for tool in ss python3; do
    command -v "$tool" >/dev/null || { echo "kernel-rows: FAIL: $tool is not installed" >&2; exit 1; }
done

cargo build --release --quiet
sockplay="$PWD/target/release/sockplay"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
failed=0

# compare CASE: runs $work/CASE.sock, waits for the record of its last command before the sleep,
# lists the sockets with ss and compares.
compare() {
    local case=$1 script="$work/$1.sock"
    local commands
    commands=$(grep -cvE '^\s*(#|$)' "$script")
    printf 'set timeout 10\nsleep 8000\n' >> "$script"
    # The file exists before the run starts, so the wait below never reads a missing one.
    : > "$work/$case.json"
    "$sockplay" --json "$script" >> "$work/$case.json" 2> "$work/$case.err" &
    local run=$!
    local waited=0
    while [ "$(wc -l < "$work/$case.json")" -lt "$((commands + 1))" ]; do
        sleep 0.05
        waited=$((waited + 1))
        if [ "$waited" -gt 400 ]; then
            echo "kernel-rows: FAIL: $case: sockplay did not reach its sleep" >&2
            cat "$work/$case.err" >&2
            failed=$((failed + 1))
            kill "$run" 2>/dev/null || true
            return
        fi
    done
    ss -tanHp > "$work/$case.tcp"
    ss -uanHp > "$work/$case.udp"
    ss -xanHp > "$work/$case.unix"
    kill "$run" 2>/dev/null || true
    wait "$run" 2>/dev/null || true
    if python3 - "$case" "$work" <<'PY'
import json, re, sys

case, work = sys.argv[1], sys.argv[2]
records = [json.loads(line) for line in open(f"{work}/{case}.json")]
record = records[-1]
main = next(p for p in record["processes"] if p["name"] == record["process"])
pid = main["pid"]
problems = []

def state_of(ss_state, netid):
    if netid == "tcp":
        return {"ESTAB": "ESTABLISHED", "UNCONN": "CLOSE"}.get(
            ss_state, re.sub(r"-(\d)", r"\1", ss_state).replace("-", "_"))
    return {"ESTAB": "CONNECTED", "UNCONN": "UNCONNECTED"}.get(ss_state, ss_state)

def address(text):
    if text.endswith(":*") or text in ("*", "*:*"):
        return None
    return text

def parse(path, netid):
    rows = []
    for line in open(path):
        fields = line.split()
        if netid == "unix":
            # Netid, State, Recv-Q, Send-Q, Local, its inode, Peer, its inode.
            fields = fields[1:]
        if len(fields) < 5 or line[:1].isspace():
            continue
        owner = re.search(r'pid=(\d+),fd=(\d+)', line)
        row = {"state": state_of(fields[0], netid), "recv_q": int(fields[1]),
               "send_q": int(fields[2]),
               "pid": int(owner.group(1)) if owner else None,
               "fd": int(owner.group(2)) if owner else None}
        if netid == "unix":
            row["local"] = None if fields[3] == "*" else fields[3]
        else:
            row["local"], row["remote"] = address(fields[3]), address(fields[4])
        rows.append(row)
    return rows

listed = {netid: parse(f"{work}/{case}.{netid}", netid) for netid in ("tcp", "udp", "unix")}

def disagree(what, field, panel, ss):
    problems.append(f"{case}: {what}: {field}: panel {panel!r}, ss {ss!r}")

for fd in main["fds"]:
    if fd["kind"] != "socket":
        continue
    netid = {"inet": None, "inet6": None, "unix": "unix"}.get(fd["family"], "?")
    if netid is None:
        netid = "tcp" if fd["type"] == "stream" else "udp"
    if netid == "?":
        continue
    found = [r for r in listed[netid] if r["pid"] == pid and r["fd"] == fd["fd"]]
    what = f"fd {fd['fd']} ({netid} {fd['state']})"
    if not found:
        # ss lists no TCP socket that is only bound, or in CLOSE (nor an unbound UDP socket).
        if not (netid == "tcp" and fd["state"] == "CLOSE") and not (
                netid == "udp" and fd["local"] is None):
            problems.append(f"{case}: {what}: ss does not list it")
        continue
    ss = found[0]
    fields = ["state", "recv_q", "send_q"]
    if netid != "unix":
        fields += ["local", "remote"]
    elif fd["state"] == "LISTEN":
        fields.append("local")
    for field in fields:
        if fd[field] != ss[field]:
            disagree(what, field, fd[field], ss[field])

for conn in record.get("without_fd", []):
    if conn["family"] == "unix":
        continue
    what = f"{conn['origin']} {conn['state']} {conn['local']} {conn['remote']} under fd {conn['under']}"
    if conn["remote"] is None:
        # Reset while queued: only the listener's count tells it, which the fd rows compare.
        continue
    found = [r for r in listed["tcp"] if r["pid"] is None
             and r["local"] == conn["local"] and r["remote"] == conn["remote"]]
    if not found:
        problems.append(f"{case}: {what}: ss does not list it")
        continue
    for field in ("state", "recv_q", "send_q"):
        if conn[field] != found[0][field]:
            disagree(what, field, conn[field], found[0][field])

checked = len(main["fds"]) + len(record.get("without_fd", []))
for problem in problems:
    print(f"kernel-rows: FAIL: {problem}", file=sys.stderr)
print(f"kernel-rows: {'FAIL' if problems else 'ok'}: {case} ({checked} rows)")
sys.exit(1 if problems else 0)
PY
    then :; else failed=$((failed + 1)); fi
}

# TCP: a listener with a full queue, connections with unread data and an unread FIN, SYN_SENT.
cat > "$work/tcp.sock" <<'SOCK'
socket tcp as srv
bind srv 127.0.0.1:0
listen srv 1
socket tcp as a
connect a $srv
accept srv as conn
send a hello
socket tcp as b
connect b $srv
send b early
socket tcp as c
connect c $srv
socket tcp as late
nonblock late on
connect late $srv
expect error EINPROGRESS
SOCK
compare tcp

# What closes leave: FIN_WAIT2 and TIME_WAIT under the fds they came from; a refused connect.
cat > "$work/closes.sock" <<'SOCK'
socket tcp as srv
bind srv 127.0.0.1:0
listen srv
socket tcp as one
connect one $srv
accept srv as c1
socket tcp as two
connect two $srv
accept srv as c2
send two "bye"
close two
close c2
socket tcp as three
connect three $srv
accept srv as c3
close three
sleep 300
socket tcp as gone
bind gone 127.0.0.1:0
close gone
socket tcp as refused
bind refused 127.0.0.1:0
connect refused $gone
expect error ECONNREFUSED
SOCK
compare closes

# UDP and Unix: the kernel's memory figures, next datagrams, a seqpacket listener's queue.
cat > "$work/datagrams.sock" <<'SOCK'
socket udp as u
bind u 127.0.0.1:0
socket udp as s
sendto s $u abc
sendto s $u 0123456789
socket udp as peer
connect peer $u
send peer "x"
socketpair unix stream as p q
send p "hi there"
socketpair unix dgram as x y
send x "one"
send x "three"
socket unix seqpacket as sl
bind sl @sockplay-kernel-rows-$$
listen sl
socket unix seqpacket as sc
connect sc @sockplay-kernel-rows-$$
send sc "rec1"
SOCK
sed -i "s/\\\$\\\$/$$/g" "$work/datagrams.sock"
compare datagrams

# SO_REUSEPORT: two listeners, one port, eight queued connections.
{
    printf 'socket tcp as a\nsetsockopt a SO_REUSEPORT 1\nbind a 127.0.0.1:0\n'
    printf 'socket tcp as b\nsetsockopt b SO_REUSEPORT 1\nbind b $a\nlisten a\nlisten b\n'
    for n in 1 2 3 4 5 6 7 8; do printf 'socket tcp as c%s\nconnect c%s $a\n' "$n" "$n"; done
} > "$work/reuseport.sock"
compare reuseport

if [ "$failed" -gt 0 ]; then
    echo "kernel-rows: FAIL: $failed case(s) disagree with ss" >&2
    exit 1
fi
echo "kernel-rows: ok: every row agrees with ss"
