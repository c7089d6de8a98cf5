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
  the touched tasks, not to the data set. Posteriors of untouched tasks are only
  refreshed when the stored new labels pass a quarter of the data (one full E-step
  then, amortised), so call ``refit()`` now and then (e.g. nightly) to resync fully.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Self

import numpy as np
from scipy.special import gammaln

from .base import Aggregator, argmax_ties_low, one_hot
from .encode import Encoded, encode, factorize, gold_index, vote_counts
from .majority import vote_shares
from .sampling import sample_posterior

__all__ = [
    "DawidSkene",
    "e_step",
    "expected_counts",
    "log_prior",
    "m_step",
    "normalize_errors",
    "class_priors",
    "pseudo_counts",
    "pool_strength",
    "predictive_e_step",
    "even_splits",
    "pooled_columns",
]

_EPS = 1e-10

#: Up to this many labels :class:`DawidSkene` samples the clip posteriors (see
#: :mod:`.sampling`); above it the operators have enough labels for the EM point
#: estimate to be calibrated, and sampling would cost seconds.
SAMPLE_LIMIT = 50_000

#: ... and only while operators have fewer labels than this on average: past that the
#: EM point estimate is calibrated well enough, and (measured on the Dog set, 74 labels
#: per operator, 4 classes) the pooled model would cost accuracy.
SAMPLE_BELOW = 50

#: Once operators have this many labels on average, EM runs on to ``tol_converged``.
#: Binary crowds, 3 votes per clip (benchmarks/RESULTS-consensus.md): with 3,000 and
#: 30,000 labels per operator, EM stopped at ``tol=1e-5`` is under-confident (ECE 0.008
#: and 0.018; converged 0.003, as crowd-kit); with 300 to 1,000 labels per operator the
#: early stop is the better calibrated one (e.g. 0.0065 against 0.0086 converged, 2,000
#: clips over 20 seeds) and converging would double the 1M-label fit (1,000 labels per
#: operator: 21 iterations instead of 8, same accuracy).
CONVERGE_FROM = 2_000

#: The model counts as identified for a clip (see :meth:`DawidSkene.overlap_confidence`)
#: once every operator on it has this many labels and every class this many clips.
MIN_OPERATOR_LABELS = 20
MIN_CLASS_CLIPS = 5.0

#: Up to this many labels :func:`predictive_e_step` takes each clip's share out of the
#: pooled column exactly; above it a clip's share of the pool is negligible and the
#: table form (as fast as an E-step) is used.
PREDICTIVE_EXACT_UPTO = 100_000

#: Strengths (labels' worth of the pooled confusion column) :func:`pool_strength` chooses
#: from: factors of sqrt(2) from a quarter label (operators differ a lot) to 4,096
#: (operators indistinguishable).
STRENGTH_GRID = np.geomspace(0.25, 4096.0, 29)

