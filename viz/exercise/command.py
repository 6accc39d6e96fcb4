"""The grader's old entry point, kept for the code that imports it (notebook 07, benchmarks/bench_grade.py,
an installed ``gradflow`` script made before the move): ``main`` is ``viz.cli.main``, the one parser of every
``gradflow`` subcommand, where check, grade and handout now live.

Nothing in gradflow imports this module, so it closes no import cycle; new code imports ``viz.cli``.
"""

from ..cli import MAX_PRINT, bounded, main

__all__ = ["main", "MAX_PRINT", "bounded"]
