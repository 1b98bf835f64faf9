"""Whether another process still runs: the ledger closes the runs of dead processes, and the output folder
removes the temporary files of dead writers, both by pid."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: the existence check, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
