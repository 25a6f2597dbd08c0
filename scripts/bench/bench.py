"""Measures sockplay against the real alternatives, paired in one run, and prints each figure with
its ratio and target. Called by scripts/bench.sh with the release binary; run it with the system's
/usr/bin/python3, which is also the Python every baseline runs on.

What the user waits for is measured from outside the real binary: a whole run's wall time, or,
for one step, the time between the moments two consecutive steps' output arrives on sockplay's
stdout (a pipe, or a 50-row pseudo-terminal). Peak memory is the sum of the peak resident sizes
(VmHWM) of sockplay's front end and its playground processes, against `lsof -p` on the process
that holds the sockets, whose peak comes from GNU time.
"""
import fcntl
import os
import pty
import re
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

SOCKPLAY = os.path.abspath(sys.argv[1])
PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# A run that takes longer than this is reported as such rather than waited for.
CAP_SECONDS = 300
PROBE = "socket tcp as probe"
MARKS = [b"sockplay> socket tcp as probe", b"sockplay> close probe"]


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{model}, {nproc} CPUs (nproc), Linux {os.uname().release}"


def python_used():
    """The Python that runs the baselines: /usr/bin/python3 itself, an ELF binary, never a
    wrapper script that imports extra modules at start-up."""
    real = os.path.realpath(PYTHON)
    with open(real, "rb") as binary:
        if binary.read(4) != b"\x7fELF":
            raise SystemExit(f"bench: {PYTHON} is not an ELF binary ({real}): a wrapper")
    if os.path.realpath(sys.executable) != real:
        raise SystemExit(f"bench: run me with {PYTHON}, not {sys.executable}")
    version = subprocess.run([PYTHON, "--version"], capture_output=True, text=True).stdout.strip()
    return f"{PYTHON} -> {real} (ELF, {version})"


def load():
    return os.getloadavg()[0]


def run(argv):
    """Wall time and CPU time (user + system, of the process and every process it waited for:
    sockplay's front end and its playground processes) in seconds of one run of argv, output
    discarded; None past the cap."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = start + CAP_SECONDS
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            os.wait4(process.pid, 0)
            return None
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed with status {process.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def wall(argv):
    """Wall time (s) of one run of argv; None past the cap."""
    measured = run(argv)
    return measured and measured[0]


def paired(a, b, runs, cpu=False):
    """Medians (s) of `runs` runs of a and b, taken in turns; None for one that hit the cap.
    With `cpu`, also the least CPU time a run of a took and the least wall time of a and of b."""
    times_a, times_b, cpus = [], [], []
    for _ in range(runs):
        measured = run(a)
        if measured is None:
            result = None, statistics.median(times_b or [wall(b)])
            return (*result, None, None, None) if cpu else result
        times_a.append(measured[0])
        cpus.append(measured[1])
        times_b.append(wall(b))
    result = statistics.median(times_a), statistics.median(times_b)
    # With `cpu`, also the least CPU time a run of a took, and the least wall time of each: what
    # the work costs, with the least of what other processes on the machine (and the
    # hypervisor's steal) add to one run.
    return (*result, min(cpus), min(times_a), min(times_b)) if cpu else result


def listeners_script(directory, n, tail=""):
    """A script making n TCP listeners (socket, bind 127.0.0.1:0, listen 128): 3 commands each;
    with a `tail`, the panel is off while they are made."""
    path = os.path.join(directory, f"listeners-{n}{'-steps' if tail else ''}.sock")
    with open(path, "w") as script:
        if tail:
            script.write("set panel off\n")
        for i in range(n):
            script.write(f"socket tcp as l{i}\nbind l{i} 127.0.0.1:0\nlisten l{i} 128\n")
        script.write(tail)
    return path


def steps_tail(steps, panel):
    """After the listeners (made with the panel off): the panel on, one warm-up step pair,
    `steps` measured steps (a socket made, then closed, in turns), and a long sleep that holds
    the sockets while others look."""
    lines = [f"set panel {panel}", PROBE, "close probe"]
    for i in range(steps):
        lines.append(PROBE if i % 2 == 0 else "close probe")
    lines.append("sleep 60000")
    return "\n".join(lines) + "\n"


class Running:
    """sockplay replaying a script with its stdout on a pipe, or on a pseudo-terminal of
    `rows` x `columns`; remembers when each line containing one of `marks` arrived."""

    def __init__(self, script, marks, rows=None, columns=160):
        self.marks = marks
        self.arrivals = []
        self.buffer = b""
        if rows is None:
            read_end, write_end = os.pipe()
            self.process = subprocess.Popen(
                [SOCKPLAY, "--color", "never", "--timeout", "120", script], stdin=subprocess.DEVNULL,
                stdout=write_end, stderr=subprocess.DEVNULL, start_new_session=True)
            os.close(write_end)
            self.fd = read_end
        else:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
            self.process = subprocess.Popen(
                [SOCKPLAY, "--color", "never", "--timeout", "120", script], stdin=subprocess.DEVNULL,
                stdout=slave, stderr=subprocess.DEVNULL, start_new_session=True)
            os.close(slave)
            self.fd = master

    def read_until(self, count, timeout):
        """Reads until lines with marks have arrived `count` times; False if they did not in
        time."""
        deadline = time.perf_counter() + timeout
        while len(self.arrivals) < count:
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 1 << 20)
            except OSError:
                return False
            if not chunk:
                return False
            now = time.perf_counter()
            data = self.buffer + chunk
            lines = data.split(b"\n")
            self.buffer = lines.pop()
            for line in lines:
                if any(m in line for m in self.marks):
                    self.arrivals.append(now)
        return True

    def pids(self):
        """The front end and every process under it."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as children:
                        todo.extend(int(c) for c in children.read().split())
            except OSError:
                pass
        return found

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.fd)


