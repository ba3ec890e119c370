"""Job folders in the system's temp folder, and who owns them: the one owner-file mechanism of the
training/evaluation jobs (``backends.local``) and the export jobs (``app.workbench.exporting``).

A process that makes a job folder writes ``owner`` ("HOST PID") into it. When that process is
killed (``kill -9`` of the CLI or the GUI) nothing removes the folder; the next start of the same
kind of job removes every folder whose owner is gone and whose job has ended, so at most the
current jobs' folders remain. No TensorFlow here.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

OWNER_FILE = "owner"  # "HOST PID" of the process that started the job and records it
# A folder with no owner file (an older Layerloom's, or one killed between mkdtemp and the
# owner's write) is left alone this long, in case its owner still reads it.
UNOWNED_GRACE_SECONDS = 3600.0


def make_job_folder(prefix: str, root: str | Path | None = None) -> Path:
    """A new folder ``root/prefix*`` owned by this process."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    (folder / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}", encoding="utf-8")
    return folder


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_gone(folder: Path) -> bool:
    """True when the process named in the folder's owner file no longer runs on this host (or,
    without an owner file, when the folder is older than UNOWNED_GRACE_SECONDS)."""
    try:
        host, pid = (folder / OWNER_FILE).read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return time.time() - folder.stat().st_mtime > UNOWNED_GRACE_SECONDS
    if host != socket.gethostname():
        return False  # a shared temp folder: another machine's process, which we cannot see
    return pid.isdigit() and not process_alive(int(pid))


def processes_using(folder: Path) -> list[int]:
    """Ids of the live processes whose command line names ``folder`` (a job's worker is started
    with its job file's path). Empty where there is no /proc to read."""
    needle = str(folder).encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if needle in cmdline.read():
                    found.append(int(entry))
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found
