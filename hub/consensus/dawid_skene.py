"""Dawid–Skene: per-operator confusion matrices, class priors, per-task posteriors.

A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer Error-Rates
Using the EM Algorithm", JRSS C 28(1), 1979.

Model: task ``t`` has a hidden true class ``z_t ~ priors``; worker ``w`` answering a
task of class ``k`` says ``y`` with probability ``errors[w, y, k]`` (crowd-kit's
orientation: worker, observed label, true label; each column sums to 1).

EM, fully vectorised: labels are kept sorted by task; the E-step gathers
``log errors`` per label and sums per task with :func:`numpy.bincount` (log space,
max-shifted before ``exp``); the M-step sums posteriors per (worker, observed label)
the same way. Everything works on class-major ``(n_classes, n)`` arrays so that the
reductions over classes run over contiguous rows.

Gold answers are fixed truths: their posterior is one-hot in every iteration.

Two ways to update after new labels arrive:

- ``fit(..., init=previous)``: full EM over all labels, started from the previous
  model's confusion matrices and priors; converges in a few iterations.
- ``partial_fit(new labels)``: incremental EM (Neal & Hinton 1998) restricted to the
  tasks that got new labels: their old contribution to the sufficient statistics is
  taken out, their posteriors and the confusion matrices are re-estimated together,
  and everything else is left as it was. The cost is proportional to the labels on
  the touched tasks, not to the data set. Posteriors of untouched tasks are not
  refreshed, so call ``refit()`` now and then (e.g. nightly) to resync.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np

from .base import Aggregator, one_hot
from .encode import Encoded, encode, factorize, gold_index, vote_counts
from .majority import vote_shares

__all__ = [
    "DawidSkene",
    "e_step",
    "expected_counts",
    "log_prior",
    "m_step",
    "normalize_errors",
    "pseudo_counts",
]

_EPS = 1e-10


# --------------------------------------------------------------------------- pure steps


def pseudo_counts(
    n_classes: int, smoothing: float = 0.0, diagonal_prior: float = 0.0
) -> np.ndarray:
    """Dirichlet pseudo-counts ``(observed, true)`` added to every worker's counts."""
    return np.full((n_classes, n_classes), float(smoothing)) + diagonal_prior * np.eye(n_classes)


def expected_counts(
    task: np.ndarray, wl: np.ndarray, probas_t: np.ndarray, n_wl: int
) -> np.ndarray:
    """Expected confusion counts, ``(n_classes_true, n_workers * n_classes_observed)``.

    ``wl = worker * n_classes + observed label``; ``probas_t`` is class-major
    ``(n_classes, n_tasks)``.
    """
    k = probas_t.shape[0]
    out = np.empty((k, n_wl))
    for c in range(k):
        out[c] = np.bincount(wl, weights=probas_t[c][task], minlength=n_wl)
    return out


def normalize_errors(
    counts_t: np.ndarray, n_workers: int, prior: np.ndarray | None = None
) -> np.ndarray:
    """Class-major counts plus pseudo-counts to ``errors[worker, observed, true]``."""
    k = counts_t.shape[0]
    e = counts_t.reshape(k, n_workers, k).transpose(1, 2, 0)  # worker, observed, true
    if prior is not None:
        e = e + prior
    e = np.maximum(e, _EPS)
    return e / e.sum(axis=1, keepdims=True)


def log_prior(errors: np.ndarray, prior: np.ndarray | None) -> float:
    """Log density (up to a constant) of the Dirichlet pseudo-counts at ``errors``."""
    if prior is None or not prior.any():
        return 0.0
    return float((np.log(errors) * prior).sum())


