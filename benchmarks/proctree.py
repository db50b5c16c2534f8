"""Memory and CPU of a process and all its descendants, read from /proc (Linux): for servers and CLIs whose work
runs in worker processes, where the top process's own figures undercount."""

from __future__ import annotations

import os


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    pending += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(PSS, RSS) of a process tree, in MB: PSS divides each shared page among the processes sharing it (the honest
    total for workers forked from one server), RSS counts a shared page again in every process."""
    pss = rss = 0
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024, rss / 1024


def tree_cpu_seconds(pid: int, seen: dict[int, float]) -> None:
    """Record the CPU time (user + system) of every member of a process tree in `seen` (last value per process)."""
    tick = os.sysconf("SC_CLK_TCK")
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            seen[member] = (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
