#!/usr/bin/python3
"""The differential judge: sockplay's panel against the kernel.

sockplay promises that its panel can be trusted over `ss` and `lsof`. This program drives the release
binary through many situations and, at each moment, reads the kernel's own account of the playground
processes and compares it, field by field and row by row, with what sockplay shows there.

Three views are judged at every moment:
  panel  the FD panel a replay prints after a command (every process, side by side or stacked);
  fds    the table `fds` prints for each process;
  json   the record `--json` prints for the same command (`processes[].fds`, and every row without
         an fd wherever it is nested).
Each situation script runs twice, once as text and once with --json, each run in a network
namespace of its own (so `ss` lists only the playground's sockets, and nothing running in parallel
can be mistaken for them) with its own temporary directory.

How a moment is held: the script is written whole. A moment is `sleep 250` (delayed ACKs land),
a hold, `sleep 1` with the panel on (the panel judged), `fds` per process, and a second hold. A hold
is `!head -c1 FIFO`: sockplay's front end waits on the FIFO while the playground processes sit
idle; the judge reads the kernel, then writes the byte that lets the script go on. The kernel is
read at both holds; a moment in which it moved is reported, never judged.

Where the kernel's account comes from:
  ss -tanpieoHO, ss -uanpeHO, ss -xanpeHO  (in the namespace; matched by inode and by pid,fd)
      every socket it lists: state, queues, addresses, peer inode, v6only, timers, holders;
      the connections no fd holds (queued, half-open, orphaned, TIME_WAIT, in flight).
  lsof -p PID                              fd numbers, types, inodes, protocol.
  /proc/PID/fd/N, /proc/PID/fdinfo/N       what a non-socket fd is; an epoll fd's interest list.
  pidfd_getfd(2) + getsockname/getpeername/TCP_INFO/SIOCINQ/SIOCOUTQ, for the sockets ss cannot list
      (a TCP socket in CLOSE and an unbound UDP socket are in no table the kernel dumps), and for a
      datagram socket's next datagram size. These calls only read; the judge's copy is closed at once.
  The kernel at the previous moment: the marks (new, changed, closed) of the panel.

A disagreement is printed as
    truth: DISAGREE [situation] main fd 8 SEND-Q (panel): panel 0 / kernel (ss) 1
and makes the run fail. What the kernel cannot tell is listed as "not judged", never dropped.
SYN_RECV is made with a raw SYN sent inside the run's namespace; every TCP state is reached on
loopback and the run fails if one is not. The judge itself runs as root (nsenter, pidfd_getfd).
"""

import argparse
import ctypes
import fcntl
import ipaddress
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

SS_TCP_STATES = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
    "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT",
    "UNCONN": "CLOSE", "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "LISTEN": "LISTEN",
    "CLOSING": "CLOSING",
}
SS_OTHER_STATES = {"UNCONN": "UNCONNECTED", "ESTAB": "CONNECTED", "LISTEN": "LISTEN"}
# tcpi_state numbers (include/net/tcp_states.h) for the sockets ss cannot list.
TCPI_STATES = {
    1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
    6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}
KERNEL_STATES = set(SS_TCP_STATES.values()) | set(SS_OTHER_STATES.values())
UNIX_TYPES = {"u_str": "stream", "u_dgr": "dgram", "u_seq": "seqpacket"}
EPOLLONESHOT, EPOLLET = 1 << 30, 1 << 31
SIOCINQ, SIOCOUTQ = 0x541B, 0x5411
SYS_PIDFD_GETFD = 438

# Keys under which a JSON row may carry what the text shows. The first name is the one the judge
# asks for in its messages; the others are accepted spellings of the same thing.
JSON_PAIRS = ("pairs", "pair", "peer", "peers", "paired_with")
JSON_TWINS = ("twins", "same_socket", "shared_with", "also")
JSON_INTEREST = ("interest", "interest_list", "watches", "epoll")
JSON_TARGET = ("target",)
JSON_TIME_LEFT = ("time_left", "time_left_s", "time_left_ms", "expires_in_ms")
JSON_NEXT = ("next_datagram", "next_recv", "next")

UNKNOWN = object()  # a value the kernel does not tell; such a field is listed as not judged


def show(value):
    if value is UNKNOWN:
        return "(unknown)"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(ref_text(v) if isinstance(v, tuple) else str(v)
                                      for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"fd {k}: {'+'.join(sorted(v))}" for k, v in sorted(value.items())) + "}"
    return repr(value)


def ref_text(ref):
    return f"{ref[0]}:{ref[1]}"


# ---------------------------------------------------------------------------------------------
# Addresses: one canonical spelling for ss, the text panel and the JSON
# ---------------------------------------------------------------------------------------------

def canon_ip(text):
    """'127.0.0.1' -> '127.0.0.1'; '::ffff:127.0.0.1' -> '[::ffff:127.0.0.1]'; '::1' -> '[::1]'."""
    text = text.split("%", 1)[0]
    ip = ipaddress.ip_address(text)
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return f"[::ffff:{ip.ipv4_mapped}]"
    return f"[{ip.compressed}]"


@dataclass(frozen=True)
class Addr:
    text: str           # canonical: 127.0.0.1:80, [::1]:80, [::]:80, /path, @name
    dual: bool = False  # ss '*:P': an IPv6 wildcard that also takes IPv4 (v6only 0)

    def __str__(self):
        return self.text


def parse_inet(token):
    """An ss or panel inet address; None when it names no address (0.0.0.0:*, -, *:*)."""
    token = token.strip()
    if token in ("-", "", "*", "*:*") or token.endswith(":*"):
        return None
    if token.startswith("*:"):
        return Addr(f"[::]:{int(token[2:])}", dual=True)
    if token.startswith("["):
        host, _, port = token[1:].rpartition("]:")
    else:
        host, _, port = token.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not an address: {token!r}")
    return Addr(f"{canon_ip(host)}:{int(port)}")


def parse_panel_addr(text):
    """A LOCAL/REMOTE cell (marks already removed) or a JSON address."""
    if text is None:
        return None
    text = text.strip()
    if text in ("", "-", "(unnamed)", "*"):
        return None
    if text.startswith("/") or text.startswith("@") or text.startswith("./"):
        return Addr(text)
    try:
        return parse_inet(text)
    except ValueError:
        return Addr(text)  # kept as written: it then disagrees with whatever the kernel says


def text_of(a):
    return a.text if isinstance(a, Addr) else a


def same_endpoint(a, b):
    """Two inet addresses name the same endpoint (v4-mapped and plain IPv4 are one)."""
    if a is None or b is None:
        return False
    return unmapped(a.text) == unmapped(b.text)


def unmapped(text):
    m = re.fullmatch(r"\[::ffff:(\d+\.\d+\.\d+\.\d+)\]:(\d+)", text)
    return f"{m.group(1)}:{m.group(2)}" if m else text


def addr_port(a):
    m = re.search(r":(\d+)$", a.text) if a else None
    return int(m.group(1)) if m else None


def addr_host(a):
    return unmapped(a.text).rpartition(":")[0] if a else None


# ---------------------------------------------------------------------------------------------
# The kernel's account
# ---------------------------------------------------------------------------------------------

@dataclass
class KSock:
    """One socket as the kernel reports it."""
    proto: str                  # tcp, udp, unix
    family: str                 # inet, inet6, unix
    type: str                   # stream, dgram, seqpacket
    state: str                  # in the panel's words
    recv_q: object
    send_q: object
    local: object               # Addr or None
    remote: object              # Addr or None (UNKNOWN while unresolved)
    inode: int
    users: list = field(default_factory=list)   # [(pid, fd)]
    peer_inode: int = 0
    icons: list = field(default_factory=list)   # a unix listener's queued clients (their inodes)
    v6only: object = None
    time_left: object = None    # seconds, for TIME_WAIT
    next_dgram: object = None   # a datagram socket's next datagram size
    source: str = "ss"
    line: str = ""


