"""The simulated loop: simulated operators (confusion matrices), a model that learns from
the consensus as labels arrive; uncertainty-first reaches the target accuracy against
the people's consensus with fewer labels than random order (printed side by side)."""

from __future__ import annotations

from hub.models.simulate import SimConfig, make_world, run


def test_uncertainty_first_needs_fewer_labels_than_random() -> None:
    config = SimConfig(seed=3, target=0.97, max_labels=3600)
    world = make_world(config)
    first = run(world, "uncertainty")
    rand = run(world, "random")
    need_u, need_r = first.labels_to(config.target), rand.labels_to(config.target)
    print(
        f"\nlabels to reach {config.target:.0%} accuracy against confident consensus "
        f"(seed {config.seed}, {config.k} labels per clip):"
    )
    print(f"  uncertainty-first: {need_u}  ({first.seconds:.1f} s)")
    print(f"  random order:      {need_r or f'> {config.max_labels}'}  ({rand.seconds:.1f} s)")
    for budget in (300, 600, 1200):
        print(
            f"  accuracy at {budget:>4} labels: uncertainty {first.accuracy_at(budget):.3f}, "
            f"random {rand.accuracy_at(budget):.3f}"
        )
    assert need_u is not None
    assert need_r is None or need_u < need_r
    assert need_u <= 0.5 * (need_r or config.max_labels)
    # the same seed batch and the same labels per clip: both start equal
    assert first.rounds[0] == rand.rounds[0]
