"""Parameter search at scale: spaces, resumable parallel execution, walk-forward and adaptive parameters.

* :func:`run_search` — the router over a search space and the baselines on many parent orders/days,
  locally (serial or processes) or on Dask; results stored per task and resumed (:mod:`.run`).
* :mod:`.space` — named grids, ranges (list / log / linspace), seeded random draws, TOML/JSON files.
* :mod:`.walkforward` — K-fold walk-forward validation with per-fold chosen parameters.
* :mod:`.adaptive` — a bandit that adapts the parameters between parent orders (UCB1, Thompson).
* :mod:`.executors` — serial, process-pool and Dask executors; data loaded once per worker.
"""

from .adaptive import AdaptiveResult, run_adaptive
from .executors import DaskExecutor, DataSpec, Executor, ProcessExecutor, SerialExecutor, make_executor
from .run import SearchIncomplete, SearchResult, data_spec, run_search, write_outputs
from .space import SearchSpace, grid_space, load_space, random_space, resolve_space
from .store import ResultStore, task_key
from .walkforward import CostMatrix, WalkForwardResult, walk_forward

__all__ = ["AdaptiveResult", "CostMatrix", "DaskExecutor", "DataSpec", "Executor", "ProcessExecutor",
           "ResultStore", "SearchIncomplete", "SearchResult", "SearchSpace", "SerialExecutor",
           "WalkForwardResult", "data_spec", "grid_space", "load_space", "make_executor", "random_space",
           "resolve_space", "run_adaptive", "run_search", "task_key", "walk_forward", "write_outputs"]
