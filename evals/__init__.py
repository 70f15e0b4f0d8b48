"""Evals: datasets in; metrics with confidence intervals, plots, reports and run comparisons out."""

__all__: list[str] = []
