"""Assignment policy: never twice, adaptive overlap, gold rate, training mode."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np
import pytest

from hub.consensus.assignment import (
    ClipState,
    OperatorStats,
    Policy,
    choose_clips,
    gold_quota,
    is_done,
    is_training,
    open_votes,
    votes_wanted,
    votes_wanted_many,
)

TRAINED = OperatorStats(passed_training=True)


def test_policy_validation() -> None:
    Policy()
    with pytest.raises(ValueError):
        Policy(k=2, min_votes=3)
    with pytest.raises(ValueError):
        Policy(k=6, max_votes=5)
    with pytest.raises(ValueError):
        Policy(confidence_threshold=0.0)
    with pytest.raises(ValueError):
        Policy(gold_rate=1.0)
    with pytest.raises(ValueError):
        Policy(training_bar=1.5)


def test_adaptive_overlap() -> None:
    p = Policy(k=3, min_votes=2, max_votes=5, confidence_threshold=0.9)
    assert votes_wanted(ClipState("c"), p) == 3
    assert votes_wanted(ClipState("c", votes=1, confidence=1.0), p) == 2  # below min_votes
    assert votes_wanted(ClipState("c", votes=2, confidence=0.95), p) == 0  # early stop
    assert votes_wanted(ClipState("c", votes=2, confidence=0.6), p) == 1  # still towards k
    assert votes_wanted(ClipState("c", votes=3, confidence=0.6), p) == 1  # contested: extend
    assert votes_wanted(ClipState("c", votes=4, confidence=0.6), p) == 1
    assert votes_wanted(ClipState("c", votes=5, confidence=0.6), p) == 0  # max reached
    assert votes_wanted(ClipState("c", votes=3, confidence=0.9), p) == 0
    assert votes_wanted(ClipState("g", gold=True), p) == 0
    assert open_votes(ClipState("c", votes=1, pending=1), p) == 1
    assert open_votes(ClipState("c", votes=3, confidence=0.5, pending=1), p) == 0
    assert is_done(ClipState("c", votes=2, confidence=0.99), p)
    assert not is_done(ClipState("c", votes=2, confidence=0.5), p)


@pytest.mark.parametrize(
    "policy",
    [
        Policy(k=3, min_votes=2, max_votes=5, confidence_threshold=0.9),
        Policy(k=1, min_votes=1, max_votes=1),
        Policy(k=5, min_votes=5, max_votes=9, confidence_threshold=0.6),
    ],
)
def test_wanted_votes_of_many_clips_as_of_each(policy: Policy) -> None:
    votes, conf = np.meshgrid(np.arange(12), [0.0, 0.5, 0.59, 0.6, 0.899, 0.9, 0.95, 1.0])
    many = votes_wanted_many(votes.ravel(), conf.ravel(), policy)
    one = [
        votes_wanted(ClipState("c", votes=int(v), confidence=float(c)), policy)
        for v, c in zip(votes.ravel(), conf.ravel(), strict=True)
    ]
    assert many.tolist() == one


def test_never_the_same_clip_twice_and_finish_started_first() -> None:
    p = Policy(gold_rate=0.0)
    clips = [
        ClipState("fresh1"),
        ClipState("fresh2"),
        ClipState("started", votes=2, confidence=0.5),
        ClipState("seen", votes=1),
        ClipState("done", votes=3, confidence=0.99),
        ClipState("leased-out", votes=1, pending=2),
    ]
    got = choose_clips("op", 10, clips, {"seen"}, p, TRAINED, rng_seed=1)
    assert got[0] == "started"
    assert sorted(got) == ["fresh1", "fresh2", "started"]
    assert len(set(got)) == len(got)
    assert choose_clips("op", 0, clips, set(), p, TRAINED, 1) == []


def test_deterministic_given_a_seed() -> None:
    p = Policy(gold_rate=0.2)
    clips = [ClipState(f"c{i}") for i in range(50)] + [
        ClipState(f"g{i}", gold=True) for i in range(5)
    ]
    stats = replace(TRAINED, labels=40, gold_labels=8)
    a = choose_clips("op", 10, clips, set(), p, stats, rng_seed=42)
    b = choose_clips("op", 10, list(reversed(clips)), set(), p, stats, rng_seed=42)
    c = choose_clips("op", 10, clips, set(), p, stats, rng_seed=43)
    assert a == b
    assert a != c


def test_gold_quota_tracks_the_rate() -> None:
    p = Policy(gold_rate=0.1)
    assert gold_quota(OperatorStats(labels=0, gold_labels=0), 10, p) == 1
    assert gold_quota(OperatorStats(labels=10, gold_labels=1), 4, p) == 0  # 1.4 -> 1
    assert gold_quota(OperatorStats(labels=10, gold_labels=1), 10, p) == 1
    assert gold_quota(OperatorStats(labels=100, gold_labels=0), 5, p) == 5  # catching up, capped
    assert gold_quota(OperatorStats(labels=100, gold_labels=20), 10, p) == 0
    assert gold_quota(OperatorStats(), 10, Policy(gold_rate=0.0)) == 0


def test_no_gold_without_work_and_no_gold_pool() -> None:
    p = Policy(gold_rate=0.5)
    only_gold = [ClipState(f"g{i}", gold=True) for i in range(5)]
    assert choose_clips("op", 5, only_gold, set(), p, TRAINED, 1) == []
    no_gold = [ClipState(f"c{i}") for i in range(3)]
    assert sorted(choose_clips("op", 5, no_gold, set(), p, TRAINED, 1)) == ["c0", "c1", "c2"]


def test_training_mode_until_the_bar_is_passed() -> None:
    p = Policy(training_gold=4, training_bar=0.75, gold_rate=0.1)
    clips = [ClipState(f"c{i}") for i in range(20)] + [
        ClipState(f"g{i}", gold=True) for i in range(6)
    ]
    new = OperatorStats()
    assert is_training(new, p)
    got = choose_clips("op", 3, clips, set(), p, new, 1)
    assert len(got) == 3 and all(c.startswith("g") for c in got)
    failing = OperatorStats(training_results=(True, False, False, True, True))
    assert is_training(failing, p)  # last four: 2 of 4 right
    passing = OperatorStats(training_results=(False, True, True, True, True))
    assert not is_training(passing, p)  # last four all right
    got = choose_clips("op", 5, clips, {"g0", "g1", "g2"}, p, passing, 1)
    assert any(c.startswith("c") for c in got)
    assert not is_training(OperatorStats(passed_training=True), p)
    assert not is_training(OperatorStats(), Policy(training_gold=0))
    # a trainee who has seen the whole gold pool gets gold again rather than nothing
    everything = {f"g{i}" for i in range(6)}
    again = choose_clips("op", 4, clips, everything, p, failing, 1)
    assert len(again) == 4 and len(set(again)) == 4 and set(again) <= everything


def _simulate(policy: Policy, n_clips: int, n_gold: int, n_ops: int, batch: int, seed: int):  # type: ignore[no-untyped-def]
    """Operators ask for work until there is none; answers are simulated."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, size=n_clips)
    state = {f"c{i:03d}": ClipState(f"c{i:03d}") for i in range(n_clips)}
    state |= {f"g{i:02d}": ClipState(f"g{i:02d}", gold=True) for i in range(n_gold)}
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    history: dict[str, list[str]] = defaultdict(list)
    stats = {f"op{j}": OperatorStats() for j in range(n_ops)}
    skill = {f"op{j}": 0.65 + 0.3 * j / max(n_ops - 1, 1) for j in range(n_ops)}
    for round_ in range(500):
        progress = False
        for op in sorted(stats):
            st = stats[op]
            got = choose_clips(
                op, batch, list(state.values()), set(history[op]), policy, st, seed + round_
            )
            for cid in got:
                progress = True
                history[op].append(cid)
                clip = state[cid]
                if clip.gold:
                    right = bool(rng.random() < skill[op])
                    if is_training(st, policy):
                        st = replace(st, training_results=(*st.training_results, right))
                        if not is_training(st, policy):
                            st = replace(st, passed_training=True)
                    else:
                        st = replace(st, labels=st.labels + 1, gold_labels=st.gold_labels + 1)
                    continue
                t = truth[int(cid[1:])]
                answer = t if rng.random() < skill[op] else 1 - t
                votes[cid][int(answer)] += 1
                n = sum(votes[cid].values())
                state[cid] = replace(clip, votes=n, confidence=max(votes[cid].values()) / n)
                st = replace(st, labels=st.labels + 1)
            stats[op] = st
        if not progress:
            break
    return state, history, stats


def test_simulated_production_run() -> None:
    policy = Policy(
        k=3,
        min_votes=2,
        max_votes=5,
        confidence_threshold=0.9,
        gold_rate=0.1,
        training_gold=4,
        training_bar=0.75,
    )
    state, history, stats = _simulate(policy, n_clips=300, n_gold=30, n_ops=6, batch=7, seed=3)
    # every clip got what the policy wants, and no more than max_votes
    for clip in state.values():
        if clip.gold:
            continue
        assert is_done(clip, policy), clip
        assert policy.min_votes <= clip.votes <= policy.max_votes
    votes = [c.votes for c in state.values() if not c.gold]
    assert min(votes) == 2 and max(votes) == 5  # some stopped early, some were extended
    for op, seen in history.items():
        work = [c for c in seen if c.startswith("c")]
        assert len(work) == len(set(work)), op  # never the same clip twice
        gold = [c for c in seen if c.startswith("g")]
        if len(set(gold)) < 30:
            assert len(gold) == len(set(gold)), op  # gold repeats only once the pool ran out
        st = stats[op]
        if st.passed_training and st.labels >= 50:
            assert abs(st.gold_labels - 0.1 * st.labels) <= 1.0, (op, st)
