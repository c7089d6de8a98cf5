"""Assignment policy: which clips an operator gets next. Pure logic, no I/O.

The hub keeps the state (votes, leases, operator history) and asks
:func:`choose_clips` for a batch whenever a kiosk requests work. The rules:

1. **Never the same clip twice.** Clips in ``seen`` (labelled *or* currently leased
   by this operator) are never chosen again; the only exception is gold when the
   operator has already seen the whole gold pool (see 4).
2. **Redundancy, adaptively.** A clip wants ``k`` labels. It stops early once it has
   ``min_votes`` labels and the posterior of its leading label is at least
   ``confidence_threshold``; a clip that reaches ``k`` labels without that
   confidence is *contested* and gets one more label at a time, up to
   ``max_votes``. Labels leased but not yet in (``pending``) count as asked for.
3. **Finish what is started.** Among open clips, those with the most labels
   (given + pending) come first, so consensus arrives sooner; ties are broken by a
   seeded shuffle.
4. **Gold at the project's rate.** Gold clips (known answer) are mixed in so that,
   over an operator's whole history, the share of gold among their labels tracks
   ``gold_rate`` (error diffusion, not coin flips: 10 % means exactly 1 in 10 over
   time). Unseen gold first; an operator sees a gold clip again only once they have
   seen the whole pool. Gold goes at random positions in the batch. No gold is
   handed out when there is no real work to go with it.
5. **Training.** An operator who has not yet passed training gets gold clips only
   (the kiosk shows the right answer after each label) until their last
   ``training_gold`` training answers reach ``training_bar`` accuracy.

Everything is deterministic given ``rng_seed`` (and the operator id).
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ClipState",
    "OperatorStats",
    "Policy",
    "choose_clips",
    "gold_quota",
    "is_done",
    "is_training",
    "open_votes",
    "votes_wanted",
    "votes_wanted_many",
]


@dataclass(frozen=True)
class Policy:
    """Project settings for assignment.

    - ``k``: labels a clip normally gets (redundancy).
    - ``min_votes``: a clip never stops before this many labels.
    - ``max_votes``: a contested clip never gets more than this many labels.
    - ``confidence_threshold``: posterior of the leading label at which a clip with
      at least ``min_votes`` labels is done.
    - ``gold_rate``: share of an operator's labels (after training) on gold clips.
    - ``training_gold``: size of the window of training answers judged; 0 switches
      training off.
    - ``training_bar``: accuracy over that window needed to leave training.
    """

    k: int = 3
    min_votes: int = 2
    max_votes: int = 5
    confidence_threshold: float = 0.9
    gold_rate: float = 0.1
    training_gold: int = 5
    training_bar: float = 0.8

    def __post_init__(self) -> None:
        if not 1 <= self.min_votes <= self.k <= self.max_votes:
            raise ValueError(
                f"need 1 <= min_votes <= k <= max_votes, got "
                f"{self.min_votes}, {self.k}, {self.max_votes}"
            )
        if not 0.0 < self.confidence_threshold <= 1.0:
            raise ValueError("confidence_threshold must be in (0, 1]")
        if not 0.0 <= self.gold_rate < 1.0:
            raise ValueError("gold_rate must be in [0, 1)")
        if self.training_gold < 0 or not 0.0 <= self.training_bar <= 1.0:
            raise ValueError("training_gold must be >= 0 and training_bar in [0, 1]")


@dataclass(frozen=True)
class ClipState:
    """What the policy needs to know about one clip.

    - ``clip_id``: the clip.
    - ``votes``: labels received so far (all operators).
    - ``confidence``: posterior of the leading label (Dawid–Skene or vote share);
      0.0 when there are no labels.
    - ``pending``: leases handed out whose label has not come in (expired leases
      should no longer be counted by the hub).
    - ``gold``: a gold clip (known answer); gold clips are never "work".
    """

    clip_id: str
    votes: int = 0
    confidence: float = 0.0
    pending: int = 0
    gold: bool = False


@dataclass(frozen=True)
class OperatorStats:
    """An operator's history as far as assignment cares.

    - ``labels``: labels given outside training (gold included).
    - ``gold_labels``: of those, labels on gold clips.
    - ``training_results``: correct (True) / wrong per training answer, oldest first.
    - ``passed_training``: set by the hub once :func:`is_training` said False;
      an operator never goes back into training.
    """

    labels: int = 0
    gold_labels: int = 0
    training_results: tuple[bool, ...] = ()
    passed_training: bool = False


def is_training(stats: OperatorStats, policy: Policy) -> bool:
    """True while the operator still has to pass training on gold clips."""
    if policy.training_gold == 0 or stats.passed_training:
        return False
    window = stats.training_results[-policy.training_gold :]
    if len(window) < policy.training_gold:
        return True
    return sum(window) / len(window) < policy.training_bar


def votes_wanted(clip: ClipState, policy: Policy) -> int:
    """How many more labels the clip wants now, ignoring pending leases."""
    if clip.gold or clip.votes >= policy.max_votes:
        return 0
    if clip.votes >= policy.min_votes and clip.confidence >= policy.confidence_threshold:
        return 0  # confident: stop early
    if clip.votes < policy.k:
        return policy.k - clip.votes
    return 1  # contested: one more at a time, up to max_votes


def votes_wanted_many(votes: np.ndarray, confidence: np.ndarray, policy: Policy) -> np.ndarray:
    """`votes_wanted` of many non-gold clips at once (labels and confidence per clip)."""
    votes = np.asarray(votes, dtype=np.int64)
    confident = (votes >= policy.min_votes) & (
        np.asarray(confidence) >= policy.confidence_threshold
    )
    wanted = np.where(votes < policy.k, policy.k - votes, 1)
    return np.where((votes >= policy.max_votes) | confident, 0, wanted)


def open_votes(clip: ClipState, policy: Policy) -> int:
    """Labels still to hand out: wanted minus pending leases."""
    return max(0, votes_wanted(clip, policy) - clip.pending)


def is_done(clip: ClipState, policy: Policy) -> bool:
    """No more labels wanted (confident, or at ``max_votes``); pending ones still count."""
    return votes_wanted(clip, policy) == 0


def gold_quota(stats: OperatorStats, batch: int, policy: Policy) -> int:
    """Gold clips in a batch of ``batch`` so the operator's gold share tracks the rate."""
    if policy.gold_rate <= 0 or batch <= 0:
        return 0
    target = math.floor(policy.gold_rate * (stats.labels + batch) + 0.5)
    return max(0, min(batch, target - stats.gold_labels))


