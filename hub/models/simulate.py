"""A simulated labelling loop: does uncertainty-first reach a good model with fewer labels?

The world: clips with feature vectors (one Gaussian cloud per class, unequal class
shares), simulated operators each with their own confusion matrix, a held-out test set
labelled by the operators up front. Each round the hub's own code runs: Dawid–Skene
consensus (:func:`hub.consensus.aggregate`) over every label so far; a multinomial
logistic regression (numpy) is trained on the consensus of the labelled pool clips and
measured against the *confident consensus* of the test clips
(:func:`hub.models.evaluate.evaluate`) — the same number the hub reports; the next batch
of pool clips is picked by :func:`hub.models.priority.prioritise` from the model's
probabilities (``uncertainty``), or at random (``random``). Each clip gets ``k`` labels.

Fair comparison: a clip's operators and their answers are fixed by the seed, so both
strategies get the same labels for the same clip and start from the same seed batch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..consensus import aggregate
from .evaluate import evaluate
from .priority import ClipInput, PriorityConfig, prioritise

__all__ = [
    "Round",
    "SimConfig",
    "Trace",
    "World",
    "make_world",
    "run",
    "softmax_regression",
]


@dataclass(frozen=True)
class SimConfig:
    pool: int = 4000  # clips that can be picked for labelling
    test: int = 600  # held-out clips, labelled up front, to measure the model
    features: int = 30
    classes: int = 3
    shares: tuple[float, ...] = (0.75, 0.2, 0.05)  # class shares (a rare class)
    separation: float = 4.0  # distance of the class means from the origin
    operators: int = 20
    accuracy: tuple[float, float] = (0.75, 0.95)  # operator accuracy, uniform in this range
    k: int = 3  # labels per clip
    seed_clips: int = 30  # first batch, at random, the same for every strategy
    batch: int = 20  # clips per round
    threshold: float = 0.9  # consensus confidence for the test set
    target: float = 0.97  # accuracy against confident consensus to reach
    max_labels: int | None = 4500  # stop after this many pool labels (None: pool end)
    measure: str = "entropy"
    seed: int = 7


@dataclass
class World:
    config: SimConfig
    x: np.ndarray  # clip features (pool then test)
    truth: np.ndarray  # true class per clip
    raters: np.ndarray  # clip × k operator ids
    answers: np.ndarray  # clip × k answers of those operators
    seed_batch: np.ndarray  # pool indices of the first batch

    @property
    def pool(self) -> np.ndarray:
        return np.arange(self.config.pool)

    @property
    def test(self) -> np.ndarray:
        return np.arange(self.config.pool, self.config.pool + self.config.test)


@dataclass(frozen=True)
class Round:
    labels: int  # labels on pool clips so far
    clips: int  # pool clips labelled
    accuracy: float  # model against confident test consensus
    truth_accuracy: float  # model against the true classes of the test clips
    test_clips: int  # test clips with confident consensus


@dataclass
class Trace:
    strategy: str
    rounds: list[Round] = field(default_factory=list)
    seconds: float = 0.0

    def labels_to(self, target: float) -> int | None:
        """Pool labels when the model first reached `target` (None: never)."""
        for r in self.rounds:
            if r.accuracy >= target:
                return r.labels
        return None

    def accuracy_at(self, labels: int) -> float | None:
        """The accuracy of the last round with at most `labels` pool labels."""
        best = None
        for r in self.rounds:
            if r.labels <= labels:
                best = r.accuracy
        return best


def make_world(config: SimConfig) -> World:
    rng = np.random.default_rng(config.seed)
    c, d = config.classes, config.features
    shares = np.asarray(config.shares[:c], dtype=float)
    if len(shares) < c:
        shares = np.full(c, 1.0 / c)
    shares /= shares.sum()
    means = rng.normal(size=(c, d))
    means *= config.separation / np.linalg.norm(means, axis=1, keepdims=True)
    n = config.pool + config.test
    truth = rng.choice(c, size=n, p=shares)
    x = means[truth] + rng.normal(size=(n, d))
    # operators: confusion matrices with their accuracy on the diagonal, errors skewed
    lo, hi = config.accuracy
    conf = np.empty((config.operators, c, c))  # operator, true, answer
    for o in range(config.operators):
        acc = rng.uniform(lo, hi)
        wrong = rng.dirichlet(np.ones(c - 1) * 2.0, size=c) * (1 - acc)
        for t in range(c):
            conf[o, t] = np.insert(wrong[t], t, acc)
    raters = np.stack(
        [rng.choice(config.operators, size=config.k, replace=False) for _ in range(n)]
    )
    u = rng.random((n, config.k))
    cum = np.cumsum(conf[raters, truth[:, None]], axis=2)
    answers = (u[..., None] > cum).sum(axis=2).clip(0, c - 1)
    seed_batch = rng.choice(config.pool, size=min(config.seed_clips, config.pool), replace=False)
    return World(config, x, truth, raters, answers, seed_batch)


def softmax_regression(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    w: np.ndarray | None = None,
    l2: float = 1e-2,
    steps: int = 150,
    lr: float = 0.5,
) -> np.ndarray:
    """Multinomial logistic regression by gradient descent (warm start from `w`);
    returns weights of shape (features + 1, classes)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros((xb.shape[1], classes)) if w is None else w.copy()
    onehot = np.eye(classes)[y]
    for _ in range(steps):
        z = xb @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = xb.T @ (p - onehot) / len(x) + l2 * w
        w -= lr * grad
    return w


