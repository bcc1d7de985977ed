"""Whole-number splits: how exact published counts and totals are spread out by construction."""

from __future__ import annotations

import math


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into non-negative integers proportional to ``weights`` (Hamilton)."""
    scale = sum(weights)
    quotas = [total * w / scale for w in weights]
    parts = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(parts)), key=lambda i: parts[i] - quotas[i])
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts
