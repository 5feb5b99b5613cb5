"""Run a command in a subprocess and measure its wall time and the peak memory of its process tree.

Memory is sampled with psutil every ``interval`` seconds (50 ms): at each sample the resident set
sizes (RSS) of the process and all its descendants (a loader process, multiprocessing's helpers)
are summed, and the largest sum is the tree's sampled peak. A 50 ms sample can miss a short
spike, so each process's kernel high-water mark (``VmHWM`` in ``/proc/PID/status``, the largest
RSS it ever had) is read too; the reported peak is the larger of the sampled tree sum and the
largest single-process high-water mark. Both are lower bounds of the true peak of the tree, and
for a single process the second one is exact.

A child may print lines ``BENCH-MARK <name>`` on its stdout; the monitor records the wall time and
the peak so far when each arrives (e.g. "loaded", before the child goes on to run queries).

Other work on the machine slows every figure down, so each run also records how much CPU the
rest of the machine used meanwhile: the machine's busy CPU time (``psutil.cpu_times``: all but
idle and iowait, steal included) minus the CPU time of this process and of the children it waited
for (``getrusage``; a loader's worker processes are waited for by the loader, so they count as
ours), divided by the wall time: ``others_cores`` (0 on a quiet machine, up to the core count).
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

MARK_PREFIX = "BENCH-MARK "


def _proc_status(pid: int) -> dict[str, int]:
    """Memory fields of ``/proc/PID/status`` in bytes: VmHWM (peak RSS so far), RssAnon, RssFile,
    RssShmem. Empty if unavailable (not Linux, process gone)."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith((b"VmHWM:", b"RssAnon:", b"RssFile:", b"RssShmem:")):
                    name, value = line.split(b":", 1)
                    fields[name.decode()] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return fields


def _describe(proc: psutil.Process) -> str:
    try:
        cmdline = proc.cmdline()
    except psutil.Error:
        return "?"
    text = " ".join(part.rsplit("/", 1)[-1] if i == 0 else part for i, part in enumerate(cmdline))
    return text[:120]


class TreeSampler(threading.Thread):
    """Samples the RSS of process ``pid`` and its descendants until :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True, name=f"rss-sampler-{pid}")
        self.pid = pid
        self.interval = interval
        self.peak_tree = 0  # largest sum of RSS over the tree at one sample
        self.hwm: dict[int, int] = {}  # per-process high-water marks (VmHWM)
        self.samples = 0
        self.max_processes = 0
        self._procs: dict[int, psutil.Process] = {}
        self._commands: dict[int, str] = {}
        self._halt = threading.Event()
        self._lock = threading.Lock()

    @property
    def peak(self) -> int:
        """The peak in bytes: max(sampled tree sum, largest single-process high-water mark)."""
        with self._lock:
            return max(self.peak_tree, max(self.hwm.values(), default=0))

    def _process(self, pid: int) -> psutil.Process:
        proc = self._procs.get(pid)
        if proc is None:
            proc = self._procs[pid] = psutil.Process(pid)
        return proc

    def sample(self) -> None:
        try:
            root = self._process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        parts = []
        for proc in tree:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue
            if proc.pid not in self._commands:
                self._commands[proc.pid] = _describe(proc)
            status = _proc_status(proc.pid)
            total += rss
            parts.append((proc, rss, status))
            hwm = max(status.get("VmHWM", 0), rss)
            with self._lock:
                if hwm > self.hwm.get(proc.pid, 0):
                    self.hwm[proc.pid] = hwm
        with self._lock:
            if total > self.peak_tree:
                self.peak_tree = total
                self._peak_parts = parts
            self.samples += 1
            self.max_processes = max(self.max_processes, len(parts))

    def peak_breakdown(self) -> list[dict]:
        """The processes of the sample with the largest tree sum: pid, command, RSS and its
        anonymous / file-backed / shared parts (bytes), and the process's own peak."""
        with self._lock:
            parts = list(getattr(self, "_peak_parts", []))
        return [
            {
                "pid": proc.pid,
                "command": self._commands.get(proc.pid, "?"),
                "rss": rss,
                "anon": status.get("RssAnon"),
                "file": status.get("RssFile"),
                "shmem": status.get("RssShmem"),
                "hwm": self.hwm.get(proc.pid),
            }
            for proc, rss, status in parts
        ]

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()


