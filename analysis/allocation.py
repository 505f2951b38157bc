"""Allocating a sample to districts and quota cells in proportion to the frame.

Rounding uses the largest-remainder (Hamilton) method, so the totals are
preserved exactly and every cell is within one of its exact share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to *weights* that add up to *total* exactly.

    Ties in the remainders go to the earlier item (stable, reproducible).
    """
    if total < 0:
        raise ValueError("total must be non-negative")
    mass = float(sum(weights))
    if mass <= 0:
        if total:
            raise ValueError("cannot allocate a positive total to zero weights")
        return [0] * len(weights)
    exact = [total * w / mass for w in weights]
    floors = [math.floor(x) for x in exact]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def allocate_districts(
    total: int, populations: Mapping[str, float], minimum: int = 0
) -> dict[str, int]:
    """Split *total* across districts by population, each getting at least *minimum*."""
    names = list(populations)
    if minimum * len(names) > total:
        raise ValueError(
            f"总样本量 {total} 不足以让 {len(names)} 个区县各有 {minimum} 份（至少需要 "
            f"{minimum * len(names)}）"
        )
    fixed: dict[str, int] = {}
    while True:
        free = [n for n in names if n not in fixed]
        remaining = total - sum(fixed.values())
        shares = largest_remainder(remaining, [populations[n] for n in free])
        below = [n for n, s in zip(free, shares, strict=True) if s < minimum]
        if not below:
            return {**fixed, **dict(zip(free, shares, strict=True))}
        for n in below:
            fixed[n] = minimum


def allocate_cells(size: int, cell_populations: Mapping[tuple, float]) -> dict[tuple, int]:
    """Split a district's *size* over its cells in proportion to their population."""
    keys = list(cell_populations)
    return dict(
        zip(keys, largest_remainder(size, [cell_populations[k] for k in keys]), strict=True)
    )
