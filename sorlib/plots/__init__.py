"""Plotly figures: every function returns a ``go.Figure``; notebooks and the CLI only call these."""

from .backtest import (
    backtest_figures,
    cumulative_figure,
    fill_size_figure,
    grid_heatmap,
    savings_figure,
    venue_split_figure,
    write_backtest_plots,
)

__all__ = ["backtest_figures", "cumulative_figure", "fill_size_figure", "grid_heatmap", "savings_figure",
           "venue_split_figure", "write_backtest_plots"]