def step_ms(running, steps):
    """The median time (ms) between the output of consecutive measured steps."""
    times = running.arrivals[-(steps + 1):]
    gaps = [(b - a) * 1000 for a, b in zip(times, times[1:])]
    return statistics.median(gaps)


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def ss_ms(runs=15):
    times = []
    with tempfile.TemporaryFile() as out:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(["ss", "-tan"], stdout=out, stderr=subprocess.DEVNULL, check=True)
            times.append((time.perf_counter() - start) * 1000)
            out.truncate(0)
            out.seek(0)
    return statistics.median(times)


def lsof_peak_kib(pid):
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M", "lsof", "-p", str(pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(report.read().split()[-1])


def table_step(directory, n, rows, steps):
    """sockplay holding n listeners, then `steps` steps with the panel; returns the median step
    (ms), `ss -tan` (ms) while they are held, and the peak memory of sockplay's processes and of
    `lsof -p` on the process holding them (KiB). None when the setup did not finish in time."""
    panel = "below" if rows is None else "right"
    script = listeners_script(directory, n, steps_tail(steps, panel))
    running = Running(script, MARKS, rows=rows)
    try:
        # The warm-up pair, then the measured steps; then it sleeps, holding the sockets.
        if not running.read_until(steps + 2, CAP_SECONDS):
            return None
        step = step_ms(running, steps)
        ss = ss_ms()
        pids = running.pids()
        peak = sum(vm_hwm_kib(pid) for pid in pids)
        workers = [pid for pid in pids if pid != running.process.pid]
        lsof = lsof_peak_kib(workers[0]) if workers else 0
        return step, ss, peak, lsof
    finally:
        running.stop()


def verdict(value, target):
    return "ok" if value <= target else "MISSED"