def predict_proba(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    z = np.hstack([x, np.ones((len(x), 1))]) @ w
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def run(world: World, strategy: str) -> Trace:
    """The loop for one strategy (``uncertainty`` or ``random``) until the target is
    reached, the pool is used up or ``max_labels`` is spent."""
    cfg = world.config
    names = [f"c{j}" for j in range(cfg.classes)]
    rng = np.random.default_rng(cfg.seed + 1)
    priority = PriorityConfig(mode="uncertainty", measure=cfg.measure)
    started = time.perf_counter()
    trace = Trace(strategy)
    labelled: list[int] = []
    chosen = np.zeros(cfg.pool, dtype=bool)
    test_ids = world.test
    w = None

    votes = [
        [(f"op{r}", names[a]) for r, a in zip(world.raters[i], world.answers[i], strict=True)]
        for i in range(len(world.x))
    ]

    def labels_of(ids: Sequence[int]) -> tuple[list[str], list[str], list[str]]:
        tasks, workers, values = [], [], []
        for i in ids:
            key = str(i)
            for worker, value in votes[i]:
                tasks.append(key)
                workers.append(worker)
                values.append(value)
        return tasks, workers, values

    test_labels = labels_of(test_ids)
    batch = [int(i) for i in world.seed_batch]
    while batch:
        labelled += batch
        chosen[batch] = True
        t, o, v = labels_of(labelled)
        result = aggregate(
            t + test_labels[0], o + test_labels[1], v + test_labels[2], names, method="ds"
        )
        consensus = dict(zip(result.tasks, result.label, strict=True))
        confident = {
            task: label
            for task, label, conf in zip(result.tasks, result.label, result.confidence, strict=True)
            if conf >= cfg.threshold
        }
        y = np.array([names.index(consensus[str(i)]) for i in labelled])
        w = softmax_regression(world.x[labelled], y, cfg.classes, w)
        p_test = predict_proba(w, world.x[test_ids])
        predicted = {str(i): names[j] for i, j in zip(test_ids, p_test.argmax(axis=1), strict=True)}
        reference = {str(i): confident[str(i)] for i in test_ids if str(i) in confident}
        ev = evaluate(predicted, reference, names)
        truth_acc = float(np.mean(p_test.argmax(axis=1) == world.truth[test_ids]))
        trace.rounds.append(
            Round(
                labels=len(labelled) * cfg.k,
                clips=len(labelled),
                accuracy=float(ev["accuracy"] or 0.0),
                truth_accuracy=truth_acc,
                test_clips=ev["n"],
            )
        )
        if trace.rounds[-1].accuracy >= cfg.target:
            break
        if cfg.max_labels is not None and len(labelled) * cfg.k >= cfg.max_labels:
            break
        rest = np.flatnonzero(~chosen)
        if len(rest) == 0:
            break
        size = min(cfg.batch, len(rest))
        if strategy == "random":
            batch = [int(i) for i in rng.choice(rest, size=size, replace=False)]
        elif strategy == "uncertainty":
            probs = predict_proba(w, world.x[rest])
            inputs = [
                ClipInput(str(i), scores=dict(zip(names, row.tolist(), strict=True)))
                for i, row in zip(rest, probs, strict=True)
            ]
            order = prioritise(inputs, names, priority)
            batch = [int(p.clip_id) for p in order[:size]]
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
    trace.seconds = time.perf_counter() - started
    return trace
