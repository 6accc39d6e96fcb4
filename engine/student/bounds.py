"""Run one piece of a student's code with a time limit and a memory limit, and never hang.

On Linux and macOS the piece runs in a forked copy of this process: the class
is already in memory there (defined in a notebook cell or loaded from a file),
nothing needs pickling but the small result, and whatever the code does (loop
forever, allocate without end, recurse until the C stack breaks) happens in
the copy. The copy's address space is capped (``RLIMIT_AS``: the memory it
already has plus the allowance), its printed text is caught, and when the
time is up it is asked where it is (a signal; a pure-Python loop answers with
its line) and then killed. Where there is no ``fork`` (Windows), the piece runs
here under a trace function that stops it at the time limit; there is no
memory limit there.

These are limits against mistakes, not a sandbox: the code can still read and
write files as its user.

>>> outcome = Bounds(seconds=1.0, megabytes=64).run(lambda: 6 * 7)
>>> outcome.status, outcome.value
('ok', 42)
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import select
import signal
import struct
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, NamedTuple

__all__ = ["Bounds", "Outcome", "progress", "student_line", "MAX_PRINTED"]

HERE = str(Path(__file__).resolve().parent)
MAX_PRINTED = 2_000  # characters of the student's printed text kept with a result
_GRACE = 0.5  # seconds a stopped copy has to say where it was, before it is killed

_pipe = None  # the write end in a forked copy; None in the grader's own process
_last = [""]  # what the piece was doing last, in words (progress)


def progress(text: str):
    """Say what the piece is about to run ("a * b at a = 2, b = -3"): a stopped piece is reported there."""
    _last[0] = text
    if _pipe is not None:
        _send(("at", text))


class Outcome(NamedTuple):
    """What became of a piece: ``status`` 'ok' (``value`` is its result), 'time', 'memory', 'crash' or 'error'

    ('error': it raised, ``value`` is the error in one line).
    """

    status: str
    value: Any  # the result when 'ok'; otherwise None
    doing: str  # what it was running when stopped (from progress), or ""
    where: str  # the student's line it was at when stopped, or ""
    printed: str  # what it printed, cut to MAX_PRINTED characters
    seconds: float


def student_line(tb) -> str:
    """'line 9 of student.py: `while True:`' for the deepest frame of a traceback outside the checker."""
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.startswith(HERE)] if tb else []
    return _describe(frames[-1]) if frames else ""


def _frame_line(frame) -> str:
    while frame is not None and frame.f_code.co_filename.startswith(HERE):
        frame = frame.f_back
    if frame is None:
        return ""
    return _describe(traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))


def _describe(f) -> str:
    name = f.filename
    if "ipykernel_" in name or name.startswith("<ipython-input"):
        place = f"line {f.lineno} of your cell"
    elif name.startswith("<"):
        place = f"line {f.lineno} of {name}"
    else:
        place = f"line {f.lineno} of {os.path.basename(name)}"
    text = (f.line or "").strip()
    return f"{place}: `{text[:100]}`" if text else place


class Bounds:
    """Limits for each piece: ``seconds`` of wall-clock time, ``megabytes`` more memory than the process has."""

    def __init__(self, seconds: float = 2.0, megabytes: float = 512):
        self.seconds, self.megabytes = seconds, megabytes

    def run(self, fn: Callable[[], Any]) -> Outcome:
        """``fn()`` within the limits; its result must pickle (numbers, strings, tuples)."""
        _last[0] = ""
        if hasattr(os, "fork"):
            return self._forked(fn)
        return self._traced(fn)

    # --- in a forked copy ---------------------------------------------------------

    def _forked(self, fn) -> Outcome:
        global _pipe
        read, write = os.pipe()
        with warnings.catch_warnings():  # Python 3.12 warns about fork() in a process with threads (a kernel's)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the copy: never returns into the caller's code
            try:
                os.close(read)
                _pipe = write
                _child(fn, self.megabytes)
            finally:
                os._exit(0)
        os.close(write)
        start = time.monotonic()  # after fork() returned: copying a large process's page tables is not the piece's time
        frames, buffer, stopped = [], b"", None
        deadline = start + self.seconds
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 and stopped is None:
                    stopped = "time"
                    _signal(pid, signal.SIGUSR1)  # "where are you?": the copy answers, then exits
                    deadline = time.monotonic() + _GRACE
                    continue
                if left <= 0:
                    break
                ready, _, _ = select.select([read], [], [], left)
                if not ready:
                    continue
                chunk = os.read(read, 1 << 16)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 4:
                    size = struct.unpack("!I", buffer[:4])[0]
                    if len(buffer) < 4 + size:
                        break
                    frames.append(pickle.loads(buffer[4:4 + size]))
                    buffer = buffer[4 + size:]
        finally:
            os.close(read)
            _signal(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        seconds = time.monotonic() - start
        doing = where = printed = ""
        for kind, payload in frames:
            if kind == "at":
                doing = payload
            elif kind == "where":
                where, printed = payload
            elif kind == "done":
                result, printed = payload
                if result[0] == "memory":
                    return Outcome("memory", None, doing, result[1], printed, seconds)
                if result[0] == "error":
                    return Outcome("error", result[1][0], doing, result[1][1], printed, seconds)
                return Outcome("ok", result[1], doing, "", printed, seconds)
        if stopped:
            return Outcome("time", None, doing, where, printed, seconds)
        signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        name = signal.Signals(signum).name if signum and signum in signal.Signals._value2member_map_ else signum
        return Outcome("crash", None, doing, f"Python died with signal {name}" if name else "Python exited", printed,
                       seconds)

    # --- here, under a trace function (no fork) -------------------------------------

    def _traced(self, fn) -> Outcome:
        deadline = time.monotonic() + self.seconds
        start = time.monotonic()

        def tracer(frame, event, arg):
            if time.monotonic() > deadline:
                raise _TimeUp(_frame_line(frame))
            return tracer

        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = caught = io.StringIO()
        sys.settrace(tracer)
        try:
            value = fn()
        except _TimeUp as e:
            return Outcome("time", None, _last[0], e.args[0], caught.getvalue()[:MAX_PRINTED], time.monotonic() - start)
        except MemoryError as e:
            return Outcome("memory", None, _last[0], student_line(e.__traceback__), "", time.monotonic() - start)
        except Exception as e:  # noqa: BLE001 - an error the piece did not catch
            return Outcome("error", f"{type(e).__name__}: {e}"[:300], _last[0], student_line(e.__traceback__),
                           caught.getvalue()[:MAX_PRINTED], time.monotonic() - start)
        finally:
            sys.settrace(None)
            sys.stdout, sys.stderr = old_out, old_err
        return Outcome("ok", value, _last[0], "", caught.getvalue()[:MAX_PRINTED], time.monotonic() - start)


class _TimeUp(BaseException):
    """Raised into a piece that ran past its time (a BaseException: `except Exception` does not catch it)."""


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _send(message):
    data = pickle.dumps(message)
    data = struct.pack("!I", len(data)) + data
    while data:
        data = data[os.write(_pipe, data):]


def _child(fn, megabytes):
    # In the forked copy: catch the printed text (the parent's streams may belong to a kernel's
    # threads, which the copy does not have), cap the memory, run, send the result.
    sys.stdout = sys.stderr = caught = io.StringIO()
    # The objects inherited from the parent are not the piece's: a collection that walked them (a notebook's or a
    # test run's millions) would touch every copied page and could take seconds; nor are the parent's gc callbacks.
    gc.freeze()
    gc.callbacks.clear()

    def where(signum, frame):
        _send(("where", (_frame_line(frame), caught.getvalue()[:MAX_PRINTED])))
        os._exit(0)

    signal.signal(signal.SIGUSR1, where)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a notebook interrupts the grader, which stops us
    restore = _cap_memory(megabytes)
    try:
        result = ("ok", fn())
    except MemoryError as e:
        result = ("memory", student_line(e.__traceback__))
    except BaseException as e:  # noqa: BLE001 - sys.exit() or an error the piece did not catch
        result = ("error", (f"{type(e).__name__}: {e}"[:300], student_line(e.__traceback__)))
    restore()
    _send(("done", (result, caught.getvalue()[:MAX_PRINTED])))


def _cap_memory(megabytes):
    """Cap this process's address space at what it has now plus ``megabytes``; returns the undo."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            now = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):  # no /proc (macOS): no cap
        return lambda: None
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = now + int(megabytes * 2**20)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
