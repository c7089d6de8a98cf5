"""The hub's consensus fit: Dawid-Skene over the stored labels, kept between fits so that
the next one only takes the labels since (`ConsensusFit.rows`). It reads through a store
handle and returns the rows to write; it writes nothing itself, so that it can run in a
thread or in a process of its own (hub.site.fit_process) while the router writes."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from protocol import messages as m

from .consensus.assignment import Policy
from .store import Store

#: Incremental consensus fits between two routine full Dawid-Skene fits (housekeeping: one
#: each ~10 s), and the largest share of the time routine full fits may take (a big site's
#: full fit takes seconds: 15 s at 1.8M labels here, 70 ms for an incremental one).
FULL_FIT_EVERY = 30
FULL_FIT_SHARE = 0.02


@dataclass
class _Fit:
    """The last Dawid-Skene fit of the hub's consensus: the model, the last label row it
    has seen, the gold answers and the retraction count it was fitted with."""

    model: Any = None
    upto: int = 0
    gold: dict[str, str] = field(default_factory=dict)
    retractions: int = 0
    partial_fits: int = 0
    full_due: float = 0.0  # monotonic time before which no routine full fit runs


class ConsensusFit:
    """The state of the consensus fit between two housekeeping rounds (`state`) and the
    project's answers and overlap policy it fits for. Runs in one thread at a time."""

    def __init__(self, schema: m.ProjectSchema, policy: Policy) -> None:
        self.schema = schema
        self.policy = policy
        self.state = _Fit()

    def rows(
        self, store: Store, retractions: int, full: bool = False
    ) -> list[tuple[str, float, int, str]]:
        """(consensus, confidence, wanted votes, clip) for the clips whose stored consensus
        Dawid-Skene now sees otherwise. Incremental: the labels since the last fit go into the
        last model (`partial_fit`: the cost follows the new labels and the clips they touch,
        not the size of the project); a full fit, warm-started from the last one, runs the
        first time, after a retraction or a changed gold answer, every `FULL_FIT_EVERY`
        fits, or when `full`. `retractions`: how many labels were taken back so far, read
        before the labels (one taken back later makes the next fit a full one).

        Clips go into the fit as their integer `seq` (cheap to read and to encode on a
        million labels); a clip's sha256 is read only when its row is written."""
        from .consensus import aggregate

        if self.schema.kind != "single":
            return []
        fit = self.state
        gold_clips = store.gold_by_seq()
        gold = {sha: answer for sha, answer in gold_clips.values()}
        began = time.monotonic()
        full = (
            full
            or fit.model is None
            or retractions != fit.retractions
            or (fit.partial_fits >= FULL_FIT_EVERY and began >= fit.full_due)
            or any(gold.get(clip) != answer for clip, answer in fit.gold.items())
        )
        if full:
            upto = store.last_label_rowid()
            seqs, workers, values = store.votes_by_seq(upto)
            if not seqs:
                return []
            classes = [v.value for v in self.schema.labels]
            gold_codes = {seq: answer for seq, (_, answer) in gold_clips.items()}
            result = aggregate(
                np.array(seqs, dtype=np.int64),
                workers,
                values,
                classes,
                gold_codes or None,
                method="ds",
                init=fit.model,
            )
            overlap = result.model.overlap_confidence()
            rows = self._changed(
                store,
                np.array(result.tasks, dtype=np.int64),
                result.classes,
                result.label_index,
                result.confidence_array,
                overlap,
                store.consensus_columns(labelled_only=True),
                gold_clips.keys(),
            )
            # the next routine full fit: at most FULL_FIT_SHARE of the time goes to them
            due = began + (time.monotonic() - began) / FULL_FIT_SHARE
            self.state = _Fit(result.model, upto, gold, retractions, 0, due)
            return rows
        upto, seqs, workers, values = store.votes_by_seq_since(fit.upto)
        new_gold = {seq: answer for seq, (sha, answer) in gold_clips.items() if sha not in fit.gold}
        if not seqs and not new_gold:
            return []
        model = fit.model
        model.partial_fit(np.array(seqs, dtype=np.int64), workers, values, gold=new_gold or None)
        fit.upto, fit.partial_fits = upto, fit.partial_fits + 1
        fit.gold.update((gold_clips[seq][0], answer) for seq, answer in new_gold.items())
        pos = model.task_positions()
        found = sorted((seq, pos[seq]) for seq in set(seqs) | new_gold.keys() if seq in pos)
        at = np.array([i for _, i in found], dtype=np.int64)
        index = model.label_index_[at]
        return self._changed(
            store,
            np.array([seq for seq, _ in found], dtype=np.int64),
            model.classes_,
            index,
            model.probas_[at, index],
            model.overlap_confidence(at.tolist()),
            store.consensus_columns(seqs=[seq for seq, _ in found]),
            gold_clips.keys(),
        )

    def _changed(
        self,
        store: Store,
        seqs: np.ndarray,
        classes: list[str],
        label_index: np.ndarray,
        confidence: np.ndarray,
        overlap: np.ndarray,
        state: tuple[list[int], list[int], list[str | None], list[float | None], list[int]],
        gold: Iterable[int],
    ) -> list[tuple[str, float, int, str]]:
        """Rows to write for the clips whose consensus, confidence or wanted votes moved.
        Per fitted clip (`seqs`, in increasing order): its label's index in `classes`, confidence
        and overlap confidence: the last decides whether the clip needs more labels
        (Dawid-Skene's confidence once the model is identified for the clip, the vote
        share before). `state`: the stored columns (`Store.consensus_columns`). Gold clips
        and clips not in `state` are left alone."""
        from .consensus.assignment import votes_wanted_many

        at_seq, n_labels, old_label, old_conf, old_want = state
        if not at_seq or not len(seqs):
            return []
        stored = np.array(at_seq, dtype=np.int64)
        where = np.minimum(np.searchsorted(seqs, stored), len(seqs) - 1)
        fitted = seqs[where] == stored
        fitted &= ~np.isin(stored, np.fromiter(gold, dtype=np.int64))
        pick = np.flatnonzero(fitted)
        if not pick.size:
            return []
        i = where[pick]
        votes = np.array(n_labels, dtype=np.int64)[pick]
        want = votes + votes_wanted_many(votes, np.asarray(overlap)[i], self.policy)
        conf = np.asarray(confidence, dtype=float)[i]
        label = np.asarray(label_index)[i]
        code = {c: k for k, c in enumerate(classes)}
        was_label = np.array([code.get(x, -1) if x is not None else -1 for x in old_label])
        was_conf = np.array([np.nan if x is None else x for x in old_conf], dtype=float)
        same = (
            (np.abs(conf - was_conf[pick]) < 1e-9)  # NaN (no confidence yet) is never the same
            & (label == was_label[pick])
            & (want == np.array(old_want, dtype=np.int64)[pick])
        )
        moved = np.flatnonzero(~same)  # most clips of a big project, most of the time: none
        if not moved.size:
            return []
        sha = store.clip_sha256s(stored[pick[moved]].tolist())
        return [
            (classes[k], c, w, sha[s])
            for s, k, c, w in zip(
                stored[pick[moved]].tolist(),
                label[moved].tolist(),
                conf[moved].tolist(),
                want[moved].tolist(),
                strict=True,
            )
            if s in sha
        ]
