"""tinygen report: one self-contained HTML page for runs and submission trees.

``collect`` finds the sessions (and profiles) under the paths given and
groups them by system; ``page`` renders them: board, build (flash and RAM by
part), latency windows, accuracy (confusion matrix and per class, or the ROC
curve for ad01), per-layer profile, energy traces, validity and why, and all
benches of a system side by side.
"""

from tinygen.report.collect import Entry, System, collect
from tinygen.report.page import render_report, write_report

__all__ = ["Entry", "System", "collect", "render_report", "write_report"]
