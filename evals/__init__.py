"""Evals: datasets in; metrics with confidence intervals, plots, reports and run comparisons out."""

from evals.dataset import Case, Dataset, DatasetError, load_dataset
from evals.runner import RunConfig, RunResult, run_eval

__all__ = ["Case", "Dataset", "DatasetError", "RunConfig", "RunResult", "load_dataset", "run_eval"]

# the modules other packages may import (tests/test_layers.py checks it); the rest is
# this package's own business
PUBLIC_MODULES = (
    "cache",
    "browse",
    "calibrate",
    "compare",
    "dataset",
    "intents",
    "judge",
    "records",
    "replay",
    "report",
    "runner",
    "stats",
)
