#!/usr/bin/env bash
# Checks sockplay against foreign programs: curl, netcat and socat talk to sockplay's real sockets.
# Every check fails loudly; a missing tool is a failure, never a skip.
set -euo pipefail
trap 'echo "interop: FAIL: unexpected error at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

for tool in curl nc socat python3; do
    command -v "$tool" >/dev/null || { echo "interop: FAIL: $tool is not installed" >&2; exit 1; }
done

cargo build --release --quiet
sockplay="$PWD/target/release/sockplay"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
passed=0
failed=0

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
pass() { echo "interop: ok: $1"; passed=$((passed + 1)); }
fail() { echo "interop: FAIL: $1" >&2; failed=$((failed + 1)); }

# 1. curl fetches a page that a sockplay script serves by hand.
port=$(free_port)
cat > "$work/serve.sock" <<SOCK
socket tcp as srv
bind srv 127.0.0.1:$port
listen srv
set timeout 20
accept srv as conn
recv conn
expect output "GET /hello HTTP/1.1"
send conn "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\nhello from sockplay\n"
close conn
close srv
SOCK
"$sockplay" "$work/serve.sock" > "$work/serve.out" 2>&1 &
server=$!
body=$(curl --silent --show-error --max-time 20 --retry 20 --retry-delay 0 --retry-connrefused \
    "http://127.0.0.1:$port/hello" 2>"$work/curl.err" || true)
if wait "$server" && [ "$body" = "hello from sockplay" ]; then
    pass "curl got the page a sockplay script served"
else
    fail "curl: got body '$body'"; cat "$work/serve.out" "$work/curl.err" >&2
fi

# 2. netcat receives what a sockplay client sends.
port=$(free_port)
nc -l 127.0.0.1 "$port" > "$work/nc.out" &
listener=$!
for _ in $(seq 1 50); do
    ss -ltn "sport = :$port" | grep -q LISTEN && break
    sleep 0.1
done
if "$sockplay" -c "socket tcp as c; connect c 127.0.0.1:$port; send c \"hello, netcat\\n\"; close c" > "$work/client.out" 2>&1 \
    && wait "$listener" && [ "$(cat "$work/nc.out")" = "hello, netcat" ]; then
    pass "netcat received what sockplay sent"
else
    fail "netcat: got '$(cat "$work/nc.out")'"; cat "$work/client.out" >&2
fi

# 3. socat as a client of a sockplay listener: bytes both ways, then EOF seen by sockplay.
port=$(free_port)
cat > "$work/echo.sock" <<SOCK
socket tcp as srv
bind srv 127.0.0.1:$port
listen srv
set timeout 20
accept srv as conn
recv conn
expect data "ping\n"
send conn "pong\n"
recv conn
expect eof
expect state conn CLOSE_WAIT
close conn
SOCK
"$sockplay" "$work/echo.sock" > "$work/echo.out" 2>&1 &
server=$!
for _ in $(seq 1 50); do
    ss -ltn "sport = :$port" | grep -q LISTEN && break
    sleep 0.1
done
reply=$(printf 'ping\n' | socat -t 2 - "TCP:127.0.0.1:$port" || true)
if wait "$server" && [ "$reply" = "pong" ]; then
    pass "socat talked to a sockplay listener, and sockplay saw its EOF"
else
    fail "socat: got '$reply'"; cat "$work/echo.out" >&2
fi

# 4. The http-by-hand tutorial, walked (Enter at every step), with a real curl as its client.
( for _ in $(seq 1 60); do echo; done ) | "$sockplay" --tutorial http-by-hand --panel off > "$work/tutorial.out" 2>&1 &
walker=$!
url=""
for _ in $(seq 1 100); do
    url=$(grep -oE 'curl -v http://127\.0\.0\.1:[0-9]+/' "$work/tutorial.out" | head -1 | sed 's/^curl -v //' || true)
    [ -n "$url" ] && break
    sleep 0.1
done
page=$(curl --silent --show-error --max-time 30 "$url" 2>"$work/curl2.err" || true)
if [ -n "$url" ] && wait "$walker" && grep -q "Tutorial \`http-by-hand\` done" "$work/tutorial.out" \
    && [ -n "$page" ]; then
    pass "curl was the client of the walked http-by-hand tutorial and got the page typed there"
else
    fail "http-by-hand walk: url '$url', page '$page'"; tail -20 "$work/tutorial.out" "$work/curl2.err" >&2
fi

# 5. `set explain python`: the Python lines of a session run in one python3 without an error: every
#    variable they name exists (names given by number, an unnamed socket whose plain variable a
#    name took, dup, socketpair, select, poll, epoll, setsockopt).
cat > "$work/explain.sock" <<'SOCK'
set explain python
socket tcp as s4
bind s4 :0
listen s4
socket tcp
connect 4 $s4
accept s4 as conn
send conn hi
recv 4 2
dup 5 as copy
close copy
setsockopt conn SO_REUSEADDR 1
socketpair unix stream as a b
send a ping
select read b timeout 0
poll b timeout 0
epoll create as ep
epoll add ep b in
epoll wait ep timeout 0
recv b 4
close a
recv b
SOCK
if "$sockplay" --panel off "$work/explain.sock" > "$work/explain.out" 2>&1 \
    && grep '^>>> ' "$work/explain.out" | sed 's/^>>> //' > "$work/explain.py" \
    && python3 "$work/explain.py" > "$work/explain.py.out" 2>&1; then
    pass "the Python lines of a session ran in python3 ($(wc -l < "$work/explain.py") lines)"
else
    fail "explain python: the lines did not run"; cat "$work/explain.out" "$work/explain.py" "$work/explain.py.out" >&2
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