#: ... the largest one whose marginal likelihood is within this many nats of the best:
#: where the data hardly prefer operators that differ (e.g. nobody has erred on a class
#: yet, and the likelihood is nearly flat), the operators count as alike.
STRENGTH_SLACK = 1.0


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
    counts_t: np.ndarray,
    n_workers: int,
    prior: np.ndarray | None = None,
    pool: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Class-major counts plus pseudo-counts to ``errors[worker, observed, true]``.

    ``pool``: every operator also gets ``pool`` labels' worth per true class of the
    pooled confusion matrix (all operators' counts, plus one per cell, columns normalised):
    an operator never seen to err gets the crowd's error rate in small measure instead of
    an error rate of 0, which would make any split between such operators read as certain.
    ``pool`` may also be one value per true class (see :func:`pool_strength`).
    """
    k = counts_t.shape[0]
    e = counts_t.reshape(k, n_workers, k).transpose(1, 2, 0)  # worker, observed, true
    if prior is not None:
        e = e + prior
    if np.any(np.asarray(pool) > 0):  # a number, or one per true class
        e = e + np.asarray(pool, dtype=np.float64) * pooled_columns(counts_t, n_workers)
    e = np.maximum(e, _EPS)
    return e / e.sum(axis=1, keepdims=True)


def pooled_columns(counts_t: np.ndarray, n_workers: int) -> np.ndarray:
    """The crowd's pooled confusion matrix ``(observed, true)``: all operators' expected
    counts plus one per cell, columns normalised."""
    k = counts_t.shape[0]
    pooled = counts_t.reshape(k, n_workers, k).sum(axis=1).T + 1.0
    return pooled / pooled.sum(axis=0, keepdims=True)


def pool_strength(counts_t: np.ndarray, n_workers: int) -> np.ndarray:
    """Per true class, how alike the operators are: the strength ``s`` (labels' worth)
    of a Dirichlet prior ``s x`` the pooled confusion column on every operator's column
    that makes the operators' expected counts most likely (type-II maximum likelihood of
    the Dirichlet-multinomial, searched over ``STRENGTH_GRID``; ties within
    ``STRENGTH_SLACK`` nats go to the larger strength).

    Small when operators differ (each one's own counts decide), large when their counts
    could all come from the pooled matrix: then an operator seen to err once in 60
    labels and one never seen to err are not told apart, as the data cannot tell them
    apart either.
    """
    k = counts_t.shape[0]
    counts = counts_t.reshape(k, n_workers, k)  # true, worker, observed
    col = pooled_columns(counts_t, n_workers).T[:, None, :]  # true, 1, observed
    n = counts.sum(axis=2)
    used = n > 0
    ll = np.empty((len(STRENGTH_GRID), k))
    for i, strength in enumerate(STRENGTH_GRID):
        a = strength * col
        rows = gammaln(strength) - gammaln(strength + n)
        rows += (gammaln(a + counts) - gammaln(a)).sum(axis=2)
        ll[i] = np.where(used, rows, 0.0).sum(axis=1)
    near_best = ll >= ll.max(axis=0) - STRENGTH_SLACK
    return STRENGTH_GRID[len(STRENGTH_GRID) - 1 - np.argmax(near_best[::-1], axis=0)]


def log_prior(errors: np.ndarray, prior: np.ndarray | None) -> float:
    """Log density (up to a constant) of the Dirichlet pseudo-counts at ``errors``."""
    if prior is None or not prior.any():
        return 0.0
    return float((np.log(errors) * prior).sum())


def class_priors(class_totals: np.ndarray, class_prior: float = 0.0) -> np.ndarray:
    """Class distribution from the expected clips per class plus ``class_prior``
    pseudo-clips per class (the posterior mean under a Dirichlet prior). With a
    pseudo-count a class never gets probability 0, however few clips there are."""
    priors = np.maximum(np.asarray(class_totals, dtype=np.float64) + class_prior, _EPS)
    return priors / priors.sum()


def m_step(
    task: np.ndarray,
    wl: np.ndarray,
    probas_t: np.ndarray,
    n_workers: int,
    prior: np.ndarray | None = None,
    class_prior: float = 0.0,
    pool: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M-step (MAP with pseudo-counts ``prior`` and ``pool``, see
    :func:`normalize_errors`): ``(errors, class priors, counts_t)``."""
    k = probas_t.shape[0]
    counts_t = expected_counts(task, wl, probas_t, n_workers * k)
    errors = normalize_errors(counts_t, n_workers, prior, pool)
    totals = probas_t.sum(axis=1) if probas_t.size else np.ones(k)
    return errors, class_priors(totals, class_prior), counts_t


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
    return _normalised(joint, gold)


def _normalised(joint: np.ndarray, gold: np.ndarray | None) -> tuple[np.ndarray, float]:
    """Per-task log joint ``(n_classes, n_tasks)`` to posteriors (in place; gold tasks
    one-hot) and the log-likelihood of the labels."""
    n_tasks = joint.shape[1]
    has = np.flatnonzero(gold >= 0) if gold is not None else np.zeros(0, dtype=np.int64)
    gold_ll = float(joint[gold[has], has].sum()) if gold is not None and has.size else 0.0
    top = joint.max(axis=0) if n_tasks else np.zeros(0)
    joint -= top
    np.exp(joint, out=joint)
    total = joint.sum(axis=0)
    joint /= total
    ll_rows = np.log(total) + top
    if gold is not None and has.size:
        ll_rows[has] = 0.0
        joint[:, has] = 0.0
        joint[gold[has], has] = 1.0
    return joint, float(ll_rows.sum()) + gold_ll


def even_splits(task: np.ndarray, label: np.ndarray, n_tasks: int, n_classes: int) -> np.ndarray:
    """Per clip: do its two most frequent answers have the same number of votes?"""
    votes = np.bincount(task * n_classes + label, minlength=n_tasks * n_classes)
    votes = votes.reshape(n_tasks, n_classes)
    top = votes.max(axis=1, initial=0)
    return (top > 0) & ((votes == top[:, None]).sum(axis=1) >= 2)


def predictive_e_step(
    task: np.ndarray,
    wl: np.ndarray,
    counts_t: np.ndarray,
    probas_t: np.ndarray,
    prior: np.ndarray,
    strength: np.ndarray,
    priors: np.ndarray,
    gold: np.ndarray | None = None,
    held_out: np.ndarray | None = None,
) -> np.ndarray:
    """Clip posteriors ``(n_classes, n_tasks)`` with every operator's confusion column
    at its posterior mean under a hierarchical prior: the operator's expected counts
    (``counts_t``, as :func:`expected_counts`) plus the pseudo-counts ``prior[observed,
    true]`` plus ``strength[true]`` labels' worth of the pooled column of the *other*
    clips (the clip's own share ``probas_t`` taken out of the pool).

    Taking the clip out of the pool matters for a tie in a small, clean crowd: counted
    in, the side the fit leans to makes the pool's error rate for that side look
    higher, which makes the lean look surer. Taking it out of the operators' own counts
    too was measured to cost accuracy (Dog -0.6 pp, S_Adult -0.6 pp), except for the
    clips in ``held_out`` (e.g. :func:`even_splits`): those are judged on the operators'
    record on all other clips, so that ties that share operators do not make each
    other look sure (the fit leans them all the same way, and then every operator on
    the other side looks wrong on each of them).
    """
    k, n_tasks = probas_t.shape
    joint = _predictive_joint(task, wl, counts_t, probas_t, prior, strength, n_tasks)
    if held_out is not None and held_out.any():
        rows = held_out[task]
        h_task, h_wl = task[rows], wl[rows]
        apart = counts_t - expected_counts(h_task, h_wl, probas_t, counts_t.shape[1])
        apart = np.maximum(apart, 0.0)
        h_joint = _predictive_joint(h_task, h_wl, apart, None, prior, strength, n_tasks)
        joint[:, held_out] = h_joint[:, held_out]
    joint += np.log(priors)[:, None]
    return _normalised(joint, gold)[0]


def _predictive_joint(
    task: np.ndarray,
    wl: np.ndarray,
    counts_t: np.ndarray,
    probas_t: np.ndarray | None,
    prior: np.ndarray,
    strength: np.ndarray,
    n_tasks: int,
) -> np.ndarray:
    """Per class and clip, the log-probability of the clip's labels (see
    :func:`predictive_e_step`); ``probas_t``: each clip's share to take out of the pool
    (None: nothing to take out)."""
    k = counts_t.shape[0]
    n_w = counts_t.shape[1] // k
    totals = counts_t.reshape(k, n_w, k).sum(axis=2)  # true, worker
    pooled = counts_t.reshape(k, n_w, k).sum(axis=1) + 1.0  # true, observed
    column = prior.sum(axis=0) + strength
    joint = np.empty((k, n_tasks))
    if probas_t is None or len(task) > PREDICTIVE_EXACT_UPTO:
        # one table per class over (operator, answer), as in e_step
        share = pooled / pooled.sum(axis=1, keepdims=True)
        for c in range(k):
            num = counts_t[c].reshape(n_w, k) + prior[:, c] + strength[c] * share[c]
            table = np.log(np.maximum(num, _EPS) / (totals[c] + column[c])[:, None])
            joint[c] = np.bincount(task, weights=table.ravel()[wl], minlength=n_tasks)
        return joint
    observed = wl % k
    worker = wl // k
    for c in range(k):
        own = probas_t[c][task] if probas_t is not None else 0.0
        pool = strength[c] * (pooled[c][observed] - own) / (pooled[c].sum() - own)
        num = np.maximum(counts_t[c][wl] + prior[observed, c] + pool, _EPS)
        den = totals[c][worker] + column[c]
        joint[c] = np.bincount(task, weights=np.log(num / den), minlength=n_tasks)
    return joint


# --------------------------------------------------------------------------- aggregator


class DawidSkene(Aggregator):
    """Dawid–Skene EM aggregator.

    Parameters:

    - ``n_iter``: maximum number of EM iterations.
    - ``tol``: stop when the objective (mean log-likelihood per label plus the log
      prior) improves by less; the same scale as crowd-kit's ``tol``.
    - ``tol_converged``: the (smaller) ``tol`` used once operators average
      ``CONVERGE_FROM`` labels or more, where running EM to convergence is what makes
      the confidence calibrated.
    - ``diagonal_prior``: Dirichlet pseudo-count on the diagonal of every operator's
      confusion matrix: each operator is taken to have answered every class
      correctly this many times before. It keeps operators with few labels from
      being fitted to noise (MAP instead of maximum likelihood).
    - ``smoothing``: pseudo-count added to every cell.
    - ``pool_prior``: labels' worth per true class of the pooled confusion matrix added
      to every operator's counts (empirical Bayes; see :func:`normalize_errors`): an
      operator with no observed error no longer gets an error rate of ~0, so a 2:2
      split between such operators and one seen to err does not read as certain.
    - ``predictive``: the clip posteriors of the EM path (not sampled) come from one more
      E-step with every operator's confusion matrix taken as its posterior mean under a
      hierarchical prior: the pooled matrix with the strength :func:`pool_strength`
      fits to the data (``strength_``, one per true class). Where the crowd's operators
      cannot be told apart (e.g. all right but one, seen to err once) a split between
      them reads near 0.5, not as certain; where they differ little changes. The
      confusion matrices (``errors_``) stay the MAP-EM ones.
    - ``class_prior``: Dirichlet pseudo-clips per class for the class distribution,
      so that no class gets probability 0 on a handful of clips (which would make
      a 1:1 split read as certain).
    - ``sample_limit``: up to this many labels, and while operators have fewer than
      ``SAMPLE_BELOW`` labels on average, the clip posteriors come from
      :func:`~hub.consensus.sampling.sample_posterior` (hierarchical model, blocked
      Gibbs sampling started from the EM answer) instead of the EM point estimate:
      calibrated while operators have few labels. ``0`` switches sampling off.
      ``strength``, ``sweeps``, ``burn_in`` and ``seed`` go to the sampler
      (``strength``: labels' worth of the pooled operator model each operator
      starts from).

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
        tol_converged: float = 1e-7,
        diagonal_prior: float = 1.0,
        smoothing: float = 0.0,
        class_prior: float = 4.0,
        pool_prior: float = 1.0,
        predictive: bool = True,
        sample_limit: int = SAMPLE_LIMIT,
        strength: float = 16.0,
        sweeps: int = 1200,
        burn_in: int = 200,
        seed: int = 0,
    ) -> None:
        if n_iter < 1:
            raise ValueError("n_iter must be >= 1")
        if min(diagonal_prior, smoothing, class_prior, pool_prior) < 0:
            raise ValueError("diagonal_prior, smoothing, class_prior and pool_prior must be >= 0")
        if strength <= 0 or not 0 <= burn_in < sweeps:
            raise ValueError("need strength > 0 and 0 <= burn_in < sweeps")
        self.class_prior = class_prior
        self.pool_prior = pool_prior
        self.predictive = predictive
        self.sample_limit = sample_limit
        self.strength = strength
        self.sweeps = sweeps
        self.burn_in = burn_in
        self.seed = seed
        self.n_iter = n_iter
        self.tol = tol
        self.tol_converged = tol_converged
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

        tol = self.tol
        if len(task) >= CONVERGE_FROM * n_w:
            tol = min(tol, self.tol_converged)
        iterations = 0
        while iterations < self.n_iter:
            iterations += 1
            errors, priors, _ = m_step(
                task, wl, probas_t, n_w, prior, self.class_prior, self.pool_prior
            )
            probas_t, ll = e_step(task, wl, errors, priors, n_t, gold)
            history.append((ll + log_prior(errors, prior)) / n)
            if len(history) > 1 and history[-1] - history[-2] < tol:
                break
        self.sampled_ = 0 < len(task) <= self.sample_limit and len(task) < SAMPLE_BELOW * n_w
        if self.sampled_:
            probas = sample_posterior(
                task,
                worker,
                label,
                n_t,
                n_w,
                k,
                argmax_ties_low(probas_t.T),
                gold,
                class_prior=self.class_prior,
                strength=self.strength,
                diagonal_prior=self.diagonal_prior,
                sweeps=self.sweeps,
                burn_in=self.burn_in,
                seed=self.seed,
            )
            probas_t = np.ascontiguousarray(probas.T)
        self.strength_: np.ndarray | None = None
        if self.predictive and not self.sampled_ and len(task):
            probas_t = self._predictive(task, wl, probas_t, n_w, prior, priors, gold)
        errors, priors, counts_t = m_step(
            task, wl, probas_t, n_w, prior, self.class_prior, self.pool_prior
        )

        self.n_iter_ = iterations
        self.loss_history_ = history
        self.errors_ = errors
        self.priors_ = priors
        # state for partial_fit / refit: buffers with spare room to grow in place
        self._n_t = n_t
        self._pbuf = probas_t
        self._counts_t = counts_t
        self._class_totals = probas_t.sum(axis=1)
        self._store = _LabelStore(task, worker, label, n_t)
        self._worker_n = np.bincount(worker, minlength=n_w)
        self._gold_buf = gold.copy()
        self._task_pos: dict[str, int] | None = None
        self._worker_pos: dict[str, int] | None = None
        self._index_buf = argmax_ties_low(probas_t.T)
        self._labels_buf = np.asarray(self.classes_, dtype=object)[self._index_buf]
        self._expose()
        return self

    def _predictive(
        self,
        task: np.ndarray,
        wl: np.ndarray,
        probas_t: np.ndarray,
        n_w: int,
        prior: np.ndarray,
        priors: np.ndarray,
        gold: np.ndarray,
    ) -> np.ndarray:
        """Clip posteriors with every operator's confusion matrix at its posterior mean,
        given the other clips, under the pooled matrix with the fitted strength (sets
        ``strength_``; see :func:`predictive_e_step`)."""
        k = probas_t.shape[0]
        counts_t = expected_counts(task, wl, probas_t, n_w * k)
        self.strength_ = pool_strength(counts_t, n_w)
        held = even_splits(task, wl % k, probas_t.shape[1], k)
        return predictive_e_step(
            task, wl, counts_t, probas_t, prior, self.strength_, priors, gold, held
        )

    def _expose(self) -> None:
        n = self._n_t
        self.probas_ = self._pbuf[:, :n].T
        self.label_index_ = self._index_buf[:n]
        self.labels_ = self._labels_buf[:n]

    def refit(self) -> Self:
        """Full EM over every label seen so far, warm-started from the current fit."""
        self._check_fitted()
        task, worker, label = self._store.all()
        enc = Encoded(
            list(self.tasks_), list(self.workers_), list(self.classes_), task, worker, label
        )
        return self.fit_encoded(enc, self._gold_buf[: self._n_t].copy(), init=self)

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
        name new or existing tasks (gold for tasks without labels is ignored).
        Iterates until no touched posterior moves more than ``tol``. The cost
        depends on the labels of the touched tasks, not on the data set size.
        ``probas_``, ``labels_`` and ``label_index_`` are views that later calls
        update in place: copy them to keep a snapshot.
        """
        self._check_fitted()
        k = len(self.classes_)
        n_new = len(task_ids)
        if len(worker_ids) != n_new or len(labels) != n_new:
            raise ValueError("task_ids, worker_ids and labels differ in length")
        label_new, _ = factorize(labels, self.classes_)
        cls = {c: i for i, c in enumerate(self.classes_)}
        for t, answer in (gold or {}).items():
            if str(answer) not in cls:
                raise ValueError(f"gold answer {answer!r} for task {t!r} is not a class")
        old_t = self._n_t
        task_new = self._extend(task_ids, "task")
        worker_new = self._extend(worker_ids, "worker")
        n_t, n_w = len(self.tasks_), len(self.workers_)
        prior = pseudo_counts(k, self.smoothing, self.diagonal_prior)

        # grow the state for new tasks and workers (worker-major layout: append only)
        if n_t > self._pbuf.shape[1]:
            cap = max(n_t, 2 * self._pbuf.shape[1])
            self._pbuf = _grown(self._pbuf, cap, 0.0)
            self._gold_buf = _grown(self._gold_buf, cap, -1)
            self._index_buf = _grown(self._index_buf, cap, 0)
            self._labels_buf = _grown(self._labels_buf, cap, self.classes_[0])
        self._pbuf[:, old_t:n_t] = 1.0 / k
        self._gold_buf[old_t:n_t] = -1
        self._class_totals = self._class_totals + (n_t - old_t) / k
        if self._counts_t.shape[1] < n_w * k:
            counts_t = np.zeros((k, n_w * k))
            counts_t[:, : self._counts_t.shape[1]] = self._counts_t
            self._counts_t = counts_t
        self._n_t = n_t

        touched_ids = set(task_new.tolist())
        if gold:
            pos = self._positions("task")
            for t, answer in gold.items():
                i = pos.get(t)
                if i is None:
                    i = pos.get(str(t))
                if i is None:
                    continue
                if self._gold_buf[i] != cls[str(answer)]:
                    self._gold_buf[i] = cls[str(answer)]
                    touched_ids.add(i)
        affected = np.array(sorted(touched_ids), dtype=np.int64)
        m = len(affected)

        # labels already in on the touched tasks, then the new ones
        o_task, o_worker, o_label = self._store.select(affected, n_t)
        merged = self._store.append(task_new, worker_new, label_new, n_t)
        self._worker_n = np.bincount(worker_new, minlength=n_w) + np.pad(
            self._worker_n, (0, n_w - len(self._worker_n))
        )
        so_task = np.searchsorted(affected, o_task)  # task index -> position in affected
        so_wl = o_worker * k + o_label
        s_task = np.concatenate([so_task, np.searchsorted(affected, task_new)])
        s_wl = np.concatenate([so_wl, worker_new * k + label_new])
        s_label = np.concatenate([o_label, label_new])

        # take the touched tasks' old contribution out of the sufficient statistics
        p_old = self._pbuf[:, affected]
        counts_rest = self._counts_t - expected_counts(so_task, so_wl, p_old, n_w * k)
        class_rest = self._class_totals - p_old.sum(axis=1)

        # touched tasks start from their old posterior; new tasks from vote shares
        p_a = p_old.copy()
        fresh = affected >= old_t
        if fresh.any():
            votes = np.zeros((m, k))
            np.add.at(votes, (s_task, s_label), 1.0)
            p_a[:, fresh] = vote_shares(votes[fresh]).T
        g_a = self._gold_buf[affected]
        if (g_a >= 0).any():
            p_a[:, g_a >= 0] = one_hot(g_a[g_a >= 0], k).T

        for _ in range(n_iter):
            counts = counts_rest + expected_counts(s_task, s_wl, p_a, n_w * k)
            errors = normalize_errors(counts, n_w, prior, self.pool_prior)
            priors = class_priors(class_rest + p_a.sum(axis=1), self.class_prior)
            new_p, _ = e_step(s_task, s_wl, errors, priors, m, g_a)
            delta = float(np.abs(new_p - p_a).max()) if m else 0.0
            p_a = new_p
            if delta < tol:
                break
        if self.strength_ is not None and m:  # as in fit(), with its strength
            counts = counts_rest + expected_counts(s_task, s_wl, p_a, n_w * k)
            priors = class_priors(class_rest + p_a.sum(axis=1), self.class_prior)
            held = even_splits(s_task, s_label, m, k)
            p_a = predictive_e_step(
                s_task, s_wl, counts, p_a, prior, self.strength_, priors, g_a, held
            )

        self._counts_t = counts_rest + expected_counts(s_task, s_wl, p_a, n_w * k)
        self._class_totals = class_rest + p_a.sum(axis=1)
        self._pbuf[:, affected] = p_a
        self.errors_ = normalize_errors(self._counts_t, n_w, prior, self.pool_prior)
        self.priors_ = class_priors(self._class_totals, self.class_prior)
        idx = argmax_ties_low(p_a.T)
        self._index_buf[affected] = idx
        self._labels_buf[affected] = np.asarray(self.classes_, dtype=object)[idx]
        if merged:
            self._sweep(prior)
        self._expose()
        return self

    def _sweep(self, prior: np.ndarray) -> None:
        """One E-step and recount over every label, with the current parameters.

        Runs when the label store has just merged its chunks (already an O(n) step):
        refreshes the posteriors of tasks that ``partial_fit`` did not touch, so
        they do not drift too far from the operators' current confusion matrices.
        """
        n_t, n_w, k = self._n_t, len(self.workers_), len(self.classes_)
        st = self._store
        wl = st.worker * k + st.label
        gold = self._gold_buf[:n_t]
        probas_t, _ = e_step(st.task, wl, self.errors_, self.priors_, n_t, gold)
        if self.strength_ is not None:
            probas_t = self._predictive(st.task, wl, probas_t, n_w, prior, self.priors_, gold)
        self._counts_t = expected_counts(st.task, wl, probas_t, n_w * k)
        self._class_totals = probas_t.sum(axis=1)
        self._pbuf[:, :n_t] = probas_t
        self.errors_ = normalize_errors(self._counts_t, n_w, prior, self.pool_prior)
        self.priors_ = class_priors(self._class_totals, self.class_prior)
        idx = argmax_ties_low(probas_t.T)
        self._index_buf[:n_t] = idx
        self._labels_buf[:n_t] = np.asarray(self.classes_, dtype=object)[idx]

    def overlap_confidence(
        self,
        rows: np.ndarray | Sequence[int] | None = None,
        min_operator_labels: int = MIN_OPERATOR_LABELS,
        min_class_clips: float = MIN_CLASS_CLIPS,
    ) -> np.ndarray:
        """The confidence to decide whether a clip needs more labels, per clip in ``rows``
        (distinct positions in ``tasks_``; default all).

        Where the model is identified for the clip (every operator on it has at least
        ``min_operator_labels`` labels and every class has at least
        ``min_class_clips`` expected clips) this is the Dawid–Skene confidence;
        before that the share of the clip's most frequent vote, so that a model
        that knows too little cannot close a clip early.
        """
        self._check_fitted()
        n_t, k = self._n_t, len(self.classes_)
        rows = np.arange(n_t) if rows is None else np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        task, worker, label = self._store.select(np.unique(sorted_rows), n_t)
        pos = np.searchsorted(sorted_rows, task)
        m = len(rows)
        counts = np.bincount(pos * k + label, minlength=m * k).reshape(m, k)
        share = counts.max(axis=1) / np.maximum(counts.sum(axis=1), 1)
        weakest = np.full(m, np.iinfo(np.int64).max)
        np.minimum.at(weakest, pos, self._worker_n[worker])
        identified = (weakest >= min_operator_labels) & (counts.sum(axis=1) > 0)
        identified &= bool(self._class_totals.min() >= min_class_clips)
        ds = self._pbuf[self._index_buf[sorted_rows], sorted_rows]
        out = np.empty(m)
        out[order] = np.where(identified, ds, share)
        return out

    def task_positions(self) -> Mapping[str, int]:
        """Each task's row in `labels_`, `label_index_` and `probas_` (read-only view)."""
        self._check_fitted()
        return MappingProxyType(self._positions("task"))

    # ------------------------------------------------------------------ helpers

    def _check_fitted(self) -> None:
        if not hasattr(self, "_store"):
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
        """Codes for ids, appending unseen ids (sorted) to the vocabulary in place."""
        pos = self._positions(kind)
        vocab = self.tasks_ if kind == "task" else self.workers_
        if isinstance(ids, np.ndarray) and ids.dtype.kind in "iu":
            vals: list = ids.tolist()  # integer ids stay ints, as fit() keeps them
        else:
            vals = [str(v) for v in ids]
        for v in sorted(set(vals) - pos.keys()):
            pos[v] = len(vocab)
            vocab.append(v)
        return np.fromiter(map(pos.__getitem__, vals), dtype=np.int64, count=len(vals))


def _grown(arr: np.ndarray, capacity: int, fill: object) -> np.ndarray:
    """``arr`` with its last axis grown to ``capacity`` (new room set to ``fill``)."""
    shape = (*arr.shape[:-1], capacity)
    out = np.full(shape, fill, dtype=arr.dtype)
    out[..., : arr.shape[-1]] = arr
    return out


class _LabelStore:
    """All labels of a fitted model, kept for incremental updates.

    A task-sorted base with CSR offsets (from the last full fit) plus chunks appended
    by ``partial_fit``; the labels of a few tasks are found without scanning the base.
    When the chunks grow past a quarter of the base they are merged into it.
    """

    def __init__(self, task: np.ndarray, worker: np.ndarray, label: np.ndarray, n_tasks: int):
        self._set_base(task, worker, label, n_tasks)
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_chunked = 0

    def _set_base(
        self, task: np.ndarray, worker: np.ndarray, label: np.ndarray, n_tasks: int
    ) -> None:
        self.task, self.worker, self.label = task, worker, label
        self.offsets = np.zeros(n_tasks + 1, dtype=np.int64)
        np.cumsum(np.bincount(task, minlength=n_tasks), out=self.offsets[1:])

    def all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.chunks:
            return self.task, self.worker, self.label
        parts = [(self.task, self.worker, self.label), *self.chunks]
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]

    def append(self, task: np.ndarray, worker: np.ndarray, label: np.ndarray, n_tasks: int) -> bool:
        """Add labels; returns True when this merged all chunks into the base."""
        self.chunks.append((task, worker, label))
        self.n_chunked += len(task)
        if self.n_chunked <= max(10_000, len(self.task) // 4):
            return False
        t, w, y = self.all()
        order = np.argsort(t, kind="stable")
        self._set_base(t[order], w[order], y[order], n_tasks)
        self.chunks, self.n_chunked = [], 0
        return True

    def select(self, tasks: np.ndarray, n_tasks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All labels on the given tasks (sorted task indices)."""
        n_base = len(self.offsets) - 1
        in_base = tasks[tasks < n_base]
        starts = self.offsets[in_base]
        lens = self.offsets[in_base + 1] - starts
        total = int(lens.sum())
        idx = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(starts, lens)
        parts = [(self.task[idx], self.worker[idx], self.label[idx])]
        if self.chunks:
            wanted = np.zeros(n_tasks, dtype=bool)
            wanted[tasks] = True
            for t, w, y in self.chunks:
                keep = wanted[t]
                parts.append((t[keep], w[keep], y[keep]))
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


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