def run(args, check=True, timeout=30):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise Harness(f"`{' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


class Harness(Exception):
    """The judge could not do its work: not a disagreement, but the run fails all the same."""


def parse_ss(text, proto):
    socks = []
    for line in text.splitlines():
        if not line.strip():
            continue
        words = line.split()
        if words[0] in ("tcp", "udp", "u_str", "u_dgr", "u_seq", "raw", "u_seqpacket"):
            netid = words.pop(0)
        else:
            netid = proto
        state, rq, sq = words[0], int(words[1]), int(words[2])
        rest = words[3:]
        if proto == "unix":
            local_name, local_ino, peer_name, peer_ino = rest[0], int(rest[1]), rest[2], int(rest[3])
            rest = rest[4:]
            sock = KSock("unix", "unix", UNIX_TYPES.get(netid, netid), SS_OTHER_STATES.get(state, state),
                         rq, sq, None if local_name == "*" else Addr(local_name), UNKNOWN, local_ino,
                         peer_inode=peer_ino, line=line)
            if peer_name != "*":
                sock.remote = Addr(peer_name)
            if sock.type == "dgram" and state == "ESTAB" and not peer_ino:
                # Since Linux 5.14 connect() on a unix datagram socket marks both ends
                # ESTABLISHED (for sockmap), though only the connecting one has a peer: the
                # receiver is connected to nothing, and getpeername() says ENOTCONN.
                sock.state = "UNCONNECTED"
        else:
            local, peer = parse_inet(rest[0]), parse_inet(rest[1])
            rest = rest[2:]
            family = "inet6" if rest_is_v6(words[3]) else "inet"
            states = SS_TCP_STATES if proto == "tcp" else SS_OTHER_STATES
            sock = KSock(proto, family, "stream" if proto == "tcp" else "dgram",
                         states.get(state, state), rq, sq, local, peer, 0, line=line)
        tail = " ".join(rest)
        sock.users = [(int(p), int(f)) for p, f in re.findall(r"pid=(\d+),fd=(\d+)", tail)]
        m = re.search(r"\bino:(\d+)", tail)
        if m and proto != "unix":
            sock.inode = int(m.group(1))
        m = re.search(r"\bv6only:(\d)", tail)
        if m:
            sock.v6only = int(m.group(1))
        m = re.search(r"peers: ([\d ]+)", tail)
        if m:
            sock.icons = [int(x) for x in m.group(1).split()]
        m = re.search(r"timer:\(timewait,([\d.]+)(ms|sec|min)", tail)
        if m:
            scale = {"ms": 0.001, "sec": 1, "min": 60}[m.group(2)]
            sock.time_left = float(m.group(1)) * scale
        socks.append(sock)
    return socks


def rest_is_v6(token):
    return token.startswith("[") or token.startswith("*")


def parse_lsof(text):
    """lsof -F output -> {pid: {fd: {'type','inode','name','proto','device'}}}."""
    table, pid, cur = {}, None, None
    for line in text.splitlines():
        if not line:
            continue
        tag, value = line[0], line[1:]
        if tag == "p":
            pid = int(value)
            table[pid] = {}
            cur = None
        elif tag == "f":
            cur = None
            if value.isdigit():
                cur = table[pid].setdefault(int(value), {})
        elif cur is not None:
            key = {"t": "type", "i": "inode", "n": "name", "P": "proto", "d": "device"}.get(tag)
            if key:
                cur[key] = value
    return table


libc = ctypes.CDLL(None, use_errno=True)


def grab_fd(pid, fd):
    """A copy of process pid's fd (pidfd_getfd), or raise Harness."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as e:
        raise Harness(f"pidfd_open({pid}): {e}") from None
    try:
        got = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if got < 0:
            err = ctypes.get_errno()
            raise Harness(f"pidfd_getfd({pid}, {fd}): {os.strerror(err)}")
        return got
    finally:
        os.close(pidfd)


def sockaddr_text(family, value):
    if family == socket.AF_UNIX:
        if isinstance(value, bytes):
            if not value:
                return None
            if value[0] == 0:
                return Addr("@" + value[1:].decode(errors="replace"))
            return Addr(value.decode(errors="replace"))
        if not value:
            return None
        if value.startswith("\0"):
            return Addr("@" + value[1:])
        return Addr(value)
    host, port = value[0], value[1]
    if port == 0 and ipaddress.ip_address(host.split("%")[0]).is_unspecified:
        return None
    return Addr(f"{canon_ip(host)}:{port}")


def probe(pid, fd):
    """What the kernel says of one socket fd through read-only calls on a copy of it."""
    mine = grab_fd(pid, fd)
    s = socket.socket(fileno=mine)
    try:
        info = {"family": s.family, "type": s.type}
        info["local"] = sockaddr_text(s.family, s.getsockname())
        try:
            info["remote"] = sockaddr_text(s.family, s.getpeername())
        except OSError:
            info["remote"] = None
        buf = bytearray(4)
        try:
            fcntl.ioctl(s.fileno(), SIOCINQ, buf)
            info["inq"] = struct.unpack("i", buf)[0]
        except OSError:
            info["inq"] = None
        try:
            fcntl.ioctl(s.fileno(), SIOCOUTQ, buf)
            info["outq"] = struct.unpack("i", buf)[0]
        except OSError:
            info["outq"] = None
        if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM:
            info["tcp_state"] = TCPI_STATES.get(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0])
        return info
    finally:
        s.detach()
        os.close(mine)


# The TCP sockets that hold a port without being in any table ss 6.1 dumps (bound, CLOSE): the
# kernel lists them under the state bit TCP_BOUND_INACTIVE (13) since Linux 6.7, as `ss -B` does.
BOUND_INACTIVE = r"""
import socket, struct, json, sys
NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY = 4, 20
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
out = []
for family in (socket.AF_INET, socket.AF_INET6):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 1 << 13) + b"\0" * 48
    hdr = struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    s.send(hdr + req)
    done = False
    while not done:
        data = s.recv(65536)
        off = 0
        while off < len(data):
            ln, typ, flags, seq, pid = struct.unpack_from("=IHHII", data, off)
            if typ == 3:  # NLMSG_DONE
                done = True
                break
            if typ == 2:  # NLMSG_ERROR
                err = struct.unpack_from("=i", data, off + 16)[0]
                out.append({"error": err})
                done = True
                break
            fam, state, timer, retrans = struct.unpack_from("=BBBB", data, off + 16)
            sport, dport = struct.unpack_from("!HH", data, off + 20)
            src = data[off + 24: off + 40]; dst = data[off + 40: off + 56]
            expires, rq, wq, uid, ino = struct.unpack_from("=IIIII", data, off + 16 + 4 + 48)
            if fam == socket.AF_INET:
                a = socket.inet_ntop(socket.AF_INET, src[:4])
            else:
                a = socket.inet_ntop(socket.AF_INET6, src)
            out.append({"family": fam, "state": state, "src": a, "sport": sport, "rq": rq,
                        "wq": wq, "inode": ino})
            off += (ln + 3) & ~3
print(json.dumps(out))
"""


def bound_inactive_supported():
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    return (major, minor) >= (6, 7)


@dataclass
class FdInfo:
    fd: int
    lsof: dict
    link: str
    inode: int = 0          # the socket's inode (from the link socket:[N])
    sock: object = None     # KSock for a socket
    interest: object = None  # {tfd: set of event words} for an epoll fd


class Kernel:
    """Everything the kernel says about a set of playground processes at one moment."""

    def __init__(self, ns_pid, pids, nsenter):
        self.pids = pids
        enter = ["nsenter", "-t", str(ns_pid), "-n"] if nsenter else []
        self.enter = enter
        self._bound = None
        self.tcp = parse_ss(run(enter + ["ss", "-tanpieoHO"]), "tcp")
        self.udp = parse_ss(run(enter + ["ss", "-uanpeHO"]), "udp")
        self.unix = parse_ss(run(enter + ["ss", "-xanpeHO"]), "unix")
        self.socks = self.tcp + self.udp + self.unix
        lsof = parse_lsof(run(enter + ["lsof", "-n", "-P", "-w", "-p", ",".join(map(str, pids)),
                                       "-F", "ftinPd"], check=False))
        self.fds = {}
        by_inode = {}
        for s in self.socks:
            if s.inode:
                by_inode.setdefault(s.inode, s)
        self.by_inode = by_inode
        for pid in pids:
            table = {}
            try:
                names = os.listdir(f"/proc/{pid}/fd")
            except OSError as e:
                raise Harness(f"cannot read /proc/{pid}/fd: {e}") from None
            for name in names:
                fd = int(name)
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                info = FdInfo(fd, lsof.get(pid, {}).get(fd, {}), link)
                m = re.fullmatch(r"socket:\[(\d+)\]", link)
                if m:
                    info.inode = int(m.group(1))
                if link == "anon_inode:[eventpoll]":
                    info.interest = read_interest(pid, fd)
                table[fd] = info
            self.fds[pid] = table
        # lsof must list every fd /proc has (numbers, and for sockets the inode).
        self.lsof_problems = []
        for pid in pids:
            lsof_fds = set(lsof.get(pid, {}))
            proc_fds = set(self.fds[pid])
            for fd in sorted(proc_fds ^ lsof_fds):
                self.lsof_problems.append((pid, fd, "open" if fd in proc_fds else "not open",
                                           "listed" if fd in lsof_fds else "not listed"))
            for fd in sorted(proc_fds & lsof_fds):
                info = self.fds[pid][fd]
                # lsof gives a socket's inode as NODE, or as DEVICE for IPv4/IPv6 ones.
                node = info.lsof.get("inode") or info.lsof.get("device", "")
                if info.inode and node.isdigit() and int(node) != info.inode:
                    self.lsof_problems.append((pid, fd, f"socket:[{info.inode}]", f"inode {node}"))
        self._attach()

    def _attach(self):
        for pid, table in self.fds.items():
            for fd, info in table.items():
                if not info.inode:
                    continue
                sock = self.by_inode.get(info.inode)
                ltype = info.lsof.get("type", "")
                if ltype == "netlink":
                    continue
                if sock is None:
                    sock = self._probed(pid, fd, info)
                    self.by_inode[info.inode] = sock
                    self.socks.append(sock)
                elif (pid, fd) not in sock.users:
                    raise Harness(f"ss lists inode {info.inode} without pid {pid} fd {fd}")
                info.sock = sock
        # Unix remotes: the name the peer is bound to (ss prints '*' for it).
        for s in self.unix:
            if s.remote is UNKNOWN:
                peer = self.by_inode.get(s.peer_inode) if s.peer_inode else None
                if peer is not None:
                    s.remote = peer.local
                elif s.state == "CONNECTED" or s.peer_inode:
                    s.remote = self._unix_peer_name(s)
                else:
                    s.remote = None
        # A datagram socket's next datagram: SIOCINQ on a copy.
        for pid, table in self.fds.items():
            for fd, info in table.items():
                s = info.sock
                if s is not None and s.type == "dgram" and s.next_dgram is None:
                    s.next_dgram = probe(pid, fd)["inq"]

    def _unix_peer_name(self, sock):
        for pid, table in self.fds.items():
            for fd, info in table.items():
                if info.inode == sock.inode:
                    return probe(pid, fd)["remote"]
        return UNKNOWN

    def _probed(self, pid, fd, info):
        p = probe(pid, fd)
        family = {socket.AF_INET: "inet", socket.AF_INET6: "inet6", socket.AF_UNIX: "unix"}.get(p["family"])
        if family is None:
            raise Harness(f"pid {pid} fd {fd}: a socket of family {p['family']} the judge does not know")
        stype = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram",
                 socket.SOCK_SEQPACKET: "seqpacket"}.get(p["type"], str(p["type"]))
        if family == "unix":
            raise Harness(f"pid {pid} fd {fd}: ss does not list unix socket inode {info.inode}")
        if stype == "stream":
            state = p["tcp_state"]
            if state != "CLOSE":
                raise Harness(f"pid {pid} fd {fd}: ss does not list a TCP socket in {state}")
            bound = self.bound_inactive()
            if bound is None:
                # Before Linux 6.7 the kernel does not tell which CLOSE sockets hold a port:
                # getsockname() is the next best account.
                return KSock("tcp", family, stype, state, p["inq"], p["outq"], p["local"],
                             p["remote"], info.inode, users=[(pid, fd)],
                             source="getsockname/TCP_INFO")
            entry = bound.get(info.inode)
            if entry is not None:
                return KSock("tcp", family, stype, state, entry["rq"], entry["wq"],
                             Addr(f"{canon_ip(entry['src'])}:{entry['sport']}"), None, info.inode,
                             users=[(pid, fd)], source="inet_diag (bound, inactive)")
            # In no table: it holds no address, whatever getsockname() still says after a
            # failed connect. Its queues are SIOCINQ/SIOCOUTQ (what ss would print).
            return KSock("tcp", family, stype, state, p["inq"], p["outq"], None, None,
                         info.inode, users=[(pid, fd)], source="inet_diag/TCP_INFO")
        # An unbound UDP socket: in no table, so nothing queued and nothing sent.
        if p["local"] is not None or p["inq"]:
            raise Harness(f"pid {pid} fd {fd}: ss does not list a bound UDP socket")
        return KSock("udp", family, stype, "CONNECTED" if p["remote"] else "UNCONNECTED",
                     0, p["outq"], None, p["remote"], info.inode, users=[(pid, fd)],
                     source="getsockname")

    def bound_inactive(self):
        """{inode: entry} of the bound, inactive TCP sockets; None where the kernel cannot say."""
        if not bound_inactive_supported():
            return None
        if self._bound is None:
            raw = json.loads(run(self.enter + ["/usr/bin/python3", "-c", BOUND_INACTIVE]))
            if isinstance(raw, dict) or any("error" in e for e in raw):
                raise Harness(f"the bound-inactive dump failed: {raw}")
            self._bound = {e["inode"]: e for e in raw}
        return self._bound

    def holders(self, inode):
        """[(pid, fd)] of every playground fd on this socket."""
        out = []
        for pid, table in self.fds.items():
            for fd, info in table.items():
                if info.inode == inode and inode:
                    out.append((pid, fd))
        return sorted(out)


def read_interest(pid, fd):
    try:
        text = open(f"/proc/{pid}/fdinfo/{fd}").read()
    except OSError as e:
        raise Harness(f"cannot read /proc/{pid}/fdinfo/{fd}: {e}") from None
    interest = {}
    for tfd, events in re.findall(r"tfd:\s*(\d+)\s+events:\s*([0-9a-fA-F]+)", text):
        bits = int(events, 16)
        words = set()
        for bit, word in ((0x1, "in"), (0x4, "out"), (0x2000, "rdhup"), (0x2, "pri"),
                          (EPOLLET, "et"), (EPOLLONESHOT, "oneshot")):
            if bits & bit:
                words.add(word)
        interest[int(tfd)] = words
    return interest


# ---------------------------------------------------------------------------------------------
# sockplay's account: the text panel and the JSON record
# ---------------------------------------------------------------------------------------------

MARKS = {"+": "new", "~": "changed", "-": "closed"}


@dataclass
class PRow:
    """One row as sockplay shows it (text or JSON), in the judge's terms."""
    where: str                  # 'text' or 'json'
    fd: object                  # int, or None for a row without an fd
    name: object
    kind: str
    family: object
    type: object
    local: object               # Addr or None
    remote: object
    dual: object                # True/False when the row says so, None when it does not
    state: object
    recv_q: object
    send_q: object
    pairs: object               # set of (proc, fd) or None when not shown
    twins: object
    detached: bool
    mark: str = ""
    inode: object = None
    target: object = None
    time_left: object = None
    next_dgram: object = None
    interest: object = None
    raw: str = ""
    after_fd: object = None     # text: the fd row this row sits under; json: the row it is nested in
    keys: tuple = ()            # json: the keys the row has
    extra: str = ""             # text: what lines under the row add to it