def m_step(
    task: np.ndarray,
    wl: np.ndarray,
    probas_t: np.ndarray,
    n_workers: int,
    prior: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M-step (MAP with pseudo-counts ``prior``): ``(errors, class priors, counts_t)``."""
    k = probas_t.shape[0]
    counts_t = expected_counts(task, wl, probas_t, n_workers * k)
    errors = normalize_errors(counts_t, n_workers, prior)
    priors = np.maximum(probas_t.mean(axis=1), _EPS) if probas_t.size else np.ones(k)
    return errors, priors / priors.sum(), counts_t


def _log_errors_t(errors: np.ndarray) -> np.ndarray:
    """``errors[w, y, k]`` to ``log`` in class-major ``(k, w * K + y)`` layout."""
    w, k, _ = errors.shape
    return np.ascontiguousarray(np.log(errors).transpose(2, 0, 1).reshape(k, w * k))


def e_step(
    task: np.ndarray,
    wl: np.ndarray,
    errors: np.ndarray,
    priors: np.ndarray,
    n_tasks: int,
    gold: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """E-step: ``(probas_t, log_likelihood)``; ``probas_t`` is ``(n_classes, n_tasks)``.

    The log-likelihood is that of the observed labels (for gold tasks: joint with
    their gold class). EM never lowers it (plus the log prior), which is the
    convergence test.
    """
    log_e = _log_errors_t(errors)
    log_p = np.log(priors)
    k = errors.shape[2]
    joint = np.empty((k, n_tasks))
    for c in range(k):
        joint[c] = np.bincount(task, weights=log_e[c][wl], minlength=n_tasks)
        joint[c] += log_p[c]
    has = np.flatnonzero(gold >= 0) if gold is not None else np.zeros(0, dtype=np.int64)
    gold_ll = float(joint[gold[has], has].sum()) if has.size else 0.0
    top = joint.max(axis=0) if n_tasks else np.zeros(0)
    joint -= top
    np.exp(joint, out=joint)
    total = joint.sum(axis=0)
    joint /= total
    ll_rows = np.log(total) + top
    if has.size:
        assert gold is not None
        ll_rows[has] = 0.0
        joint[:, has] = 0.0
        joint[gold[has], has] = 1.0
    return joint, float(ll_rows.sum()) + gold_ll


# --------------------------------------------------------------------------- aggregator


class DawidSkene(Aggregator):
    """Dawid–Skene EM aggregator.

    Parameters:

    - ``n_iter``: maximum number of EM iterations.
    - ``tol``: stop when the objective (mean log-likelihood per label plus the log
      prior) improves by less; the same scale as crowd-kit's ``tol``.
    - ``diagonal_prior``: Dirichlet pseudo-count on the diagonal of every operator's
      confusion matrix: each operator is taken to have answered every class
      correctly this many times before. It keeps operators with few labels from
      being fitted to noise (MAP instead of maximum likelihood).
    - ``smoothing``: pseudo-count added to every cell.

    ``DawidSkene(diagonal_prior=0)`` is plain maximum likelihood, the model
    crowd-kit fits. The defaults were checked on the truth-inference data (see
    ``tests/hub/consensus``): run to convergence, the plain model overfits the many
    operators with a handful of labels (S_Rel, S_Adult).

    Fitted: ``tasks_``, ``workers_``, ``classes_``, ``probas_`` ``(n_tasks, K)``,
    ``labels_``, ``label_index_``, ``errors_`` ``(n_workers, K, K)`` =
    P(observed | true), ``priors_`` ``(K,)``, ``n_iter_``, ``loss_history_``
    (objective per label after each E-step).
    """

    errors_: np.ndarray
    priors_: np.ndarray
    n_iter_: int
    loss_history_: list[float]

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-5,
        diagonal_prior: float = 1.0,
        smoothing: float = 0.0,
    ) -> None:
        if n_iter < 1:
            raise ValueError("n_iter must be >= 1")
        if diagonal_prior < 0 or smoothing < 0:
            raise ValueError("diagonal_prior and smoothing must be >= 0")
        self.n_iter = n_iter
        self.tol = tol
        self.diagonal_prior = diagonal_prior
        self.smoothing = smoothing

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        task_ids: Sequence[object],
        worker_ids: Sequence[object],
        labels: Sequence[object],
        classes: Sequence[str] | None = None,
        gold: Mapping[str, str] | None = None,
        init: DawidSkene | None = None,
    ) -> Self:
        """Fit on long-format labels.

        ``gold`` maps task id to its known answer (fixed in every iteration).
        ``init`` is a fitted model to warm-start from: its confusion matrices
        (matched by worker id; unseen workers start from the mean matrix) and class
        priors replace the majority-vote start. Without ``classes`` a warm start
        reuses ``init.classes_``.
        """
        if classes is None and init is not None:
            classes = init.classes_
        enc = encode(task_ids, worker_ids, labels, classes)
        return self.fit_encoded(enc, gold_index(enc, gold), init=init)

    def fit_encoded(
        self, enc: Encoded, gold: np.ndarray | None = None, init: DawidSkene | None = None
    ) -> Self:
        k, n_w, n_t = enc.n_classes, enc.n_workers, enc.n_tasks
        if gold is None:
            gold = np.full(n_t, -1, dtype=np.int64)
        warm = _warm_start(init, enc) if init is not None else None
        self._set_vocab(enc)
        order = np.argsort(enc.task, kind="stable")
        task = enc.task[order]
        worker = enc.worker[order]
        label = enc.label[order]
        wl = worker * k + label
        n = max(len(task), 1)
        prior = pseudo_counts(k, self.smoothing, self.diagonal_prior)

        history: list[float] = []
        if warm is None:
            probas_t = np.ascontiguousarray(vote_shares(vote_counts(enc).astype(np.float64)).T)
            if (gold >= 0).any():
                has = np.flatnonzero(gold >= 0)
                probas_t[:, has] = 0.0
                probas_t[gold[has], has] = 1.0
        else:
            errors, priors = warm
            probas_t, ll = e_step(task, wl, errors, priors, n_t, gold)
            history.append((ll + log_prior(errors, prior)) / n)

        iterations = 0
        while iterations < self.n_iter:
            iterations += 1
            errors, priors, _ = m_step(task, wl, probas_t, n_w, prior)
            probas_t, ll = e_step(task, wl, errors, priors, n_t, gold)
            history.append((ll + log_prior(errors, prior)) / n)
            if len(history) > 1 and history[-1] - history[-2] < self.tol:
                break
        errors, priors, counts_t = m_step(task, wl, probas_t, n_w, prior)

        self.n_iter_ = iterations
        self.loss_history_ = history
        self.errors_ = errors
        self.priors_ = priors
        self._set_labels(np.ascontiguousarray(probas_t.T))
        # state for partial_fit / refit
        self._probas_t = probas_t
        self._counts_t = counts_t
        self._task = task
        self._worker = worker
        self._label = label
        self._gold = gold
        self._task_pos: dict[str, int] | None = None
        self._worker_pos: dict[str, int] | None = None
        return self

    def refit(self) -> Self:
        """Full EM over every label seen so far, warm-started from the current fit."""
        self._check_fitted()
        enc = Encoded(
            list(self.tasks_),
            list(self.workers_),
            list(self.classes_),
            self._task,
            self._worker,
            self._label,
        )
        return self.fit_encoded(enc, self._gold.copy(), init=self)

    def partial_fit(
        self,
        task_ids: Sequence[object],
        worker_ids: Sequence[object],
        labels: Sequence[object],
        gold: Mapping[str, str] | None = None,
        n_iter: int = 50,
        tol: float = 1e-6,
    ) -> Self:
        """Add labels and update only the tasks they touch (incremental EM).

        New tasks and workers are appended to ``tasks_`` / ``workers_`` (sorted
        among themselves); the classes are fixed by the first fit. ``gold`` may
        name new or existing tasks (gold for tasks with no labels is ignored).
        Iterates until no touched posterior moves more than ``tol``.
        """
        self._check_fitted()
        k = len(self.classes_)
        n_new = len(task_ids)
        if len(worker_ids) != n_new or len(labels) != n_new:
            raise ValueError("task_ids, worker_ids and labels differ in length")
        label_new, _ = factorize(labels, self.classes_)
        task_new = self._extend(task_ids, "task")
        worker_new = self._extend(worker_ids, "worker")
        n_t, n_w = len(self.tasks_), len(self.workers_)
        prior = pseudo_counts(k, self.smoothing, self.diagonal_prior)

        # grow the state for new tasks and workers (worker-major layout: append only)
        old_t = self._probas_t.shape[1]
        old_wl = self._counts_t.shape[1]
        probas_t = np.empty((k, n_t))
        probas_t[:, :old_t] = self._probas_t
        probas_t[:, old_t:] = 1.0 / k
        counts_t = np.zeros((k, n_w * k))
        counts_t[:, :old_wl] = self._counts_t
        gold_before = np.full(n_t, -1, dtype=np.int64)
        gold_before[:old_t] = self._gold
        goldv = gold_before.copy()
        if gold:
            cls = {c: i for i, c in enumerate(self.classes_)}
            pos = self._positions("task")
            for t, answer in gold.items():
                if str(t) in pos:
                    if str(answer) not in cls:
                        raise ValueError(f"gold answer {answer!r} for task {t!r} is not a class")
                    goldv[pos[str(t)]] = cls[str(answer)]

        n_old = len(self._task)
        task_all = np.concatenate([self._task, task_new])
        worker_all = np.concatenate([self._worker, worker_new])
        label_all = np.concatenate([self._label, label_new])

        touched = np.zeros(n_t, dtype=bool)
        touched[task_new] = True
        touched |= goldv != gold_before
        affected = np.flatnonzero(touched)
        m = len(affected)
        sel = np.flatnonzero(touched[task_all])
        sel_old = sel[sel < n_old]
        local = np.full(n_t, -1, dtype=np.int64)
        local[affected] = np.arange(m)
        s_task = local[task_all[sel]]
        s_wl = worker_all[sel] * k + label_all[sel]

        # take the touched tasks' old contribution out of the sufficient statistics
        p_old = probas_t[:, affected]
        so_task = local[task_all[sel_old]]
        so_wl = worker_all[sel_old] * k + label_all[sel_old]
        counts_rest = counts_t - expected_counts(so_task, so_wl, p_old, n_w * k)
        class_rest = probas_t.sum(axis=1) - p_old.sum(axis=1)

        # touched tasks start from their old posterior; new tasks from vote shares
        p_a = p_old.copy()
        fresh = affected >= old_t
        if fresh.any():
            votes = np.zeros((m, k))
            np.add.at(votes, (s_task, label_all[sel]), 1.0)
            p_a[:, fresh] = vote_shares(votes[fresh]).T
        g_a = goldv[affected]
        if (g_a >= 0).any():
            p_a[:, g_a >= 0] = one_hot(g_a[g_a >= 0], k).T

        for _ in range(n_iter):
            counts = counts_rest + expected_counts(s_task, s_wl, p_a, n_w * k)
            errors = normalize_errors(counts, n_w, prior)
            priors = np.maximum((class_rest + p_a.sum(axis=1)) / max(n_t, 1), _EPS)
            new_p, _ = e_step(s_task, s_wl, errors, priors / priors.sum(), m, g_a)
            delta = float(np.abs(new_p - p_a).max()) if m else 0.0
            p_a = new_p
            if delta < tol:
                break
        counts_t = counts_rest + expected_counts(s_task, s_wl, p_a, n_w * k)
        probas_t[:, affected] = p_a

        self._probas_t = probas_t
        self._counts_t = counts_t
        self._task, self._worker, self._label = task_all, worker_all, label_all
        self._gold = goldv
        self.errors_ = normalize_errors(counts_t, n_w, prior)
        priors = np.maximum(probas_t.mean(axis=1), _EPS)
        self.priors_ = priors / priors.sum()
        self._set_labels(np.ascontiguousarray(probas_t.T))
        return self

    # ------------------------------------------------------------------ helpers

    def _check_fitted(self) -> None:
        if not hasattr(self, "_probas_t"):
            raise RuntimeError("DawidSkene is not fitted yet: call fit() first")

    def _positions(self, kind: str) -> dict[str, int]:
        if kind == "task":
            if self._task_pos is None:
                self._task_pos = {t: i for i, t in enumerate(self.tasks_)}
            return self._task_pos
        if self._worker_pos is None:
            self._worker_pos = {w: i for i, w in enumerate(self.workers_)}
        return self._worker_pos

    def _extend(self, ids: Sequence[object], kind: str) -> np.ndarray:
        """Codes for ids, appending unseen ids (sorted) to a new vocabulary list."""
        pos = self._positions(kind)
        vocab = list(self.tasks_ if kind == "task" else self.workers_)
        for v in sorted({str(v) for v in ids} - pos.keys()):
            pos[v] = len(vocab)
            vocab.append(v)
        if kind == "task":
            self.tasks_ = vocab
        else:
            self.workers_ = vocab
        return np.fromiter((pos[str(v)] for v in ids), dtype=np.int64, count=len(ids))


def _warm_start(init: DawidSkene, enc: Encoded) -> tuple[np.ndarray, np.ndarray]:
    """Confusion matrices and class priors for ``enc``'s workers from a fitted model."""
    if not hasattr(init, "errors_"):
        raise ValueError("init model is not fitted")
    if list(init.classes_) != list(enc.classes):
        raise ValueError(f"init model classes {init.classes_} differ from {enc.classes}")
    k = enc.n_classes
    prev = {w: i for i, w in enumerate(init.workers_)}
    mean = init.errors_.mean(axis=0) if len(init.workers_) else np.full((k, k), 1.0 / k)
    errors = np.empty((enc.n_workers, k, k))
    for j, w in enumerate(enc.workers):
        i = prev.get(w)
        errors[j] = mean if i is None else init.errors_[i]
    return errors, init.priors_.copy()
