"""Quality scores: top-1 for classifiers, AUC (scikit-learn) for ad01."""

from __future__ import annotations

from statistics import mean
from typing import Any

import numpy as np

from tinygen.benches import METRIC_AUC, Benchmark


def predicted_class(values: list[float]) -> int:
    """Index of the largest probability (the first one on a tie)."""
    return int(np.argmax(np.asarray(values, dtype=np.float64)))


def classifier_scores(labels: list[int], outputs: list[list[float]], classes: int) -> dict[str, Any]:
    """Top-1 and the macro one-vs-rest AUC over the classes seen both ways."""
    if not labels:
        return {"top1": None, "auc": None, "auc_note": "no inferences"}
    preds = [predicted_class(o) for o in outputs]
    top1 = sum(int(p == t) for p, t in zip(preds, labels)) / len(labels)
    probs = np.asarray(outputs, dtype=np.float64)
    truth = np.asarray(labels)
    aucs = []
    for c in range(classes):
        positive = truth == c
        if positive.any() and (~positive).any():
            aucs.append(float(_roc_auc(positive.astype(int), probs[:, c])))
    auc = float(np.mean(aucs)) if aucs else None
    note = None if aucs else "every stimulus has the same class"
    return {"top1": top1, "auc": auc, "auc_note": note, "predictions": preds}


def anomaly_scores(file_labels: dict[str, int], window_scores: dict[str, list[float]]) -> dict[str, Any]:
    """Per-file score = mean of its window scores; AUC over the files."""
    names = [n for n in file_labels if window_scores.get(n)]
    scores = {n: mean(window_scores[n]) for n in names}
    labels = [file_labels[n] for n in names]
    if len(set(labels)) < 2:
        return {"auc": None, "file_scores": scores,
                "auc_note": "needs both normal and anomalous files"}
    auc = float(_roc_auc(labels, [scores[n] for n in names]))
    return {"auc": auc, "file_scores": scores, "auc_note": None}


def target_met(bench: Benchmark, scores: dict[str, Any]) -> bool | None:
    value = scores.get("auc") if bench.metric == METRIC_AUC else scores.get("top1")
    if value is None:
        return None
    return value >= bench.target


def metric_value(bench: Benchmark, scores: dict[str, Any]) -> float | None:
    return scores.get("auc") if bench.metric == METRIC_AUC else scores.get("top1")


def _roc_auc(labels, scores) -> float:
    # scikit-learn costs seconds to import: load it only when scoring, so
    # every command's --help stays instant.
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(labels, scores)