@dataclass
class PTable:
    proc: str
    pid: object
    state: object
    counts: dict
    own: dict                   # {fd: what} from the "(sockplay's own: …)" line
    rows: list
    problems: list              # lines the judge could not read


def refs(text, proc):
    """'fd 5, fd 10' / 'main:4, child:3' -> {(proc, fd)}."""
    out = set()
    for item in re.split(r",\s*", text.strip()):
        item = item.strip()
        if not item:
            continue
        m = re.fullmatch(r"fd\s*(\d+)", item)
        if m:
            out.add((proc, int(m.group(1))))
            continue
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_-]*):(\d+)", item)
        if m:
            out.add((m.group(1), int(m.group(2))))
            continue
        out.add((proc, item))  # unreadable: kept so that it disagrees visibly
    return out


def split_marks(cell, proc):
    """A cell without its ↔/≡ marks, and the marks."""
    pairs = twins = None
    m = re.search(r"↔\s*(.*?)\s*(?=≡|$)", cell)
    if m:
        pairs = refs(m.group(1), proc)
        cell = cell[:m.start()] + cell[m.end():]
    m = re.search(r"≡\s*(.*?)\s*(?=↔|$)", cell)
    if m:
        twins = refs(m.group(1), proc)
        cell = cell[:m.start()] + cell[m.end():]
    return cell.strip(), pairs, twins


TEXT_KINDS = {
    "tcp": ("inet", "stream"), "tcp6": ("inet6", "stream"), "udp": ("inet", "dgram"),
    "udp6": ("inet6", "dgram"), "unix/stream": ("unix", "stream"), "unix/dgram": ("unix", "dgram"),
    "unix/seqpacket": ("unix", "seqpacket"),
}
DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)\b")


OWN_LINE = re.compile(r"^\(([^()']+)'s own[:,]")
# How a LOCAL cell says that an IPv6 socket on [::] takes IPv4 too (IPV6_V6ONLY off): the
# panel's `(IPv4 too)`, or the words "dual stack".
DUAL_TEXT = re.compile(r"\s*(?:\(IPv4 too\)|\(?dual[ -]stack\)?)", re.I)


def parse_text_panel(output, proc):
    """The `fds` output of one process -> [PTable] (one; several if titled per process)."""
    tables = []
    cur = None
    header = None
    last_fd = None
    named_own = {}      # process name -> {fd: what}, from lines that name their process
    lines = output.splitlines()
    for line in lines:
        title = re.match(r"^── (\S+) \(pid (\d+), (.*)\) ──", line)
        if title:
            cur = PTable(title.group(1), int(title.group(2)), title.group(3), {}, {}, [], [])
            tables.append(cur)
            header = None
            continue
        if cur is None:
            cur = PTable(proc, None, None, {}, {}, [], [])
            tables.append(cur)
        if line.startswith("open fds:"):
            for key, value in re.findall(r"([a-z][a-z -]*?):\s*(\d+)", line):
                cur.counts[key.strip()] = int(value)
            continue
        if re.match(r"^\s+FD\s+NAME\s", line):
            header = re.split(r"\s{2,}", line.strip())
            continue
        if set(line.strip()) <= {"─"} and line.strip():
            continue
        if OWN_LINE.match(line):
            # `(sockplay's own: … — not shown[, in every process])` under one table or all;
            # `(NAME's own: … — not shown)`; `(sockplay's own, not shown: main: …; kid: …)`.
            whose = OWN_LINE.match(line).group(1)
            if line.startswith("(sockplay's own, not shown: "):
                body = line[len("(sockplay's own, not shown: "):].rstrip(")")
                for part in body.split("; "):
                    name, _, fds = part.partition(": ")
                    named_own[name] = {int(fd): what.strip()
                                       for fd, what in re.findall(r"fd (\d+) ([^,—;)]+)", fds)}
            elif whose == "sockplay":
                for fd, what in re.findall(r"fd (\d+) ([^,—]+)", line):
                    cur.own[int(fd)] = what.strip()
                if "in every process" in line:
                    for t in tables:
                        t.own = dict(cur.own)
            else:
                named_own[whose] = {int(fd): what.strip()
                                    for fd, what in re.findall(r"fd (\d+) ([^,—]+)", line)}
            header = None
            continue
        if header is None or not line.strip():
            if line.strip():
                cur.problems.append(line)
            continue
        mark = line[0] if line[0] in MARKS else ""
        cells = re.split(r"\s{2,}", line[1:].strip())
        if len(cells) != len(header):
            if cur.rows:
                cur.rows[-1].raw += "\n" + line
                cur.rows[-1].extra += " " + line.strip()
            else:
                cur.problems.append(line)
            continue
        c = dict(zip(header, cells))
        fd = int(c["FD"]) if c.get("FD", "").isdigit() else None
        name, p1, t1 = split_marks(c.get("NAME", "-"), cur.proc)
        local_cell, p2, t2 = split_marks(c.get("LOCAL", "-"), cur.proc)
        remote_cell, p3, t3 = split_marks(c.get("REMOTE", "-"), cur.proc)
        state_cell, p4, t4 = split_marks(c.get("STATE", "-"), cur.proc)
        pairs = union(p1, p2, p3, p4)
        twins = union(t1, t2, t3, t4)
        detached = "(detached)" in name
        if detached:
            name = name.replace("(detached)", "").strip()
        kind = c.get("KIND", "-")
        dual = None
        if "dual" in kind.lower() or DUAL_TEXT.search(local_cell):
            dual = True
        local_cell = DUAL_TEXT.sub("", local_cell)
        kind_word = kind.split()[0] if kind.split() else kind
        family, stype = TEXT_KINDS.get(kind_word, (None, None))
        time_left = None
        state = state_cell
        m = re.match(r"^([A-Z_0-9]+)\b\s*(.*)$", state_cell)
        if m:
            state = m.group(1)
            d = DURATION.search(m.group(2))
            if d:
                time_left = float(d.group(1)) * (0.001 if d.group(2) == "ms" else 1)
        row = PRow("text", fd, None if name in ("-", "") else name, kind_word, family, stype,
                   None, None, dual, None if state == "-" else state,
                   qnum(c.get("RECV-Q")), qnum(c.get("SEND-Q")), pairs, twins, detached,
                   mark=MARKS.get(mark, ""), raw=line, after_fd=last_fd, time_left=time_left)
        if family is None:
            row.target = None if local_cell == "-" else local_cell
        else:
            row.local = parse_panel_addr(local_cell)
            row.remote = parse_panel_addr(remote_cell)
            if local_cell.startswith("*:"):
                row.dual = True
        if fd is not None:
            last_fd = fd
        cur.rows.append(row)
    for table in tables:
        for row in table.rows:
            finish_text_row(row, table.proc)
    for t in tables:
        if t.proc in named_own:
            t.own = named_own[t.proc]
    return tables


def finish_text_row(row, proc):
    """Reads what continuation lines add: next datagram size, time left, interest list."""
    extra = row.extra
    text = row.raw + " " + extra
    m = re.search(r"next(?: datagram)?[^0-9]{0,12}(\d+)", text)
    if m:
        row.next_dgram = int(m.group(1))
    if row.time_left is None:
        tail = extra
        d = DURATION.search(tail)
        if d and row.state == "TIME_WAIT":
            row.time_left = float(d.group(1)) * (0.001 if d.group(2) == "ms" else 1)
    if row.kind == "epoll":
        found = {}
        body = text.split("anon_inode:[eventpoll]", 1)[-1]
        # "fd 5 (in, out)", "5 (in)" or "fd 5", in the row or the lines under it.
        for m in re.finditer(r"(?:\bfd\s*(\d+)|\b(\d+)(?=\s*\())\s*(\(([^)]*)\))?", body):
            words = set(w.lower() for w in re.findall(r"[A-Za-z]+", m.group(4) or ""))
            words = {w[5:] if w.startswith("epoll") else w for w in words}
            found[int(m.group(1) or m.group(2))] = words
        row.interest = found


def union(*sets):
    out = None
    for s in sets:
        if s is not None:
            out = (out or set()) | s
    return out


def qnum(cell):
    if cell is None or cell.strip() in ("-", ""):
        return None
    try:
        return int(cell.strip())
    except ValueError:
        return cell.strip()


def first_key(d, keys):
    for k in keys:
        if k in d:
            return k
    return None


def json_refs(value, proc):
    if value is None:
        return set()
    if not isinstance(value, list):
        value = [value]
    out = set()
    for v in value:
        if isinstance(v, bool):
            out.add((proc, str(v)))
        elif isinstance(v, int):
            out.add((proc, v))
        elif isinstance(v, str):
            out |= refs(v, proc)
        elif isinstance(v, dict):
            out.add((v.get("process") or proc, v.get("fd")))
    return out


