"""What the benchmark runs on, and how much of it other programs took while it ran (Linux /proc).

The figures only mean something on an otherwise idle machine. `OtherCpu` measures the CPU time
used during a scenario by anything but the benchmark itself (gunicorn, the load generator, the bench
database's PostgreSQL backends), so a noisy run is flagged instead of silently recorded.
"""

import os
import platform

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
CORES = len(os.sched_getaffinity(0))


def describe() -> str:
    return f"{CORES} cores, {cpu_model()}, {ram_gib():.0f} GiB RAM, {platform.system()} {platform.release()}"


def cpu_model() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def ram_gib() -> float:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return 0.0


def busy_seconds() -> float:
    """CPU time all cores have spent busy since boot."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND


def process_seconds(pid: int) -> float:
    """CPU time of one process so far; 0 if it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # The command name may hold spaces; the fields after it are fixed.
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime, stime


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


class OtherCpu:
    """CPU share of the whole machine used by other programs between start() and share()."""

    def __init__(self, own_pids):
        # A callable, because gunicorn may replace a worker and backends connect lazily.
        self.own_pids = own_pids

    def start(self) -> None:
        self.started_own = {pid: process_seconds(pid) for pid in self.own_pids()}
        self.started_busy = busy_seconds()
        self.started_children = children_seconds()
        self.started_wall = os.times().elapsed

    def share(self) -> float:
        busy = busy_seconds() - self.started_busy
        # Database backends come and go (CONN_MAX_AGE); a new one counts from zero, a gone one not at
        # all, which errs on the side of flagging a run.
        pids = set(self.own_pids()) | set(self.started_own)
        own = sum(max(0.0, process_seconds(pid) - self.started_own.get(pid, 0.0)) for pid in pids)
        own += children_seconds() - self.started_children  # the load generator, once it has exited
        wall = os.times().elapsed - self.started_wall
        return max(0.0, busy - own) / (wall * CORES) if wall else 0.0


def children_seconds() -> float:
    times = os.times()
    return times.children_user + times.children_system
