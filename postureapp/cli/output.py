"""Writing results: whole files or nothing, and one line with exit 4 when the machine fails.

A report is written to a temporary file beside its destination, flushed to disk, then
renamed over it: a full disk, a killed process or a failing writer leaves the previous
file (or none) in place, never half a report that a later step would trust. Devices
and pipes (``/dev/stdout``, a FIFO) cannot be renamed over; they are written in place.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from postureapp.errors import OutputError


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def check_output(path: str) -> None:
    """Fail now, before any work, if ``path`` (``-``: stdout) cannot be written.

    Raises:
        OutputError: no such directory, a directory in the way, no permission, a
            read-only file system (tried by creating a scratch file beside it).
    """
    if path == "-":
        return
    target = Path(path)
    try:
        if target.exists() and not target.is_file():
            if target.is_dir():
                raise OutputError(f"cannot write {path}: it is a directory")
            return  # a device or a FIFO: written in place
        real = Path(os.path.realpath(target))
        if not real.parent.is_dir():
            raise OutputError(f"cannot write {path}: no directory {real.parent}")
        if real.exists() and not os.access(real, os.W_OK):
            raise OutputError(f"cannot write {path}: permission denied")
        with tempfile.TemporaryFile(dir=real.parent, prefix=".posture-check-"):
            pass
    except OSError as error:
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None


@contextlib.contextmanager
def output_stream(path: str) -> Iterator[IO[str]]:
    """A text stream for ``path`` (``-``: stdout) that lands whole or not at all.

    Raises:
        OutputError: writing, flushing or renaming failed (disk full, permission
            denied...); the temporary file is removed and the destination untouched.
    """
    if path == "-":
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(f"cannot write to stdout: {_reason(error)}") from None
        return
    target = Path(path)
    check_output(path)
    if target.exists() and not target.is_file():
        yield from _in_place(path)
        return
    real = Path(os.path.realpath(target))  # through a symlink, as open() would write
    mode = stat.S_IMODE(real.stat().st_mode) if real.exists() else _default_mode()
    try:
        fd, scratch = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())  # a full disk may only say so here
        os.chmod(scratch, mode)
        os.replace(scratch, real)
    except OSError as error:
        _remove(scratch)
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    except BaseException:
        _remove(scratch)
        raise


def _in_place(path: str) -> Iterator[IO[str]]:
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            yield handle
    except OSError as error:
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None


def write_text(path: str, text: str) -> None:
    """``text`` to ``path`` (``-``: stdout), whole or not at all."""
    with output_stream(path) as out:
        out.write(text)


def _default_mode() -> int:
    """What ``open()`` would have created: 0666 less the umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
