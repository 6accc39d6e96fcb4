"""Fuzzing the `gradflow` command: no argument list gives a traceback or a hang (issue 13).

Every subcommand the parser has is fuzzed (new ones too, once they register):
argument lists built from its own options and choices, values at and past the
edges (huge, negative, NaN, empty, NUL, non-ASCII) and random text. ``main``
runs in-process with captured output: it may return or exit, with status 0, 1
or 2 and, for a usage error (2), one short line on stderr; any other exception, or
an example running past ``HANG`` seconds, fails the test. GRADFLOW_FUZZ_EXAMPLES
sets the examples per subcommand (default 25; run 1,000 by hand now and then).
"""

import argparse
import contextlib
import io
import os
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from viz import cli

SHEETS = Path(__file__).resolve().parents[1] / "notebooks" / "sheets"
EXAMPLES = int(os.environ.get("GRADFLOW_FUZZ_EXAMPLES", "25"))
# The usage errors of viz/cli.py's own subcommands and of the parser are one short line;
# other modules' subcommands are held to no traceback and no hang.
OWN = {"demo", "draw", "train"}
HANG = 60  # seconds; the slowest valid example here (the demo with its plots) takes about 3

EDGES = [
    "", " ", "-", "--", "-1", "0", "1", "2", "3", "4", "0.5", "-0", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf",
    "99999999999999999999", "100000000000", "9" * 400, "1_000", "0x10", "1,,1", ",", "0,1", "-3,4", "16,16", "2,2,2",
    "x", "x=2", "x=", "=2", "w=-1", "x=1e308", "y=1e-200", "x=nan", "x*x", "x/y", "-x*w", "relu(w*x + b)", "log(x)",
    "x**1000", "(" * 100, "__import__('os')", "a" * 300, "é", "∂y/∂x", "line\nbreak", "nul\x00l", "\udcff",
    "out.svg", "out.dot", "out.png", "steps.html", "steps.gif", "sub/dir/x.svg", "/dev/null/x.dot", "/proc/x",
    "sheet.toml", "moons", "digits", "--help", "-h",
    *sorted(str(p) for p in SHEETS.glob("*.toml"))[:2],  # real exercise sheets, for the commands that read one
]


def _subcommands():
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def _words(subparser):
    # The subcommand's own vocabulary: option strings and the values of its choices.
    words = []
    for action in subparser._actions:
        words += [s for s in action.option_strings if s not in ("-h", "--help")]
        words += [str(c) for c in action.choices or ()]
    return words


PLAUSIBLE = {int: ["1", "2", "3", "4", "5", "8"], float: ["0.01", "0.1", "1"],
             None: ["x=2", "w=-1", "b=1", "x", "w", "x*x", "relu(w*x + b)", "16,16", "4,4", "out.svg", "out.dot",
                    "steps.html"]}


def _value(action):
    # Two parts in three a value of the option's kind (a choice, a small number, a name=value), else an edge.
    likely = [str(c) for c in action.choices] if action.choices else PLAUSIBLE.get(action.type, PLAUSIBLE[None])
    edge = st.one_of(st.sampled_from(EDGES), st.text(max_size=12))
    return st.one_of(st.sampled_from(likely), st.sampled_from(likely), edge)


def _arguments(name):
    # Shaped like a command line so that many examples parse and reach the work itself:
    # the positionals (each may be left out), options with values of their kind, then stray tokens.
    actions = [a for a in _subcommands()[name]._actions if not isinstance(a, argparse._HelpAction)]
    positionals = [st.one_of(_value(a).map(lambda v: [v]), _value(a).map(lambda v: [v]), st.just([]))
                   for a in actions if not a.option_strings]
    options = [st.tuples(st.sampled_from(a.option_strings), _value(a)).map(list) if a.nargs != 0
               else st.just(a.option_strings[:1]) for a in actions if a.option_strings]
    stray = st.one_of(st.just([]), st.just([]), st.lists(
        st.one_of(st.sampled_from(EDGES + _words(_subcommands()[name])), st.text(max_size=12)), min_size=1, max_size=2))
    parts = st.tuples(st.tuples(*positionals), st.lists(st.one_of(options) if options else st.nothing(), max_size=4),
                      stray)
    return parts.map(lambda p: [a for group in (*p[0], *p[1], p[2]) for a in group])


class Hang(Exception):
    pass


def _stop(signum, frame):
    raise Hang(f"an example ran past {HANG} seconds")


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _stop)
    signal.alarm(HANG)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(argv)
            except SystemExit as e:
                status = e.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    # Output files and folders the examples ask for land here, not in the checkout.
    folder = tmp_path_factory.mktemp("fuzz")
    old = os.getcwd()
    os.chdir(folder)
    yield folder
    os.chdir(old)


@pytest.fixture(autouse=True)
def no_windows(monkeypatch):
    pytest.importorskip("matplotlib").use("Agg")


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_no_argument_list_gives_a_traceback_or_a_hang(name, workdir):
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(_arguments(name))
    def check(args):
        # Outputs stay in the work folder: no absolute path of our making, no way up.
        assume(all(a in EDGES or not a.startswith(("/", "~")) for a in args) and not any(".." in a for a in args))
        argv = [name, *args]
        status, out, err = _run(argv)
        assert status in (0, 1, 2, None), (argv, status, err)
        if status == 2 and (name in OWN or "error:" in err):
            assert len(err.strip().splitlines()) == 1, (argv, err)
            assert len(err) < 1000, (argv, len(err))

    check()


def test_the_fuzzer_sees_every_subcommand_and_their_options():
    names = _subcommands()
    assert {"demo", "draw", "train", "check"} <= set(names)
    assert {"--samples", "--hidden", "--lr", "--seed", "moons"} <= set(_words(names["train"]))
