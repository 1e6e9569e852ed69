"""A crash-test seam: with RETAIN_FAULT=<point> the process is killed (SIGKILL) at that point.

Used by the crash tests (a real `kill -9` at a chosen line); does nothing unless the variable names
the point. With RETAIN_FAULT_ONCE=<file> it fires once across processes (the first to create the
file dies; a restarted process passes), so a test can kill a worker that is then restarted.
"""

import os
import signal


def fault(point: str) -> None:
    """Die here if RETAIN_FAULT says so (once, if RETAIN_FAULT_ONCE names a file)."""
    if os.environ.get("RETAIN_FAULT") != point:
        return
    once = os.environ.get("RETAIN_FAULT_ONCE")
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os.kill(os.getpid(), signal.SIGKILL)
