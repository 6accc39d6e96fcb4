"""Hostile sheets and submissions: bounded time, memory and output, a clear message, exit 2 (or its row)."""

import os
import subprocess
import sys

import pytest

from viz.exercise import SheetError, load, loads
from viz.cli import MAX_PRINT, main
from viz.exercise.answers import MAX_KEY, parse_key
from viz.exercise.text import MAX_SHEET_BYTES

KEY = '[inputs]\nx = 2\nw = -3\n[graph]\ny = "w*x"\n[answers]\ny = -6\n"dy/dw" = 2\n'


# VmHWM, the peak resident memory of this program alone (ru_maxrss would carry the parent's over exec).
PEAK = ("import re, sys\nfrom viz.cli import main\nstatus = main()\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "print(f'peak {hwm}', file=sys.stderr)\nsys.exit(status)")


def gradflow(*argv, timeout=60):
    """Run the command in its own process; returns (status, stdout, stderr, its peak memory in MB)."""
    done = subprocess.run([sys.executable, "-c", PEAK, *map(str, argv)], capture_output=True, text=True, timeout=timeout)
    err, _, peak = done.stderr.rpartition("peak ")
    return done.returncode, done.stdout, err, int(peak) / 1024


def test_a_10_kb_sum_of_x_prints_a_bounded_report(tmp_path):
    terms = "+".join(["x"] * 4990)
    sheet = tmp_path / "sum.toml"
    sheet.write_text(f'[inputs]\nx = 1\n[graph]\ny = "{terms}"\n[answers]\n"dy/dx" = 1\n', encoding="utf-8")
    assert sheet.stat().st_size < 11_000
    status, out, err, peak = gradflow("check", sheet)
    assert status == 1 and err == ""
    assert len(out) <= MAX_PRINT and "more uses of x (not shown)" in out
    assert "the correct value is 4990" in out
    assert peak < 200


def test_a_sheet_near_the_1_mb_cap_is_refused_in_bounded_memory(tmp_path):
    terms = "+".join(["x"] * 4990)
    steps = "\n".join(f's{i} = "{terms}"' for i in range(90))
    sheet = tmp_path / "big.toml"
    sheet.write_text(f'[inputs]\nx = 1\n[graph]\n{steps}\n[answers]\n"ds89/dx" = 1\n', encoding="utf-8")
    assert 0.8e6 < sheet.stat().st_size < MAX_SHEET_BYTES
    status, out, err, peak = gradflow("check", sheet)
    assert status == 2 and "more than 20,000 operations, the most a sheet may have" in err
    assert peak < 200


def test_the_largest_graph_allowed_still_checks_in_bounded_memory(tmp_path):
    terms = "+".join(["x"] * 4000)
    steps = "\n".join(f's{i} = "{terms}"' for i in range(4))
    sheet = tmp_path / "max.toml"
    sheet.write_text(f'[inputs]\nx = 1\n[graph]\n{steps}\nt = "s0*s1*s2*s3"\n[answers]\n"dt/dx" = 1\n', encoding="utf-8")
    status, out, err, peak = gradflow("check", sheet)
    assert status == 1 and len(out) <= MAX_PRINT
    assert peak < 200


def test_answer_keys_are_parsed_in_one_bounded_pass():
    # "d/d/d/…" once took a minute by regex backtracking; now the length cap answers at once.
    problem = parse_key("d/" * 64_000 + "d x", "y", {}, ["x", "y"])
    assert isinstance(problem, str) and f"at most {MAX_KEY}" in problem
    with pytest.raises(SheetError, match="an answer's key is a name or dA/dB"):
        loads(KEY.replace('"dy/dw"', '"' + "d/" * 60 + 'dw"'))


def test_only_regular_files_are_read(tmp_path):
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    with pytest.raises(SheetError, match="is not a regular file"):
        load(link)
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    status, out, err, _ = gradflow("check", fifo, timeout=20)  # would hang if it were opened for reading
    assert status == 2 and "is not a regular file" in err


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + KEY.encode())
    assert load(path).check().ok


def test_answers_keyed_by_none_are_a_clear_error():
    with pytest.raises(SheetError, match=r"answer's key must be a string, got None"):
        loads(KEY).check({None: 1})


def test_a_key_whose_correct_value_is_not_finite_is_refused_naming_the_item():
    with pytest.raises(SheetError, match=r'line 6: answers\."dy/dx": the correct value of dy/dx is inf'):
        loads('[inputs]\nx = 0\n[graph]\ny = "x**0.5 + x"\n[answers]\n"dy/dx" = 1\n')


def test_a_tiny_divisor_is_a_sheet_error_not_a_traceback(tmp_path):
    path = tmp_path / "div.toml"
    path.write_text('[inputs]\nx = 1\nw = 1e-200\n[graph]\ny = "x / w"\n[answers]\ny = 1\n"dy/dw" = 1\n', encoding="utf-8")
    status, out, err, _ = gradflow("check", path)
    assert status == 2 and "Traceback" not in err
    assert 'answers."dy/dw": the correct value of dy/dw is -inf' in err and "change the inputs" in err


def test_too_many_answers_are_refused():
    answers = "\n".join(f'"dy/dw{i}" = 1' for i in range(2001))
    with pytest.raises(SheetError, match="has 2,003 answers; a sheet may have at most 2,000"):
        loads(KEY + answers)


def test_a_hostile_submission_gets_its_row(tmp_path, capsys):
    key = tmp_path / "key.toml"
    key.write_text(KEY, encoding="utf-8")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    (tmp_path / "huge.toml").write_text('student = "h"\n' + "#" * (MAX_SHEET_BYTES + 10), encoding="utf-8")
    (tmp_path / "ok.toml").write_text('student = "ok"\n[answers]\ny = -6\n', encoding="utf-8")
    assert main(["grade", str(key), str(tmp_path / "zero.toml"), str(tmp_path / "huge.toml"), str(tmp_path / "ok.toml")]) == 0
    out = capsys.readouterr().out
    assert "3 submission(s), 1 graded, 2 invalid" in out
    assert "is not a regular file" in out and "a sheet may be at most 1 MB" in out
