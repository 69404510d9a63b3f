"""ParetoFront against a brute-force dominance check."""

from __future__ import annotations

import numpy as np
import pytest

from results import ParetoFront


def brute_force_front(values: np.ndarray, directions: list[str]) -> set[int]:
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    v = values * sign  # all minimized
    front = set()
    for i in range(len(v)):
        dominated = any(
            np.all(v[j] <= v[i]) and np.any(v[j] < v[i]) for j in range(len(v)) if j != i
        )
        if not dominated:
            front.add(i)
    return front


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(
    "directions",
    [["maximize", "minimize"], ["minimize", "minimize"], ["maximize", "minimize", "minimize"]],
)
def test_front_matches_brute_force(seed: int, directions: list[str]) -> None:
    rng = np.random.default_rng(seed)
    # Few distinct levels: many ties and exact duplicates, the hard cases.
    values = rng.integers(0, 6, size=(60, len(directions))).astype(float)
    front = ParetoFront.from_points(values, directions)
    assert set(front.numbers) == brute_force_front(values, directions)
    np.testing.assert_array_equal(front.values, values[list(front.numbers)])


def test_infeasible_and_nan_points_are_never_on_the_front() -> None:
    values = np.array([[0.9, 10.0], [0.99, 5.0], [0.5, 1.0], [np.nan, 0.0]])
    front = ParetoFront.from_points(
        values, ["maximize", "minimize"], numbers=[10, 11, 12, 13], feasible=[1, 0, 1, 1]
    )
    assert front.numbers == (10, 12)


def test_hypervolume_of_a_known_front() -> None:
    front = ParetoFront.from_points([[1.0, 3.0], [3.0, 1.0], [2.0, 2.0]], ["minimize", "minimize"])
    assert front.hypervolume([4.0, 4.0]) == pytest.approx(3 + 2 + 1)
    maxi = ParetoFront.from_points([[0.9, 2.0]], ["maximize", "minimize"])
    assert maxi.hypervolume([0.0, 10.0]) == pytest.approx(0.9 * 8.0)


def test_empty_front() -> None:
    front = ParetoFront.from_points(np.empty((0, 2)), ["maximize", "minimize"])
    assert len(front) == 0 and front.hypervolume([0, 1]) == 0.0