def json_rows(proc_obj, proc):
    """Every row of one process in a JSON record: the fd rows and, wherever they are nested,
    the rows without an fd (any object with a "state" key and no fd)."""
    rows = []

    def one(d, parent_fd):
        fd = d.get("fd")
        kind = d.get("kind")
        family, stype = d.get("family"), d.get("type")
        local, remote = d.get("local"), d.get("remote")
        row = PRow("json", fd if isinstance(fd, int) else None, d.get("name"), kind, family, stype,
                   None, None, None, d.get("state"), d.get("recv_q"), d.get("send_q"),
                   None, None, bool(d.get("detached", False)), raw=json.dumps(d)[:300],
                   after_fd=parent_fd, keys=tuple(d.keys()))
        if kind == "socket" or family is not None:
            row.local = parse_panel_addr(local) if isinstance(local, str) else None
            row.remote = parse_panel_addr(remote) if isinstance(remote, str) else None
            if isinstance(local, str) and local.startswith("*:"):
                row.dual = True
        k = first_key(d, ("dual_stack", "dual"))
        if k is not None:
            row.dual = bool(d[k])
        k = first_key(d, JSON_TARGET)
        row.target = d[k] if k else (local if kind not in ("socket",) and isinstance(local, str) else None)
        if "inode" in d:
            row.inode = d["inode"]
        k = first_key(d, JSON_PAIRS)
        if k:
            row.pairs = json_refs(d[k], proc)
        k = first_key(d, JSON_TWINS)
        if k:
            row.twins = json_refs(d[k], proc)
        k = first_key(d, JSON_TIME_LEFT)
        if k and isinstance(d[k], (int, float)):
            row.time_left = d[k] / 1000 if k.endswith("_ms") else d[k]
        k = first_key(d, JSON_NEXT)
        if k and isinstance(d[k], int):
            row.next_dgram = d[k]
        k = first_key(d, JSON_INTEREST)
        if k and isinstance(d[k], list):
            interest = {}
            for item in d[k]:
                if isinstance(item, dict):
                    ev = item.get("events", [])
                    ev = ev if isinstance(ev, list) else re.findall(r"[A-Za-z]+", str(ev))
                    interest[item.get("fd")] = {e.lower().removeprefix("epoll") for e in ev}
                elif isinstance(item, int):
                    interest[item] = set()
            row.interest = interest
        rows.append(row)
        for key, value in d.items():
            if isinstance(value, list):
                for v in value:
                    if isinstance(v, dict) and "state" in v and not isinstance(v.get("fd"), int):
                        one(v, row.fd)

    for d in proc_obj.get("fds", []):
        one(d, None)
    for key, value in proc_obj.items():
        if key == "fds" or not isinstance(value, list):
            continue
        for v in value:
            if isinstance(v, dict) and "state" in v and not isinstance(v.get("fd"), int):
                one(v, None)
    return rows


# ---------------------------------------------------------------------------------------------
# What each row should show, read off the kernel
# ---------------------------------------------------------------------------------------------

@dataclass
class Expect:
    key: str                   # how messages name the row
    fd: object
    kind_text: str
    kind_json: str
    family: object = None
    type: object = None
    local: object = None
    remote: object = None
    dual: object = None
    state: object = None
    recv_q: object = None
    send_q: object = None
    inode: object = None
    target: object = None
    pairs: object = None
    twins: object = None
    time_left: object = None
    next_dgram: object = None
    interest: object = None
    source: str = "lsof"
    sock: object = None
    listener_fds: object = None    # for a queued row: the fds of its listener in this process


def text_kind(family, stype):
    if family == "unix":
        return f"unix/{stype}"
    base = "tcp" if stype == "stream" else "udp"
    return base + ("6" if family == "inet6" else "")


def nonsocket_kind(info):
    link, ltype = info.link, info.lsof.get("type", "")
    if link == "anon_inode:[eventpoll]":
        return "epoll", "other"
    if link.startswith("pipe:"):
        return "pipe", "pipe"
    if ltype == "CHR" and re.match(r"/dev/(pts/|tty)", link):
        return "tty", "tty"
    if ltype in ("REG", "CHR", "DIR", "BLK") or link.startswith("/"):
        return "file", "file"
    return "other", "other"


class Model:
    """The kernel's rows for every process of one moment."""

    def __init__(self, kernel, procs):
        self.k = kernel
        self.procs = procs                      # {name: pid}
        self.name_of = {pid: name for name, pid in procs.items()}

    def ref(self, pid, fd):
        return (self.name_of.get(pid, str(pid)), fd)

    def peer_of(self, s):
        """The socket that is this one's peer in the kernel, each the other's."""
        if s.proto == "unix":
            if not s.peer_inode:
                return None
            p = self.k.by_inode.get(s.peer_inode)
            return p if p is not None and p.peer_inode == s.inode else None
        if s.remote is None or s.local is None or s.state in ("LISTEN", "TIME_WAIT", "SYN_SENT"):
            return None
        for p in self.k.socks:
            if p is s or p.proto != s.proto or p.state == "TIME_WAIT":
                continue
            if same_endpoint(p.local, s.remote) and same_endpoint(p.remote, s.local):
                return p
        return None

    def socket_expect(self, s, pid, fd):
        exp = Expect(f"fd {fd}", fd, text_kind(s.family, s.type), "socket", s.family, s.type,
                     s.local, s.remote, None, s.state, s.recv_q, s.send_q, s.inode or None,
                     source=s.source, sock=s)
        if s.family == "inet6" and s.local is not None and s.local.text.startswith("[::]:"):
            exp.dual = s.local.dual
        peer = self.peer_of(s)
        exp.pairs = {self.ref(p, f) for p, f in self.k.holders(peer.inode)} if peer else set()
        exp.twins = {self.ref(p, f) for p, f in self.k.holders(s.inode)} - {self.ref(pid, fd)} \
            if fd is not None else set()
        if s.state == "TIME_WAIT":
            exp.time_left = s.time_left
        if s.type == "dgram":
            exp.next_dgram = s.next_dgram
        return exp

    def fd_rows(self, pid):
        out = {}
        for fd, info in sorted(self.k.fds[pid].items()):
            if info.sock is not None:
                out[fd] = self.socket_expect(info.sock, pid, fd)
            elif info.inode:
                out[fd] = Expect(f"fd {fd}", fd, info.lsof.get("type", "socket"), "socket",
                                 source="lsof")  # a netlink socket
            else:
                kt, kj = nonsocket_kind(info)
                out[fd] = Expect(f"fd {fd}", fd, kt, kj, target=info.link, interest=info.interest)
        return out

    def listeners(self):
        return [s for s in self.k.socks if s.state == "LISTEN" and s.proto == "tcp"]

    def fdless(self):
        """Connections the kernel holds for the playground without an fd:
        [(Expect, owners)] where owners is the set of processes that must show it (each of them),
        or None when exactly one process, any, must show it."""
        out = []
        listeners = self.listeners()
        for s in self.k.socks:
            if s.users or s.inode and self.k.holders(s.inode):
                continue
            if s.proto == "unix" and s.state == "LISTEN":
                continue
            exp = self.socket_expect(s, None, None)
            exp.inode = None
            owners = None
            if s.proto == "tcp" and s.state in ("SYN_RECV", "ESTABLISHED", "CLOSE_WAIT"):
                group = [l for l in listeners
                         if addr_port(l.local) == addr_port(s.local)
                         and (addr_host(l.local) in ("0.0.0.0", "[::]") or same_endpoint(l.local, s.local)
                              or addr_host(l.local) == addr_host(s.local))]
                if len(group) == 1:
                    holders = self.k.holders(group[0].inode)
                    owners = {self.name_of[p] for p, _ in holders}
                    exp.listener_fds = {self.ref(p, f) for p, f in holders}
            exp.key = f"{s.state} {s.local} → {s.remote}"
            out.append((exp, owners))
        # Unix stream connections waiting in a listener's queue: ss shows them only as the
        # listener's queue length and its "peers" (the clients' inodes).
        for s in self.k.unix:
            if s.state != "LISTEN":
                continue
            holders = self.k.holders(s.inode)
            for client_ino in s.icons:
                client = self.k.by_inode.get(client_ino)
                exp = Expect(f"queued on {s.local}", None, text_kind("unix", s.type), "socket",
                             "unix", s.type, s.local, client.local if client else None, None,
                             "CONNECTED", UNKNOWN, UNKNOWN, None, source="ss (listener's peers)")
                exp.pairs = {self.ref(p, f) for p, f in self.k.holders(client_ino)}
                exp.listener_fds = {self.ref(p, f) for p, f in holders}
                out.append((exp, {self.name_of[p] for p, _ in holders}))
        return out


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------

class Verdict:
    def __init__(self, situation):
        self.situation = situation
        self.disagreements = []
        self.unjudged = []
        self.states = set()     # the TCP states the kernel held at this moment

    def disagree(self, where, field_name, panel, kernel, source):
        self.disagreements.append((where, field_name, panel, kernel, source))

    def lines(self, per_field=6):
        """The disagreements, at most per_field of one field (the rest counted on one line)."""
        seen = {}
        for where, field_name, panel, kernel, source in self.disagreements:
            seen[field_name] = seen.get(field_name, 0) + 1
            if per_field is None or seen[field_name] <= per_field:
                yield (f"truth: DISAGREE [{self.situation}] {where} {field_name}: "
                       f"panel {show(panel)} / kernel ({source}) {show(kernel)}")
        for field_name, count in seen.items():
            if per_field is not None and count > per_field:
                yield (f"truth: DISAGREE [{self.situation}] … and {count - per_field} more on "
                       f"{field_name}")


def compare_row(v, proc, row, exp, label, view):
    """One row of a view (panel, fds, json) against what the kernel says it should show."""
    where = f"{proc} {label}"
    src = exp.source
    w = view
    if w != "json":
        if row.kind != exp.kind_text:
            v.disagree(where, f"KIND ({w})", row.kind, exp.kind_text, "lsof/ss")
    else:
        if row.kind != exp.kind_json:
            v.disagree(where, "kind (json)", row.kind, exp.kind_json, "lsof/ss")
        if exp.family is not None or row.family is not None:
            if row.family != exp.family:
                v.disagree(where, "family (json)", row.family, exp.family, "lsof/ss")
            if row.type != exp.type:
                v.disagree(where, "type (json)", row.type, exp.type, "lsof/ss")
    if exp.sock is None and exp.family is None:
        # Not a socket: what it points at.
        if exp.target is not None:
            if row.target != exp.target:
                v.disagree(where, f"target ({w})", row.target, exp.target, "/proc/PID/fd")
            for name, value in (("STATE", row.state), ("RECV-Q", row.recv_q), ("SEND-Q", row.send_q)):
                if value is not None:
                    v.disagree(where, f"{name} ({w})", value, None, "lsof: not a socket")
        if exp.interest is not None:
            if row.interest is None:
                v.disagree(where, f"epoll interest list ({w})", None, exp.interest, "/proc/PID/fdinfo")
            else:
                want = {fd: ev & {"in", "out", "rdhup", "pri", "et", "oneshot"}
                        for fd, ev in exp.interest.items()}
                got = row.interest
                if set(got) != set(want) or any(got[f] and got[f] != want[f] for f in got if f in want):
                    v.disagree(where, f"epoll interest list ({w})", got, want, "/proc/PID/fdinfo")
                elif any(not got[f] for f in got):
                    v.disagree(where, f"epoll interest events ({w})", got, want, "/proc/PID/fdinfo")
        return
    if text_of(row.local) != text_of(exp.local):
        v.disagree(where, f"LOCAL ({w})", text_of(row.local), text_of(exp.local), src)
    if exp.remote is UNKNOWN:
        v.unjudged.append(f"{where} REMOTE: the kernel does not name the peer")
    elif text_of(row.remote) != text_of(exp.remote):
        v.disagree(where, f"REMOTE ({w})", text_of(row.remote), text_of(exp.remote), src)
    if exp.dual is not None and bool(row.dual) != exp.dual:
        v.disagree(where, f"dual stack ({w})", "shown" if row.dual else "not shown",
                   "dual stack (v6only 0)" if exp.dual else "IPv6 only (v6only 1)", "ss")
    if row.state != exp.state:
        v.disagree(where, f"STATE ({w})", row.state, exp.state, src)
    for name, got, want in (("RECV-Q", row.recv_q, exp.recv_q), ("SEND-Q", row.send_q, exp.send_q)):
        if want is UNKNOWN:
            v.unjudged.append(f"{where} {name}: the kernel does not tell a queued unix connection's queues")
        elif got != want:
            v.disagree(where, f"{name} ({w})", got, want, src)
    if w == "json" and exp.inode:
        if row.inode != exp.inode:
            v.disagree(where, "inode (json)", row.inode, exp.inode, "ss/lsof")
    if exp.pairs is not None and (row.pairs or set()) != exp.pairs:
        v.disagree(where, f"pair ↔ ({w})", row.pairs or set(), exp.pairs, "ss: the socket's peer")
    if exp.twins is not None and (row.twins or set()) != exp.twins:
        v.disagree(where, f"same socket ≡ ({w})", row.twins or set(), exp.twins, "lsof: same inode")
    if exp.time_left is not None:
        if row.time_left is None:
            v.disagree(where, f"time left ({w})", None, round(exp.time_left), "ss -o")
        elif not (exp.time_left - 1.5 <= row.time_left <= exp.time_left + 3):
            v.disagree(where, f"time left ({w})", row.time_left, exp.time_left, "ss -o")
    if exp.next_dgram is not None and (row.next_dgram is not None or
                                       (exp.next_dgram > 0 and exp.next_dgram != exp.recv_q)):
        # Required where RECV-Q is not the next datagram's size (UDP: memory); checked
        # wherever the row shows one.
        if row.next_dgram != exp.next_dgram:
            v.disagree(where, f"next datagram size ({w})", row.next_dgram, exp.next_dgram, "SIOCINQ")