@dataclass
class RunResult:
    """What :func:`run_monitored` measured. Times are seconds, memory bytes."""

    cmd: list[str]
    returncode: int | None
    wall: float
    peak_rss: int
    peak_rss_tree_sampled: int
    max_processes: int
    samples: int
    timed_out: bool
    stdout: str
    stderr: str
    marks: dict[str, dict] = field(default_factory=dict)  # name -> {"t": seconds since launch, "peak_rss": bytes}
    peak_breakdown: list[dict] = field(default_factory=list)  # the processes at the tree's peak
    launched_at: float = 0.0  # time.time() just before the process was started
    others_cpu_s: float | None = None  # CPU seconds the rest of the machine used meanwhile
    others_cores: float | None = None  # others_cpu_s / wall: cores the rest of the machine kept busy

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def describe_failure(self) -> str:
        if self.timed_out:
            return f"timed out after {self.wall:.0f} s"
        tail = (self.stderr.strip().splitlines() or self.stdout.strip().splitlines() or ["no output"])[-1]
        return f"exit code {self.returncode}: {tail[:200]}"


def run_monitored(
    cmd: list[str],
    *,
    timeout: float,
    env: dict | None = None,
    cwd: str | None = None,
    interval: float = 0.05,
    launch_arg: str | None = None,
) -> RunResult:
    """Run ``cmd``, sampling its process tree's memory, and wait for it (at most ``timeout`` s).

    If ``launch_arg`` is given, ``[launch_arg, <time.time() at launch>]`` is appended to ``cmd`` so
    the child can measure from the moment it was launched.
    """
    launched_at = time.time()
    if launch_arg:
        cmd = [*cmd, launch_arg, repr(launched_at)]
    busy_before, ours_before = machine_busy_cpu_s(), own_cpu_s()
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        text=True,
        errors="replace",
    )
    sampler = TreeSampler(proc.pid, interval)
    sampler.sample()
    sampler.start()
    out_lines: list[str] = []
    err_chunks: list[str] = []
    marks: dict[str, dict] = {}

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(MARK_PREFIX):
                sampler.sample()
                marks[line[len(MARK_PREFIX) :].strip()] = {"t": time.perf_counter() - started, "peak_rss": sampler.peak}
            else:
                out_lines.append(line)

    def read_stderr() -> None:
        assert proc.stderr is not None
        for chunk in proc.stderr:
            err_chunks.append(chunk)
            if len(err_chunks) > 5000:  # keep the tail only
                del err_chunks[:1000]

    readers = [threading.Thread(target=read_stdout, daemon=True), threading.Thread(target=read_stderr, daemon=True)]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_tree(proc.pid)
        proc.wait()
    wall = time.perf_counter() - started
    others = max(0.0, (machine_busy_cpu_s() - busy_before) - (own_cpu_s() - ours_before))
    sampler.stop()
    sampler.join()
    breakdown = sampler.peak_breakdown()
    for reader in readers:
        reader.join(timeout=5)
    return RunResult(
        cmd=cmd,
        returncode=proc.returncode,
        wall=wall,
        peak_rss=sampler.peak,
        peak_rss_tree_sampled=sampler.peak_tree,
        max_processes=sampler.max_processes,
        samples=sampler.samples,
        timed_out=timed_out,
        stdout="".join(out_lines),
        stderr="".join(err_chunks),
        marks=marks,
        peak_breakdown=breakdown,
        launched_at=launched_at,
        others_cpu_s=others,
        others_cores=others / wall if wall > 0 else None,
    )


def machine_busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy since boot, summed over cores (every state
    but idle and iowait; steal counts: a hypervisor gave that time to someone else)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def own_cpu_s() -> float:
    """CPU seconds used by this process and the children it has waited for (user + system)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _kill_tree(pid: int) -> None:
    """Kill process ``pid`` and its descendants (ones this harness started)."""
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=5)


def machine_facts() -> dict:
    """Cores, RAM, OS and CPU model of this machine."""
    facts = {
        "cores": os.cpu_count(),
        "ram_bytes": psutil.virtual_memory().total,
    }
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    facts["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        facts["cpu_affinity"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    return facts
