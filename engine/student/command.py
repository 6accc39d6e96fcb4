"""``gradflow check-engine FILE.py:ClassName``: check a student's file without running it in the grader's process.

The grader reads the file and compiles it (a syntax error is reported with its
line; compiling runs nothing), then starts a separate Python process with a cap
on its memory and CPU time, in a session of its own. That process imports the
file (stopped after IMPORT_SECONDS), finds the class and runs check_engine,
each check again within its own limits, and prints the report as JSON on a
channel the student's code cannot print to. The grader waits at most
``wall_seconds()`` and then kills the whole session.

>>> check_file("no_such_file.py:Value")
Traceback (most recent call last):
...
engine.student.command.StudentFileError: no_such_file.py: no such file
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from .report import EngineReport

__all__ = ["check_file", "StudentFileError", "wall_seconds", "IMPORT_SECONDS"]

IMPORT_SECONDS = 10  # importing the student's file
MAX_BYTES = 1_000_000  # a student's engine is a few hundred lines
BASE_MEGABYTES = 1024  # the checking process's own address space (Python, gradflow), on top of the checks' allowance
ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding gradflow's packages


class StudentFileError(ValueError):
    """The file, the class name or the import is refused: one line that says why."""


def wall_seconds(time_limit: float) -> float:
    """The longest a whole check-engine run may take: the import, then every check at its limit."""
    return IMPORT_SECONDS + 30 * time_limit + 5


def _target(target: str):
    path, colon, name = target.rpartition(":")
    if not colon or not path or not name:
        raise StudentFileError(f"name the class after the file and a colon, as in student.py:Value; got {target!r}")
    if not name.isidentifier():
        raise StudentFileError(f"{name!r} is not a class name (after the colon in {target!r})")
    file = Path(path)
    if not file.exists():
        raise StudentFileError(f"{path}: no such file")
    if not file.is_file():
        raise StudentFileError(f"{path} is not a file")
    if file.stat().st_size > MAX_BYTES:
        raise StudentFileError(f"{path} is {file.stat().st_size:,} bytes; a Value class fits in far less "
                               f"(at most {MAX_BYTES:,})")
    try:
        source = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise StudentFileError(f"{path} is not UTF-8 text (byte {e.start})") from None
    try:
        compile(source, path, "exec")  # compiling runs nothing of the file
    except SyntaxError as e:
        text = (e.text or "").strip()
        raise StudentFileError(f"{path} line {e.lineno}: SyntaxError: {e.msg}" + (f": `{text[:100]}`" if text else "")) \
            from None
    except ValueError as e:  # a NUL byte in the source
        raise StudentFileError(f"{path}: {e}") from None
    return file.resolve(), name


def _limits(megabytes):
    def apply():
        import resource

        cap = int((BASE_MEGABYTES + megabytes) * 2**20)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return apply


def check_file(target: str, *, time_limit: float = 2.0, memory_limit: float = 512) -> EngineReport:
    """The report for ``FILE.py:ClassName``, checked in a separate Python process; StudentFileError for bad input."""
    for what, value, least, most in (("--time-limit", time_limit, 0.05, 60), ("--memory-limit", memory_limit, 16, 16384)):
        if not isinstance(value, (int, float)) or not least <= value <= most:
            raise StudentFileError(f"{what} must be from {least:g} to {most:g}, got {value!r}")
    file, name = _target(target)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
               PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "engine.student.command", str(file), name, repr(time_limit), repr(memory_limit)]
    posix = os.name == "posix"
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=str(file.parent), start_new_session=posix,
                               preexec_fn=_limits(memory_limit) if posix else None)
    wall = wall_seconds(time_limit)
    try:
        out, err = process.communicate(timeout=wall)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise StudentFileError(f"checking {file.name} did not finish within {wall:g} s and was stopped") from None
    finally:
        _kill(process)
    try:
        answer = json.loads(out.decode("utf-8", "replace").strip().splitlines()[-1])
    except (IndexError, ValueError):
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise StudentFileError(f"the process checking {file.name} ended without a report "
                               f"(exit status {process.returncode}: {last[0][:200]})") from None
    if "error" in answer:
        raise StudentFileError(answer["error"])
    return EngineReport.from_dict(answer["report"])


def _kill(process):
    if process.poll() is None or os.name == "posix":
        try:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)  # the checks' forked copies too
            else:
                process.kill()
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()


# --- the checking process ----------------------------------------------------------------------


class _Slow(BaseException):
    pass


def _load(file: Path, name: str):
    import importlib.util
    import io

    from .bounds import student_line

    sys.path.insert(0, str(file.parent))  # the student's own helper modules
    spec = importlib.util.spec_from_file_location("student_engine", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules["student_engine"] = module

    def slow(signum, frame):
        raise _Slow()

    signal.signal(signal.SIGALRM, slow)
    signal.alarm(IMPORT_SECONDS)
    sys.stdout = sys.stderr = io.StringIO()  # what the file prints at the top is not the report
    try:
        spec.loader.exec_module(module)
    except _Slow as e:
        line = student_line(e.__traceback__)
        raise StudentFileError(f"importing {file.name} did not finish within {IMPORT_SECONDS} s"
                               + (f" ({line})" if line else "") + ": top-level code that never ends?") from None
    except MemoryError:
        raise StudentFileError(f"importing {file.name} ran out of memory") from None
    except BaseException as e:  # noqa: BLE001 - anything the file raises at import, SystemExit included
        line = student_line(e.__traceback__)
        raise StudentFileError(f"importing {file.name} raised {type(e).__name__}: {str(e)[:200]}"
                               + (f" ({line})" if line else "")) from None
    finally:
        signal.alarm(0)
    cls = getattr(module, name, None)
    if cls is None:
        classes = sorted(k for k, v in vars(module).items() if isinstance(v, type) and v.__module__ == module.__name__)
        defines = f" (it defines: {', '.join(classes)})" if classes else " (it defines no class)"
        raise StudentFileError(f"{file.name} has no class named {name}{defines}")
    if not isinstance(cls, type):
        raise StudentFileError(f"{name} in {file.name} is a {type(cls).__name__}, not a class")
    return cls


def main(argv=None) -> int:
    """The checking process: ``python -m engine.student.command FILE CLASS TIME_LIMIT MEMORY_LIMIT``."""
    file, name, time_limit, memory_limit = (argv or sys.argv[1:])[:4]
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the student's code (and anything it starts) prints elsewhere
    try:
        from .report import check_engine

        cls = _load(Path(file), name)
        answer = {"report": check_engine(cls, time_limit=float(time_limit), memory_limit=float(memory_limit)).to_dict()}
    except StudentFileError as e:
        answer = {"error": str(e)}
    channel.write(json.dumps(answer, ensure_ascii=False) + "\n")
    channel.flush()
    return 0


if __name__ == "__main__":
    os._exit(main())  # no cleanup of the student's objects (a deep graph, an atexit hook of theirs)