def compare_process(v, model, proc, pid, table, view):
    """One process's table in one view (panel, fds or json) against the kernel."""
    kernel_rows = model.fd_rows(pid)
    own = table.own
    tag = view
    # sockplay's own fds: named under the table (text) or in the record (json), each what it
    # says it is; every other fd the kernel has must be a row.
    for fd, what in sorted(own.items()):
        info = model.k.fds[pid].get(fd)
        if info is None:
            v.disagree(f"{proc} fd {fd}", f"sockplay's own fd ({tag})", what, "not open", "/proc/PID/fd")
            continue
        ltype = info.lsof.get("type", "")
        want = {"control channel": ("unix",), "sock_diag": ("netlink",),
                "new process's channel": ("unix",)}.get(what)
        if want is None:
            v.unjudged.append(f"{proc} fd {fd}: sockplay's own fd called {what!r} ({tag})")
        elif ltype not in want:
            v.disagree(f"{proc} fd {fd}", f"sockplay's own fd ({tag})", what, ltype, "lsof")
    user_fds = {fd for fd in kernel_rows if fd not in own}
    shown = {}
    for row in table.rows:
        if row.fd is None:
            continue
        if row.mark == "closed":
            # The row of an fd that went away since the last panel shown.
            if row.fd in user_fds and not any(r.fd == row.fd and r is not row for r in table.rows):
                v.disagree(f"{proc} fd {row.fd}", f"marked closed ({tag})", "closed", "open", "lsof")
            if row.state is not None and row.state not in KERNEL_STATES:
                v.disagree(f"{proc} fd {row.fd}", f"STATE ({tag})", row.state,
                           "a state the kernel has", "the kernel's state names")
            continue
        if row.fd in shown:
            v.disagree(f"{proc} fd {row.fd}", f"rows ({tag})", "twice", "once", "lsof")
        shown[row.fd] = row
    for fd in sorted(user_fds - set(shown)):
        v.disagree(f"{proc} fd {fd}", f"row ({tag})", "missing (neither a row nor named as sockplay's own)",
                   f"open: {model.k.fds[pid][fd].link}", "lsof")
    for fd in sorted(set(shown) - user_fds):
        v.disagree(f"{proc} fd {fd}", f"row ({tag})", shown[fd].raw[:80].strip(),
                   "no such fd" if fd not in own else "sockplay's own fd", "lsof")
    for fd in sorted(set(shown) & user_fds):
        compare_row(v, proc, shown[fd], kernel_rows[fd], f"fd {fd}", tag)
    if view == "json":
        return
    # Counts written above the table.
    if "open fds" not in table.counts:
        v.disagree(proc, f"open fds ({tag})", None, len(user_fds), "lsof")
    elif table.counts["open fds"] != len(user_fds):
        v.disagree(proc, f"open fds ({tag})", table.counts["open fds"], len(user_fds), "lsof")
    listening = {i.inode: i.sock for i in model.k.fds[pid].values()
                 if i.sock is not None and i.sock.state == "LISTEN"}
    queued = sum(s.recv_q for s in listening.values())
    for key, value in table.counts.items():
        if key == "open fds":
            continue
        if key in ("queued connections", "queued"):
            if value != queued:
                v.disagree(proc, f"{key} ({tag})", value, queued, "ss: the listeners' Recv-Q")
        else:
            v.unjudged.append(f"{proc}: the count '{key}: {value}' above the table ({tag})")
    if queued and not any(k in table.counts for k in ("queued connections", "queued")):
        v.disagree(proc, f"queued connections ({tag})", None, queued, "ss: the listeners' Recv-Q")
    for line in table.problems:
        v.disagree(proc, f"panel line ({tag})", line.strip()[:100],
                   "a row, a count or the own-fds line", "the panel's layout")


def compare_names(v, panel, json_view):
    """Names and handles are sockplay's own: the text panel and the JSON record agree on them."""
    for proc, table in panel.items():
        jtable = json_view.get(proc)
        if jtable is None:
            continue
        jby = {r.fd: r for r in jtable.rows if r.fd is not None}
        for row in table.rows:
            if row.fd is None or row.mark == "closed" or row.fd not in jby:
                continue
            j = jby[row.fd]
            if (row.name or None) != (j.name or None):
                v.disagree(f"{proc} fd {row.fd}", "name (json)", j.name, row.name, "the text panel")
            if row.detached != j.detached:
                v.disagree(f"{proc} fd {row.fd}", "detached (json)", j.detached, row.detached,
                           "the text panel")


def compare_ended(v, ctx, proc, table, view):
    """The table of a process that ended: no fd of it is open any more. Its fds show closed once,
    in the first panel after it ended (JSON lists none); after that it is shown only for what the
    kernel still keeps of its connections, which compare_fdless judges like any other's."""
    where = f"{proc} (ended)"
    for row in table.rows:
        if row.fd is not None and row.mark != "closed":
            v.disagree(f"{where} fd {row.fd}", f"row ({view})", row.raw[:80].strip(),
                       "closed: the process ended", "/proc")
    closed = [row for row in table.rows if row.fd is not None and row.mark == "closed"]
    if closed and view == "panel" and proc in ctx.ended_shown:
        v.disagree(where, f"closed rows ({view})", "shown again",
                   "shown once, in the first panel after it ended", "SPEC §9")
    if not table.rows and view != "json":
        v.disagree(where, f"table ({view})", "shown with nothing in it",
                   "not shown: nothing of it is left", "/proc, ss")


def match_fdless(rows, exp):
    best = None
    for row in rows:
        if text_of(row.local) == text_of(exp.local) and (
                text_of(row.remote) == text_of(exp.remote) or exp.remote is UNKNOWN):
            if exp.pairs and row.pairs is not None and row.pairs != exp.pairs:
                best = best or row
                continue
            return row
    return best


def compare_fdless(v, model, tables, view, placed=None):
    """Connections without an fd: each where the kernel counts it, and no row the kernel lacks.
    Returns where each one that any process may show was found ({key: process}). `placed` is
    that, read off the panel, for a view that prints only some processes' tables (`fds`): one
    the panel shows in a process whose table the view does not print is not looked for there."""
    wanted = model.fdless()
    tag = view
    found_in = {}
    pools = {proc: [r for r in t.rows if r.fd is None and r.mark != "closed"]
             for proc, t in tables.items()}
    for exp, owners in wanted:
        if owners:
            for proc in sorted(owners):
                if proc not in pools:
                    continue
                row = match_fdless(pools[proc], exp)
                if row is None:
                    v.disagree(f"{proc} {exp.key}", f"row ({tag})", "missing",
                               f"{exp.state} {exp.local} → {exp.remote}", exp.source)
                    continue
                pools[proc].remove(row)
                compare_row(v, proc, row, exp, exp.key, tag)
                if exp.listener_fds and (proc, row.after_fd) not in exp.listener_fds \
                        and (view != "json" or row.after_fd is not None):
                    v.disagree(f"{proc} {exp.key}", f"placed under ({tag})",
                               None if row.after_fd is None else f"fd {row.after_fd}",
                               exp.listener_fds, "ss: its listener")
        else:
            found = [(proc, match_fdless(rows, exp)) for proc, rows in pools.items()]
            found = [(p, r) for p, r in found if r is not None]
            shown_in = (placed or {}).get(exp.key)
            if not found and shown_in is not None and shown_in not in tables:
                v.unjudged.append(f"{exp.key}: in {shown_in}'s table, which the {tag} view "
                                  f"does not print")
                continue
            if not found:
                v.disagree(f"{exp.key}", f"row ({tag})", "missing in every process",
                           f"{exp.state} {exp.local} → {exp.remote}", exp.source)
                continue
            proc, row = found[0]
            found_in[exp.key] = proc
            pools[proc].remove(row)
            compare_row(v, proc, row, exp, exp.key, tag)
            for other, r in found[1:]:
                pools[other].remove(r)
                v.disagree(f"{other} {exp.key}", f"row ({tag})", "shown again",
                           f"shown once (in {proc})", "the kernel holds it once")
    for proc, rest in pools.items():
        for row in rest:
            v.disagree(f"{proc} row without fd", f"row ({tag})", row.raw[:100].strip(),
                       "no such connection", "ss")
    # SO_REUSEPORT: the kernel tells each listener's queue length, not which connection is in
    # which queue. A panel that files queued rows under one listener of a group claims at
    # least that they fit in its queue.
    groups = {}
    for s in model.listeners():
        groups.setdefault((s.proto, addr_port(s.local)), []).append(s)
    for group in groups.values():
        if len(group) < 2:
            continue
        v.unjudged.append(f"which queued connection sits in which SO_REUSEPORT listener of port "
                          f"{addr_port(group[0].local)}: the kernel does not say ({tag})")
        for s in group:
            for pid, fd in model.k.holders(s.inode):
                proc = model.name_of[pid]
                if proc not in tables:
                    continue
                under = [r for r in tables[proc].rows if r.fd is None and r.after_fd == fd
                         and r.state in ("ESTABLISHED", "CLOSE_WAIT") and r.mark != "closed"
                         and addr_port(r.local) == addr_port(s.local)]
                if len(under) > s.recv_q:
                    v.disagree(f"{proc} fd {fd}", f"queued rows under it ({tag})", len(under),
                               f"at most {s.recv_q} (its Recv-Q)", "ss")
    return found_in


def kernel_marks(prev, model, proc, pid):
    """What each row of a panel must be marked with, given the kernel at the last panel shown:
    {fd: 'new'|'changed'|''} and the fds that must show as closed."""
    now = model.fd_rows(pid)
    before = prev.fd_rows(prev.procs[proc]) if proc in prev.procs else {}
    marks = {}
    for fd, exp in now.items():
        old = before.get(fd)
        if old is None or (old.inode or 0) != (exp.inode or 0) or old.kind_text != exp.kind_text \
                or old.target != exp.target:
            marks[fd] = "new"
        elif shown_fields(old) != shown_fields(exp):
            marks[fd] = "changed"
        else:
            marks[fd] = ""
    closed = {fd for fd in before if fd not in now or marks.get(fd) == "new"}
    return marks, closed


