"""Latency histograms and markdown tables."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

# Log-scale buckets with 1 % relative width, starting at 10 µs: enough precision for
# percentiles and small enough to ship from the load generators as JSON.
_BASE_MS = 0.01
_LOG_STEP = math.log(1.01)


class Histogram:
    """Counts of values (milliseconds) in 1 %-wide buckets, plus the exact min/max/sum."""

    __slots__ = ("buckets", "count", "max", "min", "total")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self.min = math.inf

    def record(self, ms: float) -> None:
        index = 0 if ms < _BASE_MS else int(math.log(ms / _BASE_MS) / _LOG_STEP) + 1
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1
        self.total += ms
        if ms > self.max:
            self.max = ms
        if ms < self.min:
            self.min = ms

    def merge(self, other: Histogram) -> Histogram:
        for index, n in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + n
        self.count += other.count
        self.total += other.total
        self.max = max(self.max, other.max)
        self.min = min(self.min, other.min)
        return self

    def percentile(self, p: float) -> float | None:
        """The value below which ``p`` percent of the samples lie (bucket upper bound)."""
        if not self.count:
            return None
        rank = max(1, math.ceil(self.count * p / 100))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                if index == 0:
                    return min(_BASE_MS, self.max)
                upper = _BASE_MS * math.exp(index * _LOG_STEP)
                return min(upper, self.max)
        return self.max

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def to_json(self) -> dict[str, Any]:
        return {"b": self.buckets, "n": self.count, "s": self.total, "max": self.max,
                "min": self.min if self.count else 0.0}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        h = cls()
        h.buckets = {int(k): v for k, v in data["b"].items()}
        h.count = data["n"]
        h.total = data["s"]
        h.max = data["max"]
        h.min = data["min"] if h.count else math.inf
        return h

    @classmethod
    def merged(cls, parts: Iterable[dict[str, Any] | Histogram]) -> Histogram:
        h = cls()
        for part in parts:
            h.merge(part if isinstance(part, Histogram) else cls.from_json(part))
        return h


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_int(value: int | float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def fmt_num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)
