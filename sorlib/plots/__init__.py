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

# exploration (notebook 01) and parameter-search (notebook 03) figures
from .data import (  # noqa: E402
    best_price_time_figure,
    bid_queue_outflows,
    data_figures,
    load_report_frame,
    outflow_figure,
    outflow_summary,
    quote_rate_figure,
    spread_figure,
    touch_size_figure,
    trades_figure,
    venue_table_frame,
)
from .search import (  # noqa: E402
    add_relative_cost,
    best_rows,
    cost_heatmap,
    parallel_coordinates,
    search_figures,
    sensitivity_figure,
    sensitivity_frame,
)

__all__ += ["add_relative_cost", "best_price_time_figure", "best_rows", "bid_queue_outflows", "cost_heatmap",
            "data_figures", "load_report_frame", "outflow_figure", "outflow_summary", "parallel_coordinates",
            "quote_rate_figure", "search_figures", "sensitivity_figure", "sensitivity_frame", "spread_figure", "touch_size_figure",
            "trades_figure", "venue_table_frame"]

# one venue colour map and the shared look of every figure
from .colors import STRATEGY_COLORS, venue_color, venue_colors, venue_id  # noqa: E402
from .data import quote_venues  # noqa: E402
from .style import finish, label, log_ticks, time_label  # noqa: E402

__all__ += ["STRATEGY_COLORS", "finish", "label", "log_ticks", "quote_venues", "time_label", "venue_color",
            "venue_colors", "venue_id"]

# Cont–Kukanov model figures (notebook 04)
from .ck import (  # noqa: E402
    cost_slice,
    cost_slice_figure,
    fill_kinds_figure,
    fill_kinds_frame,
    is_convex,
    overbooking_figure,
    placement_bar_figure,
    placement_figure,
    placement_sweep,
    single_venue_figure,
    single_venue_sweep,
)

__all__ += ["cost_slice", "cost_slice_figure", "fill_kinds_figure", "fill_kinds_frame", "is_convex",
            "overbooking_figure", "placement_bar_figure", "placement_figure", "placement_sweep",
            "single_venue_figure", "single_venue_sweep"]

# realism-ladder figures (notebook 05)
from .realism import (  # noqa: E402
    realism_children_figure,
    realism_cost_figure,
    realism_figures,
    realism_savings_figure,
)

__all__ += ["realism_children_figure", "realism_cost_figure", "realism_figures", "realism_savings_figure"]

# transaction-cost analysis and schedules (notebook 06)
from .tca import (  # noqa: E402
    frontier_figure,
    markout_figure,
    participation_figure,
    schedule_savings_figure,
    tca_breakdown_figure,
    trajectory_figure,
)

__all__ += ["frontier_figure", "markout_figure", "participation_figure", "schedule_savings_figure",
            "tca_breakdown_figure", "trajectory_figure"]