def shown_fields(e):
    return (text_of(e.local), str(text_of(e.remote)), e.state, e.recv_q, e.send_q,
            frozenset(e.pairs or ()), frozenset(e.twins or ()), bool(e.dual),
            None if e.interest is None else tuple(sorted((k, tuple(sorted(x))) for k, x in e.interest.items())))


def compare_marks(v, prev, model, proc, pid, table, own):
    marks, closed = kernel_marks(prev, model, proc, pid)
    for row in table.rows:
        if row.fd is None or row.fd in own:
            continue
        if row.mark == "closed":
            if row.fd not in closed:
                v.disagree(f"{proc} fd {row.fd}", "mark (panel)", "closed", "not closed since the last panel",
                           "lsof at the last panel and now")
            continue
        want = marks.get(row.fd)
        if want is None:
            continue
        if row.mark != want:
            v.disagree(f"{proc} fd {row.fd}", "mark (panel)", row.mark or "(none)", want or "(none)",
                       "the kernel at the last panel and now")
    for fd in sorted(closed - own.keys()):
        if not any(r.fd == fd and r.mark == "closed" for r in table.rows):
            v.disagree(f"{proc} fd {fd}", "mark (panel)", "no closed row", "closed",
                       "lsof at the last panel and now")
    v.unjudged.append(f"{proc}: marks of rows without an fd ({'panel'})")


# ---------------------------------------------------------------------------------------------
# Sessions: one sockplay run per view, its script, its moments
# ---------------------------------------------------------------------------------------------

SETTLE_MS = 250


class Step:
    pass


@dataclass
class Moment(Step):
    label: str
    procs: tuple = ("main",)
    states: tuple = ()          # TCP states the kernel must hold here, or the situation is not reached
    check: object = None        # extra check: f(ctx) -> list of (where, field, panel, kernel, source)


@dataclass
class Act(Step):
    label: str
    action: object              # f(ctx): done while the playground waits


@dataclass
class Context:
    session: object
    mode: str
    front: int                  # the front end's pid
    records_by_line: dict = field(default_factory=dict)   # json: the records judged
    segments: dict = field(default_factory=dict)  # text: line number -> output lines
    before: object = None       # the sockets ss listed just before the panel was made
    prev_model: object = None   # the kernel at the last panel shown
    ended_shown: set = field(default_factory=set)  # ended processes a judged panel showed
    kernel: object = None
    model: object = None
    views: dict = None


class Session:
    """A situation script, run once for the text views and once for JSON, each in a network
    namespace of its own."""

    def __init__(self, name, *steps, netns=True):
        self.name = name
        self.steps = list(steps)
        self.netns = netns

    def script(self, work):
        """The script's lines and its holds, in order: ('act', Act), ('before', Moment) or
        ('judge', Moment, panel line, [fds lines]). Hold k waits on the FIFO work/hold-k."""
        lines = ["set panel off"]
        holds = []

        def hold(what):
            holds.append(what)
            lines.append(f"!head -c1 {work}/hold-{len(holds)}")

        for step in self.steps:
            if isinstance(step, str):
                lines.append(step)
            elif isinstance(step, Act):
                hold(("act", step))
            elif isinstance(step, Moment):
                # Let delayed ACKs land (Linux delays one at most 200 ms); read the kernel before
                # the panel is made and again after, so a moment that moved is never judged.
                lines.append(f"sleep {SETTLE_MS}")
                hold(("before", step))
                lines.append("set panel below")
                lines.append("sleep 1")
                panel_line = len(lines)
                lines.append("set panel off")
                fds_lines = []
                for proc in step.procs:
                    lines.append(f"{proc}: fds")
                    fds_lines.append(len(lines))
                hold(("judge", step, panel_line, fds_lines))
        return lines, holds


ECHO = re.compile(r"^sockplay(?:\[[^\]]*\])?> (.*)$")


class Runner:
    def __init__(self, sockplay, unshare, verbose):
        self.sockplay = sockplay
        self.unshare = unshare
        self.verbose = verbose

    def run(self, job):
        session, mode = job
        try:
            return self._run(session, mode)
        except Harness as e:
            return [], [f"[{session.name}] ({mode}) {e}"]

    def _run(self, session, mode):
        """One run: [(moment index, Verdict, views)], [harness failures]."""
        results, failures = [], []
        work = tempfile.mkdtemp(prefix="truth-")
        lines, holds = session.script(work)
        lines = [line.replace("{tmp}", work) for line in lines]
        for k in range(1, len(holds) + 1):
            os.mkfifo(os.path.join(work, f"hold-{k}"))
        script = os.path.join(work, "script.sock")
        with open(script, "w") as f:
            f.write("\n".join(lines) + "\n")
        setup = "ip link set lo up && ip route add 192.0.2.0/24 dev lo && "
        command = [self.sockplay, "--allow-shell", "--timeout", "30", "--color", "never", "-"]
        if mode == "json":
            command.insert(1, "--json")
        argv = (self.unshare + ["sh", "-c", setup + 'exec "$@"', "sh"] + command
                if session.netns else command)
        err = open(os.path.join(work, "stderr"), "w+")
        # A wide COLUMNS: the panel never wraps a cell, so every value reads whole.
        env = dict(os.environ, COLUMNS="1000")
        proc = subprocess.Popen(argv, stdin=open(script), stdout=subprocess.PIPE, stderr=err,
                                cwd=work, close_fds=True, env=env)
        ctx = Context(session, mode, proc.pid)
        wanted = {what[2] for what in holds if what[0] == "judge"}
        output = []
        reader = threading.Thread(target=collect, args=(proc.stdout, mode, wanted, output), daemon=True)
        reader.start()
        taken = []
        try:
            # The moments: each hold is reached when its `head` opens its FIFO; the judge reads
            # the kernel then, and lets the script go on.
            for k, what in enumerate(holds, 1):
                fd = reach(os.path.join(work, f"hold-{k}"), proc)
                try:
                    pids = playground_pids(ctx)
                    if not pids:
                        raise Harness("no playground process runs")
                    if what[0] == "act":
                        what[1].action(ctx)
                    elif what[0] == "before":
                        ctx.before = steady_view(read_ss(pids[0], session.netns))
                    else:
                        kernel = Kernel(pids[0], pids, session.netns)
                        after = steady_view(kernel.tcp + kernel.udp + kernel.unix)
                        moved = sorted(ctx.before ^ after, key=str) if ctx.before != after else None
                        taken.append((what, kernel, moved))
                finally:
                    os.write(fd, b"x")
                    os.close(fd)
            status = proc.wait(timeout=120)
            reader.join(timeout=60)
            if status != 0:
                err.seek(0)
                failures.append(f"[{session.name}] ({mode}) sockplay exited with {status}: "
                                f"{err.read().strip()[-600:]}")
            # The verdicts, now that sockplay's output is whole.
            if mode == "text":
                ctx.segments = segments(output, lines)
            else:
                ctx.records_by_line = {rec["line"]: rec for rec in output}
            for no, (what, kernel, moved) in enumerate(taken, 1):
                _, step, panel_line, fds_lines = what
                situation = f"{session.name}: {step.label}"
                if moved:
                    failures.append(f"[{situation}] ({mode}) the kernel changed while sockplay made "
                                    f"its panel, so this moment cannot be judged: {moved[:4]}")
                    continue
                try:
                    verdict, views = self.judge(situation, step, ctx, kernel, panel_line, fds_lines)
                except Harness as e:
                    failures.append(f"[{situation}] ({mode}) {e}")
                    continue
                results.append((no, verdict, views))
        except Harness as e:
            err.seek(0)
            failures.append(f"[{session.name}] ({mode}) {e}; sockplay said: {err.read().strip()[-400:]}")
        finally:
            proc.kill()
            proc.wait()
            shutil.rmtree(work, ignore_errors=True)
        return results, failures

    def judge(self, situation, step, ctx, kernel, panel_line, fds_lines):
        v = Verdict(situation)
        named = self.processes(ctx, panel_line, kernel)
        # A process that ended is named once more with its fds closed, and for as long as the
        # kernel keeps connections it left (SPEC §5, §9); the moment names the running ones.
        ended = {name: pid for name, pid in named.items()
                 if pid not in kernel.pids and not alive(pid)}
        pids_by_name = {name: pid for name, pid in named.items() if name not in ended}
        if set(step.procs) != set(pids_by_name):
            raise Harness(f"the moment names processes {sorted(step.procs)}, sockplay shows "
                          f"{sorted(pids_by_name)}")
        if sorted(pids_by_name.values()) != sorted(kernel.pids):
            raise Harness(f"sockplay names pids {sorted(pids_by_name.values())}, the playground "
                          f"processes were {sorted(kernel.pids)}")
        model = Model(kernel, pids_by_name)
        have = {s.state for s in kernel.socks if s.proto == "tcp"}
        v.states = have
        for state in step.states:
            if state not in have:
                raise Harness(f"the situation was not reached: no TCP socket in {state} "
                              f"(the kernel has {sorted(have)})")
        for pid, fd, proc_says, lsof_says in kernel.lsof_problems:
            # Not the panel's fault, but the judge cannot stand on two accounts that differ.
            raise Harness(f"{model.name_of[pid]} fd {fd}: /proc says {proc_says}, lsof {lsof_says}")
        views = {}
        placed = {}
        if ctx.mode == "json":
            rec = ctx.records_by_line.get(panel_line)
            if rec is None:
                raise Harness(f"no JSON record for line {panel_line}")
            tables = {}
            for p in rec.get("processes", []):
                name = p.get("name")
                if name in named:
                    tables[name] = json_table(p, name)
            current = next((p.get("fds") for p in rec.get("processes", [])
                            if p.get("name") == rec.get("process")), None)
            if rec.get("fds") != current:
                v.disagree(str(rec.get("process")), "fds (json)", "differs from processes[].fds",
                           "the same table", "SPEC §9")
            views["json"] = tables
        else:
            views["panel"] = parse_panel(ctx.segments.get(panel_line, []))
            fds_tables = {}
            for line_no, name in zip(fds_lines, step.procs):
                parsed = parse_panel(ctx.segments.get(line_no, []), default=name)
                if name in parsed:
                    fds_tables[name] = parsed[name]
            views["fds"] = fds_tables
            for view, tables in views.items():
                for name, table in tables.items():
                    if table.pid is not None and table.pid != named.get(name):
                        v.disagree(name, f"pid ({view})", table.pid, named.get(name), "/proc")
        for view, tables in views.items():
            for name, pid in sorted(pids_by_name.items()):
                if name not in tables:
                    v.disagree(name, f"table ({view})", "missing", f"pid {pid}", "/proc")
                    continue
                compare_process(v, model, name, pid, tables[name], view)
            for name in sorted(ended):
                if name in tables:
                    compare_ended(v, ctx, name, tables[name], view)
            placed[view] = compare_fdless(v, model, tables, view, placed.get("panel"))
        if "panel" in views:
            ctx.ended_shown |= {name for name in ended if name in views["panel"]}
        if "panel" in views:
            if ctx.prev_model is not None:
                for name, pid in sorted(pids_by_name.items()):
                    if name in views["panel"]:
                        compare_marks(v, ctx.prev_model, model, name, pid, views["panel"][name],
                                      views["panel"][name].own)
            else:
                v.unjudged.append("marks: no panel was shown before this one")
            ctx.prev_model = model
        ctx.kernel, ctx.model, ctx.views = kernel, model, views
        if step.check:
            for item in step.check(ctx) or []:
                v.disagree(*item)
        if self.verbose and v.disagreements:
            v.unjudged.append("ss:\n" + "\n".join(s.line for s in kernel.socks))
            for view, tables in views.items():
                for name, t in tables.items():
                    v.unjudged.append(f"{view} {name}:\n" + "\n".join(r.raw for r in t.rows))
        return v, views

    def processes(self, ctx, panel_line, kernel):
        """{name: pid} of the processes sockplay names at a moment: the playground's, and those
        that ended (the JSON record lists every process; the panel titles an ended one while it
        shows what is left of it)."""
        if ctx.mode == "json":
            rec = ctx.records_by_line.get(panel_line) or {}
            return {p["name"]: p["pid"] for p in rec.get("processes", [])
                    if isinstance(p.get("pid"), int)}
        titles = {}
        for line in ctx.segments.get(panel_line, []):
            for name, pid in re.findall(r"── (\S+) \(pid (\d+),", line):
                titles[name] = int(pid)
        if not titles and len(kernel.pids) == 1:
            # One process: its table has no title.
            return {"main": kernel.pids[0]}
        return titles


