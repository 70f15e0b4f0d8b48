"""Statistics for evals: intervals, bootstrap, paired tests, detectable differences.

Everything is deterministic (fixed seeds). A statistic that cannot be computed is ``None``
(never NaN), and callers show it as "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int
    method: str = ""

    def fmt(self, pct: bool = True, digits: int = 1) -> str:
        if self.value is None:
            return "n/a"
        f = (lambda x: f"{100 * x:.{digits}f}%") if pct else (lambda x: f"{x:.{digits + 2}f}")
        if self.low is None or self.high is None:
            return f(self.value)
        return f"{f(self.value)} [{f(self.low)}, {f(self.high)}]"

    def as_dict(self) -> dict[str, object]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "method": self.method,
        }


def fmt(e: object, pct: bool = True) -> str:
    """A figure as the reports print it: an estimate with its interval, a bare proportion (or,
    ``pct=False``, a score), "n/a" for None."""
    if isinstance(e, Estimate):
        return e.fmt(pct)
    if e is None:
        return "n/a"
    if isinstance(e, float):
        return f"{100 * e:.1f}%" if pct else f"{e:.3f}"
    return str(e)


def wilson(successes: float, n: int, z: float = Z95) -> Estimate:
    """Wilson score interval for a proportion (exact endpoints 0 and 1 handled)."""
    if n <= 0:
        return Estimate(None, None, None, 0, "wilson")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n, "wilson")


def clopper_pearson_upper(failures: float, n: float, alpha: float = 0.05) -> float:
    """One-sided upper (1 - alpha) bound on a failure rate: the risk-control bound.

    Counts may be fractional: an effective sample (n and failures divided by a design
    effect, see :func:`intragroup_correlation`) is bounded the same way (Korn & Graubard)."""
    if n <= 0:
        return 1.0
    if failures >= n:
        return 1.0
    return float(st.beta.ppf(1 - alpha, failures + 1, n - failures))


def intragroup_correlation(values: Sequence[float], groups: Sequence[str]) -> float:
    """Intra-class correlation of an outcome within groups (one-way ANOVA estimator, for
    unequal group sizes), clipped to [0, 1]; 0 when no group has two cases.

    Cases of one group (variants of a question, drafts of one conversation) tend to succeed
    or fail together, so n of them carry less evidence than n independent cases: Kish's
    design effect for groups of (size-weighted) mean size m is 1 + (m - 1) * icc."""
    by: dict[str, list[float]] = {}
    for v, g in zip(values, groups, strict=True):
        by.setdefault(g, []).append(float(v))
    n, k = len(values), len(by)
    if k < 2 or n <= k:
        return 0.0
    y = np.asarray(values, dtype=float)
    grand = y.mean()
    sizes = np.array([len(v) for v in by.values()], dtype=float)
    means = np.array([np.mean(v) for v in by.values()])
    msb = float((sizes * (means - grand) ** 2).sum()) / (k - 1)
    msw = sum(
        float(((np.asarray(v) - m) ** 2).sum()) for v, m in zip(by.values(), means, strict=True)
    ) / (n - k)
    m0 = (n - float((sizes**2).sum()) / n) / (k - 1)
    denom = msb + (m0 - 1) * msw
    if denom <= 0:
        return 0.0
    return float(min(1.0, max(0.0, (msb - msw) / denom)))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile, q in [0, 100]."""
    if not len(values):
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q, method="linear"))


def bootstrap(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float | None],
    *,
    groups: Sequence[str] | None = None,
    b: int = 2000,
    seed: int = 0,
) -> Estimate:
    """Percentile bootstrap; resamples whole groups (cluster bootstrap) when ``groups`` is given.

    ``values`` may be 2-D (one row per case) for ratio statistics such as sum(x)/sum(y).
    :func:`mean` and :func:`ratio` are computed in closed form from per-group sums (fast);
    any other statistic is recomputed on each resample.
    """
    arr = np.asarray(values, dtype=float)
    n = len(arr)
    point = statistic(arr) if n else None
    if n == 0 or point is None:
        return Estimate(point, None, None, n, "bootstrap")
    rng = np.random.default_rng(seed)
    if groups is not None:
        _, inverse = np.unique(np.asarray(groups), return_inverse=True)
        k = int(inverse.max()) + 1
        method = f"cluster bootstrap ({k} groups)"
    else:
        inverse = np.arange(n)
        k = n
        method = "bootstrap"
    counts = np.stack(
        [np.bincount(rng.integers(0, k, size=k), minlength=k) for _ in range(b)]
    )  # b x k
    if statistic is mean or statistic is ratio:
        if statistic is mean:
            num = np.bincount(inverse, weights=arr if arr.ndim == 1 else arr[:, 0], minlength=k)
            den = np.bincount(inverse, minlength=k).astype(float)
        else:
            num = np.bincount(inverse, weights=arr[:, 0], minlength=k)
            den = np.bincount(inverse, weights=arr[:, 1], minlength=k)
        top, bottom = counts @ num, counts @ den
        keep = bottom > 0
        samples = top[keep] / bottom[keep]
    else:
        members = [np.flatnonzero(inverse == g) for g in range(k)]
        samples_list = []
        for row in counts:
            idx = np.concatenate([np.repeat(members[g], c) for g, c in enumerate(row) if c])
            v = statistic(arr[idx])
            if v is not None and not math.isnan(v):
                samples_list.append(v)
        samples = np.asarray(samples_list)
    if not len(samples):
        return Estimate(point, None, None, n, method)
    return Estimate(
        point, float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5)), n, method
    )


def bootstrap_percentile(
    values: Sequence[float], q: float, *, b: int = 2000, seed: int = 0
) -> Estimate:
    """Percentile (linear interpolation) with a vectorised bootstrap interval."""
    arr = np.asarray(values, dtype=float)
    if not len(arr):
        return Estimate(None, None, None, 0, "bootstrap")
    rng = np.random.default_rng(seed)
    samples = np.percentile(
        arr[rng.integers(0, len(arr), size=(b, len(arr)))], q, axis=1, method="linear"
    )
    return Estimate(
        percentile(arr.tolist(), q),
        float(np.percentile(samples, 2.5)),
        float(np.percentile(samples, 97.5)),
        len(arr),
        "bootstrap",
    )


def ratio(arr: np.ndarray) -> float | None:
    """sum(column 0) / sum(column 1); None when the denominator is 0."""
    den = arr[:, 1].sum()
    return float(arr[:, 0].sum() / den) if den else None


def mean(arr: np.ndarray) -> float | None:
    return float(arr.mean()) if len(arr) else None


def mcnemar_exact(b: int, c: int) -> float:
    """Exact McNemar p-value: 2 * BinomCDF(min(b, c); b + c, 1/2), capped at 1."""
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2 * st.binom.cdf(min(b, c), b + c, 0.5)))


def paired_mde(p_discordant: float, n: int) -> float | None:
    """Minimum detectable difference, paired, alpha .05 two-sided, power .8."""
    return 2.80 * math.sqrt(p_discordant / n) if n else None


def unpaired_mde(n: int, p: float = 0.5) -> float | None:
    return 2.80 * math.sqrt(2 * p * (1 - p) / n) if n else None
