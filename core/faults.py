"""A crash-test seam: with RETAIN_FAULT=<point> the process is killed (SIGKILL) at that point.

Used by the crash tests (a real `kill -9` at a chosen line); does nothing unless the variable names
the point.
"""

import os
import signal


def fault(point: str) -> None:
    """Die here if RETAIN_FAULT says so."""
    if os.environ.get("RETAIN_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