def collect(stream, mode, wanted, output):
    """Reads sockplay's stdout whole (a reader thread: sockplay must never block on it). JSON:
    keeps the records of the wanted lines; text: every line."""
    for raw in stream:
        if mode == "json":
            m = re.match(rb'\{"line":(\d+),', raw)
            if m and int(m.group(1)) in wanted:
                output.append(json.loads(raw))
        else:
            output.append(raw.decode(errors="replace").rstrip("\n"))


def segments(output, lines):
    """Text output cut at the echoed commands: {line number: the lines it printed}."""
    out, current = {}, 0
    for text in output:
        m = ECHO.match(text)
        if m and current < len(lines) and m.group(1) == lines[current]:
            current += 1
            out[current] = []
            continue
        if current:
            out[current].append(text)
    return out


def reach(fifo, proc):
    """Waits until the script's `head` opens the FIFO: the playground then waits on it. Returns
    the write end; one byte on it lets the script go on."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            if proc.poll() is not None:
                raise Harness("sockplay ended before it reached a moment") from None
            if time.monotonic() > deadline:
                raise Harness("sockplay never reached a moment") from None
            time.sleep(0.002)


def json_table(p, name):
    rows = json_rows(p, name)
    own = {}
    for key in ("own", "own_fds", "sockplay_fds"):
        for item in p.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("fd"), int):
                own[item["fd"]] = str(item.get("what") or item.get("purpose") or "")
            elif isinstance(item, int):
                own[item] = ""
    return PTable(name, p.get("pid"), p.get("state"), {}, own, rows, [])


def parse_panel(lines, default="main"):
    """A panel (or an `fds` table) as printed -> {process name: PTable}. Tables side by side are
    cut apart at their titles; the own-fds line under them applies to each."""
    lines = [l for l in lines if l.strip() or True]
    start = next((i for i, l in enumerate(lines)
                  if l.startswith("── ") or l.startswith("open fds:")), None)
    if start is None:
        return {}
    lines = lines[start:]
    flat = []
    i = 0
    while i < len(lines):
        line = lines[i]
        offsets = [m.start() for m in re.finditer(r"── \S+ \(pid \d+, [^)]*\) ──", line)]
        if len(offsets) > 1:
            block = [line]
            j = i + 1
            while j < len(lines) and not OWN_LINE.match(lines[j]) \
                    and not re.match(r"^── \S+ \(pid", lines[j]):
                block.append(lines[j])
                j += 1
            bounds = offsets + [None]
            for k in range(len(offsets)):
                for b in block:
                    flat.append(b[bounds[k]:bounds[k + 1]].rstrip())
            i = j
            continue
        flat.append(line)
        i += 1
    tables = parse_text_panel("\n".join(flat), default)
    own_lines = [t.own for t in tables if t.own]
    out = {}
    for t in tables:
        if not t.own and own_lines:
            t.own = dict(own_lines[-1])
        out[t.proc] = t
    return out


def playground_pids(ctx):
    """The live sockplay processes under the front end: the playground."""
    front = ctx.front
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append((int(entry), comm))
    out, todo = [], [front]
    while todo:
        pid = todo.pop()
        for child, comm in children.get(pid, []):
            todo.append(child)
            if comm == "sockplay":
                out.append(child)
    return sorted(out)


def read_ss(ns_pid, netns):
    enter = ["nsenter", "-t", str(ns_pid), "-n"] if netns else []
    return (parse_ss(run(enter + ["ss", "-tanpieoHO"]), "tcp")
            + parse_ss(run(enter + ["ss", "-uanpeHO"]), "udp")
            + parse_ss(run(enter + ["ss", "-xanpeHO"]), "unix"))


def alive(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def steady_view(socks):
    """What must not change while a moment is held (timers may run)."""
    return frozenset((s.proto, s.type, s.state, s.recv_q, s.send_q, text_of(s.local),
                      # a unix socket's peer is its peer inode (the name is read later)
                      "" if s.proto == "unix" else str(text_of(s.remote)),
                      s.inode, tuple(sorted(s.users)), s.peer_inode)
                     for s in socks)


# ---------------------------------------------------------------------------------------------
# Judge's actions inside the namespace
# ---------------------------------------------------------------------------------------------

RAW_SYN = r"""
import random, socket, struct, sys
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
src, dst, sport, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tcp = struct.pack('!HHIIBBHHH', sport, dport, random.randrange(1 << 32), 0, 5 << 4, 0x02, 65535, 0, 0)
ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack('!H', csum(ph + tcp)) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.sendto(ip + tcp, (dst, 0))
"""


def half_open(count=1):
    """SYNs from 192.0.2.1 (routed to lo, where nothing answers) to the only listener: the
    SYN-ACKs go unanswered and the connections stay SYN_RECV."""
    def act(ctx):
        pid = playground_pids(ctx)[0]
        listeners = [s for s in read_ss(pid, True) if s.state == "LISTEN" and s.proto == "tcp"]
        if len(listeners) != 1:
            raise Harness(f"half_open wants one listener, the kernel has {len(listeners)}")
        port = addr_port(listeners[0].local)
        for i in range(count):
            run(["nsenter", "-t", str(pid), "-n", "/usr/bin/python3", "-c", RAW_SYN,
                 "192.0.2.1", "127.0.0.1", str(40000 + i), str(port)])
        time.sleep(0.05)
    return act


def expect_fds(proc, wanted):
    """An extra check: the user's fds in proc are exactly `wanted` (numbers, from lsof)."""
    def check(ctx):
        if "panel" not in ctx.views:
            return []  # only the text names sockplay's own fds; the JSON run is judged row by row
        pid = ctx.model.procs[proc]
        view = ctx.views["panel"]
        own = set(view[proc].own) if proc in view else set()
        got = sorted(set(ctx.kernel.fds[pid]) - own)
        if got != sorted(wanted):
            return [(proc, "open fds (lsof)", summarize(got), summarize(sorted(wanted)), "the situation")]
        return []
    return check


def summarize(fds):
    if len(fds) > 8:
        return f"{fds[:4]} … {fds[-2:]} ({len(fds)} fds)"
    return fds


# ---------------------------------------------------------------------------------------------
# The situations
# ---------------------------------------------------------------------------------------------

SMALL = ["setsockopt {s} SO_RCVBUF 2048", "setsockopt {s} SO_SNDBUF 2048"]


def small(*names):
    return [cmd.format(s=n) for n in names for cmd in SMALL]


