"""Agreement and quality measures, on vote-count tables and encoded labels.

- Krippendorff's alpha (nominal) through the ``krippendorff`` package, fed with
  the ``(units, values)`` vote-count table so no coder x unit matrix is built.
- Fleiss' kappa by hand. For a varying number of raters per unit the
  generalisation of Gwet (Handbook of Inter-Rater Reliability; R package irrCAC)
  is used: observed agreement averaged over units with two or more ratings,
  chance agreement from the class shares averaged over the same units (units with a
  single rating are left out, as alpha does). With the
  same number of raters everywhere it is Fleiss (1971) exactly.
- Per class: the same statistics on the table collapsed to "this class / any other"
  (for Fleiss' kappa that is Fleiss' own per-category kappa_j).
- Per operator: accuracy against a reference (gold answers or the consensus),
  agreement with the other operators on the same clips, and confusion matrices.

Undefined values (no unit with two ratings, no variation at all) are ``nan``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .encode import Encoded

__all__ = [
    "binarize",
    "confusion_matrix",
    "fleiss_kappa",
    "fleiss_kappa_per_class",
    "krippendorff_alpha",
    "krippendorff_alpha_per_class",
    "worker_accuracy",
    "worker_confusion",
    "pairwise_agreement",
    "worker_pairwise_agreement",
]


def binarize(counts: np.ndarray, k: int) -> np.ndarray:
    """Collapse a ``(units, classes)`` table to ``(units, 2)``: [class k, any other]."""
    counts = np.asarray(counts)
    yes = counts[:, k]
    return np.stack([yes, counts.sum(axis=1) - yes], axis=1)


def krippendorff_alpha(counts: np.ndarray) -> float:
    """Nominal Krippendorff's alpha of a ``(units, values)`` vote-count table."""
    import krippendorff

    counts = np.asarray(counts)
    counts = counts[counts.sum(axis=1) >= 2]
    if counts.shape[0] == 0 or (counts.sum(axis=0) > 0).sum() < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    return float(value)


def krippendorff_alpha_per_class(counts: np.ndarray) -> np.ndarray:
    """Nominal alpha of every class against the rest, shape ``(classes,)``."""
    counts = np.asarray(counts)
    return np.array([krippendorff_alpha(binarize(counts, k)) for k in range(counts.shape[1])])


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa of a ``(units, classes)`` table (varying raters per unit allowed).

    Units with a single rating are left out (as Krippendorff's alpha does): they carry
    no agreement, and mixed into the chance term they could push kappa below -1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    counts = counts[counts.sum(axis=1) >= 2]
    r = counts.sum(axis=1)
    rated = r >= 1
    pairable = r >= 2
    if not pairable.any():
        return float("nan")
    c2, r2 = counts[pairable], r[pairable]
    p_a = float(np.mean((c2 * (c2 - 1)).sum(axis=1) / (r2 * (r2 - 1))))
    pi = (counts[rated] / r[rated, None]).mean(axis=0)
    p_e = float((pi**2).sum())
    if p_e >= 1.0:
        return float("nan")
    return (p_a - p_e) / (1.0 - p_e)


def fleiss_kappa_per_class(counts: np.ndarray) -> np.ndarray:
    """Fleiss' per-category kappa_j (class against the rest), shape ``(classes,)``."""
    counts = np.asarray(counts)
    return np.array([fleiss_kappa(binarize(counts, k)) for k in range(counts.shape[1])])


def confusion_matrix(
    reference: np.ndarray, given: np.ndarray, n_classes: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """``(n_classes, n_classes)`` counts: rows the reference class, columns the given one.

    Pairs whose reference is ``-1`` (unknown) are skipped.
    """
    reference = np.asarray(reference)
    given = np.asarray(given)
    keep = reference >= 0
    flat = reference[keep] * n_classes + given[keep]
    w = None if weights is None else np.asarray(weights)[keep]
    out = np.bincount(flat, weights=w, minlength=n_classes * n_classes)
    return out.reshape(n_classes, n_classes)


def worker_accuracy(enc: Encoded, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per worker ``(correct, judged)`` against a per-task reference class (``-1`` = skip)."""
    ref = np.asarray(reference)[enc.task]
    judged = ref >= 0
    correct = judged & (ref == enc.label)
    n = enc.n_workers
    return (
        np.bincount(enc.worker, weights=correct, minlength=n).astype(np.int64),
        np.bincount(enc.worker, weights=judged, minlength=n).astype(np.int64),
    )


def worker_confusion(enc: Encoded, reference: np.ndarray) -> np.ndarray:
    """Per worker confusion counts ``(workers, reference class, given class)``."""
    k = enc.n_classes
    ref = np.asarray(reference)[enc.task]
    keep = ref >= 0
    flat = (enc.worker[keep] * k + ref[keep]) * k + enc.label[keep]
    out = np.bincount(flat, minlength=enc.n_workers * k * k)
    return out.reshape(enc.n_workers, k, k)


def pairwise_agreement(counts: np.ndarray) -> float | None:
    """Share of agreeing pairs of labels on the same clip, averaged over clips with ≥ 2."""
    m = counts.sum(axis=1)
    ok = m >= 2
    if not ok.any():
        return None
    c = counts[ok].astype(np.float64)
    per_clip = (c * (c - 1)).sum(axis=1) / (m[ok] * (m[ok] - 1))
    return float(per_clip.mean())


def worker_pairwise_agreement(enc: Encoded, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per worker: how often the *other* labels on the same clips agree with theirs.

    For a label ``y`` on a task with ``n`` labels of which ``c_y`` say ``y`` the
    agreement is ``(c_y - 1) / (n - 1)``; returns ``(mean agreement, labels used)``
    per worker (``nan`` for a worker with no shared clip). Unlike agreement with the
    consensus, a worker's own vote never counts in their favour.
    """
    n_t = counts.sum(axis=1)[enc.task]
    same = counts[enc.task, enc.label]
    shared = n_t >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(shared, (same - 1) / np.maximum(n_t - 1, 1), 0.0)
    total = np.bincount(enc.worker, weights=score, minlength=enc.n_workers)
    used = np.bincount(enc.worker, weights=shared, minlength=enc.n_workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(used > 0, total / np.maximum(used, 1), np.nan)
    return mean, used.astype(np.int64)
