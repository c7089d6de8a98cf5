"""Posterior of Dawid–Skene by blocked Gibbs sampling, for small data.

EM gives one point estimate of every operator's confusion matrix and takes it as the
truth; with a few labels per operator that point is far from certain and the
posteriors it gives are overconfident (a 2:1 vote reads as 0.999). Sampling averages
the posterior of every clip over the plausible operator models instead.

Model (hierarchical, so an operator with few labels borrows from the crowd):

- the true class of a clip ``z_t ~ Categorical(rho)``, ``rho ~ Dirichlet(class_prior)``;
- a pooled confusion matrix ``m`` (per true class a distribution over observed labels)
  with a Dirichlet prior of ``pool_prior`` pseudo-counts (plus ``diagonal_prior`` on
  the diagonal), truncated to matrices whose diagonal is the largest entry of each
  column: operators are, on the whole, better than guessing. The truncation is what
  keeps the sampler from swapping every class with another one;
- every operator's confusion column ``errors[w, :, k] ~ Dirichlet(strength * m[:, k])``:
  ``strength`` labels' worth of the pooled model, so an operator with a few labels
  sits near the pool and one with many labels follows their own record.

One sweep draws ``m``, the operators' matrices and ``rho`` given the current classes,
then every clip's class given those (all clips at once). The clip posteriors returned
are the conditional class probabilities averaged over the kept sweeps
(Rao–Blackwellised), so they are smooth even with a few hundred sweeps. Gold clips
keep their class. A seeded generator makes the result reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sample_posterior"]

#: Redraws of the pooled matrix before the previous draw is kept (truncated prior).
_POOL_TRIES = 20


def sample_posterior(
    task: np.ndarray,
    worker: np.ndarray,
    label: np.ndarray,
    n_tasks: int,
    n_workers: int,
    n_classes: int,
    start: np.ndarray,
    gold: np.ndarray,
    *,
    class_prior: float = 1.0,
    strength: float = 4.0,
    pool_prior: float = 1.0,
    diagonal_prior: float = 1.0,
    sweeps: int = 400,
    burn_in: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """Posterior class probabilities per clip, ``(n_tasks, n_classes)``.

    ``start`` is a class per clip to start from (e.g. the EM consensus); ``gold`` the
    gold class per clip or ``-1``.
    """
    k = n_classes
    rng = np.random.default_rng(seed)
    has_gold = gold >= 0
    z = np.where(has_gold, gold, start).astype(np.int64)
    wl = worker * k + label
    cell = wl * k
    pool = pool_prior + diagonal_prior * np.eye(k)
    m = 0.5 * np.eye(k) + 0.5 / k
    total = np.zeros((k, n_tasks))
    kept = 0
    for sweep in range(sweeps):
        n = np.bincount(cell + z[task], minlength=n_workers * k * k).astype(np.float64)
        n = n.reshape(n_workers, k, k)  # worker, observed, true
        shape = n.sum(axis=0) + pool
        for _ in range(_POOL_TRIES):
            draw = rng.gamma(shape)
            draw /= draw.sum(axis=0, keepdims=True)
            if (np.diag(draw)[None, :] >= draw).all():
                m = draw
                break
        g = rng.gamma(strength * m + n)
        log_e = np.log(np.maximum(g, 1e-300))
        log_e -= np.log(np.maximum(g.sum(axis=1, keepdims=True), 1e-300))
        log_e_t = np.ascontiguousarray(log_e.transpose(2, 0, 1).reshape(k, n_workers * k))
        rho = rng.gamma(class_prior + np.bincount(z, minlength=k))
        log_rho = np.log(np.maximum(rho / rho.sum(), 1e-300))
        joint = np.empty((k, n_tasks))
        for c in range(k):
            joint[c] = np.bincount(task, weights=log_e_t[c][wl], minlength=n_tasks)
            joint[c] += log_rho[c]
        joint -= joint.max(axis=0)
        np.exp(joint, out=joint)
        joint /= joint.sum(axis=0)
        if sweep >= burn_in:
            total += joint
            kept += 1
        u = rng.random(n_tasks)
        z = np.minimum((u > np.cumsum(joint, axis=0)).sum(axis=0), k - 1)
        z[has_gold] = gold[has_gold]
    probas = (total / max(kept, 1)).T
    if has_gold.any():
        probas[has_gold] = 0.0
        probas[has_gold, gold[has_gold]] = 1.0
    return np.ascontiguousarray(probas)