def sessions():
    """The situations, grouped in runs of sockplay. Every name is local to its run (a network
    namespace and a temporary directory of its own), so runs go in parallel with anything."""
    clients = [cmd for i in range(1, 13) for cmd in (f"socket tcp as c{i}", f"connect c{i} $l1")]
    return [
        Session(
            "tcp-handshake",
            "socket tcp as fresh",
            Moment("a TCP socket just made: CLOSE, no address", states=("CLOSE",)),
            "socket tcp as bound", "bind bound :0",
            Moment("a TCP socket bound, not listening: CLOSE", states=("CLOSE",)),
            "socket tcp as srv", "bind srv :0", "listen srv 1",
            Moment("LISTEN, accept queue empty", states=("LISTEN",)),
            "socket tcp as c1", "connect c1 $srv",
            Moment("a connection waits in the accept queue, no fd yet", states=("ESTABLISHED",)),
            "socket tcp as c2", "connect c2 $srv",
            "socket tcp as c3", "nonblock c3 on", "connect c3 $srv", "expect error EINPROGRESS",
            Moment("accept queue full (backlog 1 holds two); a third client stays SYN_SENT",
                   states=("SYN_SENT",)),
            # c3 goes: its SYN would get through once the queue has room, at a time of the
            # kernel's choosing.
            "close c3",
            "accept srv as a1", "send c1 hello", "send a1 \"hi there\"",
            Moment("accepted: ESTABLISHED both ways, unread data on both", states=("ESTABLISHED",)),
            "close c2",
            Moment("a queued connection whose client closed: CLOSE_WAIT in the queue, FIN_WAIT2 orphan",
                   states=("CLOSE_WAIT", "FIN_WAIT2")),
        ),
        Session(
            "tcp-syn-recv",
            "socket tcp as srv", "bind srv :0", "listen srv 4",
            Act("two SYNs from 192.0.2.1 that are never answered", half_open(2)),
            Moment("SYN_RECV: half-open connections under their listener", states=("SYN_RECV",)),
        ),
        Session(
            "tcp-close",
            "socket tcp as srv", "bind srv :0", "listen srv",
            "socket tcp as c", "connect c $srv", "accept srv as a",
            "shutdown c wr",
            Moment("shutdown wr: FIN_WAIT2 and CLOSE_WAIT, each with its fd",
                   states=("FIN_WAIT2", "CLOSE_WAIT")),
            "close a",
            Moment("the passive side closed: TIME_WAIT without an fd, the active fd in CLOSE",
                   states=("TIME_WAIT", "CLOSE")),
            "close c", "socket tcp as c2", "connect c2 $srv", "accept srv as a2", "close a2",
            Moment("the server closed first: FIN_WAIT2 orphan, the client fd in CLOSE_WAIT",
                   states=("FIN_WAIT2", "CLOSE_WAIT")),
            "close c2", "close srv",
            Moment("active close done: TIME_WAIT on the server's port, with its time left",
                   states=("TIME_WAIT",)),
            "socket tcp as again", "bind again $srv", "expect error EADDRINUSE",
            Moment("bind to that port fails with EADDRINUSE: the TIME_WAIT that holds it",
                   states=("TIME_WAIT",)),
        ),
        Session(
            "tcp-windows",
            "socket tcp as srv", *small("srv"), "bind srv :0", "listen srv",
            "socket tcp as c", *small("c"), "connect c $srv", "accept srv as a",
            "nonblock c on", "send c --bytes 400000",
            Moment("send buffer full, the peer's receive buffer full (it does not read)",
                   states=("ESTABLISHED",)),
            "shutdown c wr",
            Moment("FIN_WAIT1 with its fd: the FIN waits behind data the peer does not take",
                   states=("FIN_WAIT1",)),
            "close c",
            Moment("FIN_WAIT1 orphan: closed with data still unsent", states=("FIN_WAIT1",)),
        ),
        Session(
            "tcp-last-ack",
            "socket tcp as srv", *small("srv"), "bind srv :0", "listen srv",
            "socket tcp as c", *small("c"), "connect c $srv", "accept srv as a",
            "shutdown c wr", "recv a", "nonblock a on", "send a --bytes 400000",
            "shutdown a wr",
            Moment("LAST_ACK with its fd: its FIN waits behind data the peer does not read",
                   states=("LAST_ACK",)),
            "close a",
            Moment("LAST_ACK orphan", states=("LAST_ACK",)),
        ),
        Session(
            "tcp-closing",
            "socket tcp as srv", *small("srv"), "bind srv :0", "listen srv",
            "socket tcp as c", *small("c"), "connect c $srv", "accept srv as a",
            "nonblock c on", "nonblock a on",
            "send c --bytes 400000", "send a --bytes 400000",
            "shutdown c wr", "shutdown a wr",
            Moment("both FINs wait behind data: FIN_WAIT1 on both sides", states=("FIN_WAIT1",)),
            "recv c 65536", "recv c 65536", "recv c 65536", "recv c 65536",
            Moment("simultaneous close: CLOSING on one side, FIN_WAIT2 on the other",
                   states=("CLOSING", "FIN_WAIT2")),
        ),
        Session(
            "tcp-refused",
            "socket tcp as gone", "bind gone :0", "close gone",
            "socket tcp as c", "connect c $gone", "expect error ECONNREFUSED",
            Moment("after a refused connect: CLOSE, and no address the kernel let go",
                   states=("CLOSE",)),
            "socket tcp as taker", "bind taker $gone",
            Moment("another socket binds the port the refused one had"),
        ),
        Session(
            "tcp-reuseport",
            "socket tcp as l1", "setsockopt l1 SO_REUSEPORT 1", "bind l1 127.0.0.1:0", "listen l1",
            "socket tcp as l2", "setsockopt l2 SO_REUSEPORT 1", "bind l2 $l1", "listen l2",
            *clients,
            Moment("SO_REUSEPORT: two listeners on one port, twelve connections over their queues"),
        ),
        Session(
            "udp",
            "socket udp as fresh",
            "socket udp as u", "bind u :0",
            "socket udp as v", "bind v :0", "connect v $u",
            Moment("UDP: unbound, bound, connected one way"),
            "sendto u $u abc", "sendto u $u defgh", "send v \"from v\"",
            Moment("UDP with datagrams queued"),
            "recvfrom u",
            Moment("UDP after one datagram is read"),
            "connect u $v",
            Moment("two UDP sockets connected to each other"),
        ),
        Session(
            "unix-pairs",
            "socketpair unix stream as s1 s2", "send s1 hello", "send s2 \"hi back\"",
            "socketpair unix dgram as d1 d2", "send d1 one", "send d1 two22",
            "socketpair unix seqpacket as q1 q2", "send q2 packet",
            Moment("socketpairs: stream, dgram, seqpacket, data queued"),
            "close s2",
            Moment("a stream socketpair whose other end closed"),
        ),
        Session(
            "unix-named",
            "socket unix stream as ls", "bind ls {tmp}/stream.sock", "listen ls 4",
            "socket unix stream as c1", "connect c1 {tmp}/stream.sock",
            "socket unix stream as c2", "connect c2 {tmp}/stream.sock", "send c2 early",
            Moment("unix stream listener on a file, two connections queued"),
            "accept ls as a1", "send a1 welcome",
            Moment("one accepted (a pair), one still queued"),
            "socket unix dgram as ad", "bind ad @truth-dgram",
            "socket unix dgram as cd", "connect cd @truth-dgram", "send cd first", "send cd second!",
            Moment("abstract unix dgram: a bound receiver, a connected sender, datagrams queued"),
            "socket unix seqpacket as lq", "bind lq @truth-seq", "listen lq",
            "socket unix seqpacket as cq", "connect cq @truth-seq", "accept lq as aq",
            "send cq record",
            Moment("abstract unix seqpacket: listener, client, accepted"),
        ),
        Session(
            "ipv6",
            "socket inet6 stream as l6", "bind l6 [::1]:0", "listen l6",
            "socket inet6 stream as c6", "connect c6 $l6", "accept l6 as a6",
            Moment("IPv6 on ::1: listener, client, accepted"),
            "socket inet6 stream as dual", "setsockopt dual IPV6_V6ONLY 0", "bind dual [::]:0",
            "listen dual",
            "socket tcp as c4", "connect c4 $dual",
            Moment("a dual-stack listener with an IPv4 client queued (v4-mapped)"),
            "accept dual as a4",
            Moment("the IPv4 client and its v4-mapped end"),
            "socket inet6 stream as only6", "setsockopt only6 IPV6_V6ONLY 1", "bind only6 [::]:0",
            "listen only6",
            "socket inet6 dgram as u6", "bind u6 [::]:0",
            Moment("an IPv6-only listener and a dual-stack UDP socket"),
        ),
        Session(
            "fds",
            "socket tcp as srv", "bind srv :0", "listen srv",
            "socket tcp as c", "connect c $srv", "accept srv as a",
            "dup a as a2",
            Moment("dup: two fds, one socket"),
            "detach a2",
            Moment("detach: the fd stays, its handle is gone"),
            "socketpair unix stream as x y",
            "sendfd x c",
            Moment("SCM_RIGHTS: an fd in flight, the sender still holds it"),
            "recvfd y as got",
            Moment("SCM_RIGHTS: received under a new number"),
            "sendfd x got", "close got", "close c",
            Moment("SCM_RIGHTS: a connection held only by a message in flight"),
            "epoll create as ep", "epoll add ep srv in", "epoll add ep a out rdhup",
            Moment("epoll: an interest list of two sockets"),
        ),
        Session(
            "emfile",
            "ulimit nofile 12",
            *["socket tcp" for _ in range(9)],
            "socket tcp", "expect error EMFILE",
            Moment("EMFILE: every fd below the limit taken", check=expect_fds("main", range(0, 12))),
        ),
        Session(
            "thousand",
            "ulimit nofile 2000",
            *["socket tcp" for _ in range(1000)],
            Moment("1,000 sockets: fds 3 … 1002 with no gap", check=expect_fds("main", range(0, 1003))),
        ),
        Session(
            "processes",
            "socket tcp as srv", "bind srv :0", "listen srv", "inheritable srv on",
            "spawn kid",
            "kid: socket tcp as c", "kid: connect c $srv",
            Moment("two processes: the listener in both, the child's client queued",
                   procs=("main", "kid")),
            "accept srv as a", "send a \"to the kid\"",
            Moment("two processes: a connection between them", procs=("main", "kid")),
            "kid: recv c",
            "kill kid SIGKILL", "expect state a CLOSE_WAIT",
            Moment("the child killed: the kernel closed its fds", states=("CLOSE_WAIT",)),
            "ps",
            Moment("the ended child's table: what the kernel keeps of its connection, no fd",
                   states=("CLOSE_WAIT", "FIN_WAIT2")),
        ),
        Session(
            "fork",
            "socket tcp as srv", "bind srv :0", "listen srv",
            "socket tcp as c", "connect c $srv", "accept srv as a",
            "fork as twin",
            Moment("fork: the child holds every fd of the parent", procs=("main", "twin")),
        ),
    ]


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sockplay", required=True, help="the sockplay binary to judge")
    ap.add_argument("--only", help="run only the sessions whose name matches this regex")
    ap.add_argument("--verbose", action="store_true", help="print the tables of failing moments")
    ap.add_argument("--jobs", type=int, default=3, help="runs at a time (default 3)")
    ap.add_argument("--all", action="store_true",
                    help="print every disagreement (by default at most 6 of one field per situation)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("truth: FAIL: run as root: the judge reads other processes' fds (pidfd_getfd) "
                 "and enters their network namespace (nsenter)")
    for tool in ("ss", "lsof", "nsenter", "unshare", "ip"):
        if shutil.which(tool) is None:
            sys.exit(f"truth: FAIL: {tool} is not installed")
    unshare = None
    for candidate in (["unshare", "-rn"], ["unshare", "-n"]):
        if subprocess.run(candidate + ["true"], capture_output=True).returncode == 0:
            unshare = candidate
            break
    if unshare is None:
        sys.exit("truth: FAIL: cannot make a network namespace (unshare -rn, unshare -n)")
    runner = Runner(os.path.abspath(args.sockplay), unshare, args.verbose)
    chosen = [s for s in sessions() if not args.only or re.search(args.only, s.name)]
    started = time.monotonic()
    jobs = [(s, mode) for s in chosen for mode in ("text", "json")]
    # The longest runs first, so the pool ends together.
    jobs.sort(key=lambda j: -len(j[0].steps))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        done = dict(zip([(j[0].name, j[1]) for j in jobs], pool.map(runner.run, jobs)))
    situations = disagreements = 0
    failures = []
    reached = set()
    by_field = {}
    for session in chosen:
        text_results, text_fail = done[(session.name, "text")]
        json_results, json_fail = done[(session.name, "json")]
        failures += text_fail + json_fail
        by_no = {}
        for no, verdict, views in text_results + json_results:
            by_no.setdefault(no, []).append((verdict, views))
        for no in sorted(by_no):
            parts = by_no[no]
            v = Verdict(parts[0][0].situation)
            for part, _ in parts:
                v.disagreements += part.disagreements
                v.unjudged += part.unjudged
                reached |= part.states
            panel = next((views["panel"] for _, views in parts if "panel" in views), None)
            json_view = next((views["json"] for _, views in parts if "json" in views), None)
            if panel is not None and json_view is not None:
                compare_names(v, panel, json_view)
            elif len(parts) < 2:
                failures.append(f"[{v.situation}] judged in one run only")
            situations += 1
            disagreements += len(v.disagreements)
            for d in v.disagreements:
                by_field[d[1]] = by_field.get(d[1], 0) + 1
            print(f"truth: {'ok  ' if not v.disagreements else 'FAIL'} [{v.situation}]")
            for line in v.lines(None if args.all else 6):
                print(line)
            for note in sorted(set(v.unjudged)):
                print(f"truth: not judged [{v.situation}] {note}")
    tcp_states = set(SS_TCP_STATES.values())
    if not args.only and reached & tcp_states != tcp_states:
        failures.append(f"TCP states never reached: {sorted(tcp_states - reached)}")
    print(f"truth: TCP states the kernel held at the moments judged: "
          f"{', '.join(sorted(reached & tcp_states))}")
    for f in failures:
        print(f"truth: FAIL: {f}")
    if by_field:
        print("truth: disagreements by field: " + ", ".join(
            f"{name} {count}" for name, count in sorted(by_field.items(), key=lambda kv: -kv[1])))
    print(f"truth: {situations} situations, {disagreements} disagreements, "
          f"{len(failures)} harness failures ({time.monotonic() - started:.1f} s)")
    if not args.only and situations < 30:
        print(f"truth: FAIL: only {situations} situations were judged; the check wants 30 or more")
        sys.exit(1)
    sys.exit(1 if disagreements or failures else 0)


if __name__ == "__main__":
    main()
