"""Whether the process that opened a run still runs, robustly.

A pid alone is not enough: pids are reused (a container's first process is always pid 1 or close to it), and a
host name changes with every container. A run therefore records a *stamp*: host name, pid, the kernel's boot id,
the pid namespace and the process's start time; and it beats a heartbeat into the ledger while it lives.

A run that ran under this very kernel and pid namespace is dead when its pid is gone or now belongs to a process
started at another time; one that ran on this host before a reboot is dead; anything else (another container,
another machine) is alive until its heartbeat goes stale.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from extractor._process import pid_alive

#: Seconds between two heartbeats of a live run.
HEARTBEAT_SECONDS = 30.0
#: A run whose heartbeat is older than this is dead, wherever it ran (several missed beats).
STALE_SECONDS = 180.0


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeError):
        return None


def boot_id() -> str | None:
    """The kernel's boot id (Linux): changes at each boot, shared by the containers of one kernel."""
    return _read("/proc/sys/kernel/random/boot_id")


def pid_namespace() -> str | None:
    """This process's pid namespace (Linux), e.g. `pid:[4026531836]`: pids compare only within one."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def start_time(pid: int) -> str | None:
    """When `pid` started, in clock ticks since boot (Linux), or None when unknown or gone."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


@dataclass(frozen=True)
class Stamp:
    """Who runs a run."""

    host: str
    pid: int
    boot_id: str | None = None
    pid_ns: str | None = None
    started: str | None = None

    @classmethod
    def current(cls) -> Stamp:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, boot_id(), pid_namespace(), start_time(pid))


def is_alive(stamp: Stamp, heartbeat_at: float | None, *, now: float | None = None) -> bool:
    """Whether the run stamped `stamp`, whose last heartbeat was at `heartbeat_at` (unix time), still runs."""
    here = Stamp.current()
    same_kernel = stamp.boot_id is not None and stamp.boot_id == here.boot_id
    if same_kernel and stamp.pid_ns is not None and stamp.pid_ns == here.pid_ns:
        # Same kernel, same pid namespace: the pid is authoritative, with its start time against reuse (a
        # suspended machine misses heartbeats, yet its runs are alive).
        if not pid_alive(stamp.pid):
            return False
        return stamp.started is None or start_time(stamp.pid) in (None, stamp.started)
    if stamp.host == here.host:
        if stamp.boot_id is not None and here.boot_id is not None and not same_kernel:
            return False  # this host rebooted since
        if stamp.boot_id is None:  # a run recorded before stamps existed: the pid is all we have
            return pid_alive(stamp.pid)
    # Another container or machine: alive as long as it beats.
    now = time.time() if now is None else now
    return heartbeat_at is None or now - heartbeat_at <= STALE_SECONDS
