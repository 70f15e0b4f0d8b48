"""Evals: datasets in; metrics with confidence intervals, plots, reports and run comparisons out."""

from evals.dataset import Case, Dataset, DatasetError, load_dataset
from evals.runner import RunConfig, RunResult, run_eval

__all__ = ["Case", "Dataset", "DatasetError", "RunConfig", "RunResult", "load_dataset", "run_eval"]
