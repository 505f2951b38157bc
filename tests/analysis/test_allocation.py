"""Allocation with the largest-remainder rule: totals exact, shares within one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.allocation import allocate_cells, allocate_districts, largest_remainder


def test_textbook_hamilton_example():
    # 100 seats, populations 4_200, 3_100, 1_700, 1_000 → quotas 42, 31, 17, 10.
    assert largest_remainder(100, [4200, 3100, 1700, 1000]) == [42, 31, 17, 10]
    # Remainders decide: 10 seats for 5, 3, 2 → exact 5.0/3.0/2.0.
    assert largest_remainder(7, [1, 1, 1]) == [3, 2, 2]


@given(
    total=st.integers(0, 5000),
    weights=st.lists(st.floats(0.01, 1e6, allow_nan=False), min_size=1, max_size=30),
)
def test_totals_preserved_and_within_one(total, weights):
    out = largest_remainder(total, weights)
    assert sum(out) == total
    mass = sum(weights)
    for got, w in zip(out, weights, strict=True):
        assert abs(got - total * w / mass) < 1 + 1e-9


@given(
    pops=st.lists(st.integers(1000, 900_000), min_size=2, max_size=12),
    minimum=st.integers(0, 150),
    extra=st.integers(0, 3000),
)
def test_district_minimums_respected(pops, minimum, extra):
    names = {f"d{i}": p for i, p in enumerate(pops)}
    total = minimum * len(pops) + extra
    out = allocate_districts(total, names, minimum)
    assert sum(out.values()) == total
    assert min(out.values()) >= minimum


def test_minimum_that_cannot_be_met_is_explained():
    with pytest.raises(ValueError, match="不足以"):
        allocate_districts(100, {"a": 1, "b": 2}, minimum=60)


def test_xianning_cells():
    cells = {("男", "18-29岁"): 40_000, ("女", "18-29岁"): 38_000, ("男", "60岁及以上"): 61_000}
    out = allocate_cells(300, cells)
    assert sum(out.values()) == 300 and out[("男", "60岁及以上")] == 132