def line(work, ours, theirs, ratio, target, result):
    print(f"  {work:<46} {ours:>12} {theirs:>24} {ratio:>8} {target:>9}  {result}")


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    print("sockplay benchmarks: medians, sockplay and the alternative paired in one run")
    print(f"  machine: {machine()}")
    print(f"  python:  {python_used()}")
    print(f"  sockplay: {SOCKPLAY}")
    print(f"  load average (1 min) at start: {load():.2f}")
    print()
    line("work", "sockplay", "alternative", "ratio", "target", "")
    with tempfile.TemporaryDirectory() as directory:
        # (a) The seeds' walk-through with the panel after every step, vs Python's same calls.
        seeds = os.path.join(ROOT, "scripts/examples/tcp-server-client.sock")
        ours, theirs = paired([SOCKPLAY, "--panel", "below", seeds],
                              [PYTHON, os.path.join(HERE, "seeds.py")], 30)
        ratio = ours / theirs
        line("(a) seeds' walk-through, panel every step", f"{ours * 1000:.1f} ms",
             f"python {theirs * 1000:.1f} ms", f"{ratio:.3f}", "≤ 0.15", verdict(ratio, 0.15))

        # (b, c) Many listeners, panel off: 3 commands each, vs Python making them.
        setup = {}
        for n, runs in [(100, 9), (1000, 7), (3000, 7)]:
            script = listeners_script(directory, n)
            setup[n] = paired([SOCKPLAY, "--panel", "off", script],
                              [PYTHON, os.path.join(HERE, "listeners.py"), str(n)], runs,
                              cpu=True)
        for n in (1000, 3000):
            ours, theirs = setup[n][:2]
            label = f"({'b' if n == 1000 else 'c'}) {n:,} listeners ({3 * n:,} commands), panel off"
            if ours is None:
                line(label, f"> {CAP_SECONDS} s", f"python {theirs * 1000:.0f} ms", "-", "≤ 1.5×",
                     "MISSED")
                continue
            ratio = ours / theirs
            line(label, f"{ours * 1000:.0f} ms", f"python {theirs * 1000:.0f} ms",
                 f"{ratio:.2f}×", "≤ 1.5×", verdict(ratio, 1.5))
        if all(setup[n][0] is not None for n in setup):
            # What one more command costs, between two sizes: in wall time, what must stay flat
            # as the table grows, and in CPU time (which counts the moment each process looks for
            # its next message without sleeping, so it follows the wall time).
            # Each from the least time of the runs at each size.
            per = lambda lo, hi, i: (setup[hi][i] - setup[lo][i]) / (3 * (hi - lo)) * 1e6
            for label, i in [("wall", 3), ("CPU", 2)]:
                low, high = per(100, 1000, i), per(1000, 3000, i)
                line(f"    {label} per command, 100→1,000 sockets", f"{low:.1f} µs",
                     f"python {per(100, 1000, 4):.1f} µs" if i == 3 else "", "", "", "")
                growth = high / low
                line(f"    {label} per command, 1,000→3,000 sockets", f"{high:.1f} µs",
                     f"python {per(1000, 3000, 4):.1f} µs" if i == 3 else "",
                     f"{growth:.2f}", "≤ 1.25" if i == 3 else "",
                     verdict(growth, 1.25) if i == 3 else "")

        # (d) One step with 1,000 sockets, every row to a pipe, vs one `ss -tan`.
        found = table_step(directory, 1000, None, 21)
        if found is None:
            line("(d) one step, 1,000 sockets, whole table", "setup > cap", "", "-", "≤ 0.8",
                 "MISSED")
        else:
            step, ss, _, _ = found
            ratio = step / ss
            line("(d) one step, 1,000 sockets, whole table", f"{step:.2f} ms",
                 f"ss -tan {ss:.2f} ms", f"{ratio:.2f}", "≤ 0.8", verdict(ratio, 0.8))

        # (e, f) One step with 10,000 sockets at a 50-row terminal; peak memory.
        found = table_step(directory, 10000, 50, 21)
        if found is None:
            line("(e) one step, 10,000 sockets, 50-row terminal", "setup > cap", "", "-",
                 "≤ 10 ms", "MISSED")
            line("(f) peak memory, 10,000 sockets", "setup > cap", "", "-", "≤ 2×", "MISSED")
        else:
            step, ss, peak, lsof = found
            line("(e) one step, 10,000 sockets, 50-row terminal", f"{step:.2f} ms",
                 f"ss -tan {ss:.2f} ms", f"{step / ss:.2f}", "≤ 10 ms", verdict(step, 10))
            ratio = peak / lsof
            line("(f) peak memory, 10,000 sockets", f"{peak / 1024:.1f} MiB",
                 f"lsof -p {lsof / 1024:.1f} MiB", f"{ratio:.2f}×", "≤ 2×", verdict(ratio, 2))
        # Where the time and the memory go: what the missed targets rest on.
        print()
        print("  what the figures above rest on")
        ours, theirs = paired([SOCKPLAY, "--panel", "off", "-c", "socket tcp"],
                              [PYTHON, "-c", "import socket; socket.socket()"], 30)
        line("    start-up, one command, exit", f"{ours * 1000:.1f} ms",
             f"python {theirs * 1000:.1f} ms", f"{ours / theirs:.2f}", "", "")
        n = 3000
        one = os.path.join(directory, "one-socket.sock")
        many = os.path.join(directory, "nonblock.sock")
        with open(one, "w") as script:
            script.write("socket tcp as s\n")
        with open(many, "w") as script:
            script.write("socket tcp as s\n" + "nonblock s on\n" * n)
        base, _ = paired([SOCKPLAY, "--panel", "off", one],
                         [PYTHON, os.path.join(HERE, "nonblock.py"), "0"], 7)
        ours, _ = paired([SOCKPLAY, "--panel", "off", many],
                         [PYTHON, os.path.join(HERE, "nonblock.py"), "0"], 7)
        py0, py = paired([PYTHON, os.path.join(HERE, "nonblock.py"), "0"],
                         [PYTHON, os.path.join(HERE, "nonblock.py"), str(n)], 7)
        per_ours = (ours - base) / n * 1e6
        per_py = (py - py0) / n * 1e6
        line("    one command's round trip (nonblock s on)", f"{per_ours:.1f} µs",
             f"python's call {per_py:.1f} µs", "", "", "")
        bare = Running(listeners_script(directory, 0, steps_tail(0, "off")), MARKS)
        try:
            if bare.read_until(2, CAP_SECONDS):
                pids = bare.pids()
                line("    peak memory with no socket (front end, main)",
                     " + ".join(f"{vm_hwm_kib(pid) / 1024:.1f}" for pid in pids) + " MiB",
                     "", "", "", "")
        finally:
            bare.stop()
    print()
    print(f"  load average (1 min) at end: {load():.2f}")


main()