def _pick_gold(gold: list[str], seen: Collection[str], n: int, rng: random.Random) -> list[str]:
    """``n`` distinct gold clips: unseen first, then (pool exhausted) seen ones again."""
    fresh = [g for g in gold if g not in seen]
    rng.shuffle(fresh)
    out = fresh[:n]
    if len(out) < n:
        again = [g for g in gold if g in seen]
        rng.shuffle(again)
        out += again[: n - len(out)]
    return out


def choose_clips(
    operator: str,
    want: int,
    clips: Sequence[ClipState],
    seen: Collection[str],
    policy: Policy,
    operator_stats: OperatorStats,
    rng_seed: int,
) -> list[str]:
    """Clip ids for the operator's next batch (at most ``want``; may be fewer or none).

    ``clips`` is the project's clip state (work and gold); ``seen`` the clips this
    operator has labelled or holds a lease on.
    """
    if want <= 0:
        return []
    rng = random.Random(f"{rng_seed}:{operator}")
    gold = sorted(c.clip_id for c in clips if c.gold)
    if is_training(operator_stats, policy):
        return _pick_gold(gold, seen, want, rng)

    work = [c for c in clips if not c.gold and c.clip_id not in seen and open_votes(c, policy) > 0]
    if not work:
        return []
    work.sort(key=lambda c: c.clip_id)
    rng.shuffle(work)
    work.sort(key=lambda c: -(c.votes + c.pending))  # stable: shuffle breaks ties

    # largest batch whose work part we can fill
    batch = want
    while batch > 0 and batch - gold_quota(operator_stats, batch, policy) > len(work):
        batch -= 1
    n_gold = min(gold_quota(operator_stats, batch, policy), len(gold))
    chosen = [c.clip_id for c in work[: batch - n_gold]]
    for g in _pick_gold(gold, seen, n_gold, rng):
        chosen.insert(rng.randint(0, len(chosen)), g)
    return chosen
