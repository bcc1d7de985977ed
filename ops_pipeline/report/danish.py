"""Numbers in Danish format: "." between thousands, "," before decimals ("1.234,5")."""

from __future__ import annotations

import math

# Python's format uses "," for thousands and "." for decimals: swap them.
_DANISH = str.maketrans({",": ".", ".": ","})


def number(value: float, decimals: int = 0) -> str:
    """``1234567.891`` → ``"1.234.567,89"`` with ``decimals=2``; minus sign as "-"."""
    text = f"{value:,.{decimals}f}".translate(_DANISH)
    # "-0" after rounding a small negative number reads as a sign error.
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def kroner(value: float, decimals: int = 0) -> str:
    """``594.3`` → ``"594 kr."``."""
    return f"{number(value, decimals)} kr."


def millions(value: float, decimals: int = 1) -> str:
    """``26_912_000`` → ``"26,9 mio. kr."``."""
    return f"{number(value / 1e6, decimals)} mio. kr."


def billions(value: float, decimals: int = 2) -> str:
    """``2_154_000_000`` → ``"2,15 mia. kr."``."""
    return f"{number(value / 1e9, decimals)} mia. kr."


def percent(share: float, decimals: int = 0) -> str:
    """A share as Danish percent: ``0.8265`` → ``"83 pct."``."""
    return f"{number(share * 100, decimals)} pct."


def headline_billions(value: float) -> str:
    """The headline as published: rounded down to one decimal in billions, "mere end" when
    anything was cut off: ``2.16e9`` → ``"mere end 2,1 mia. kr."``; ``2.1e9`` → ``"2,1 mia. kr."``.
    """
    tenths = math.floor(value / 1e8)
    floored = f"{number(tenths / 10, 1)} mia. kr."
    return f"mere end {floored}" if value > tenths * 1e8 else floored
