"""The one table style, for notebooks that import it next to the figures: :mod:`sorlib.tables` (kept out of
this package so that printing a table never imports plotly)."""

from ..tables import (  # noqa: F401
    CODE_LABELS,
    HEAD_ROWS,
    MAX_ROWS,
    NA_REASON,
    TZ,
    TZ_LABEL,
    Table,
    cell,
    code_label,
    column_decimals,
    header,
    install,
    kv_table,
    no_dollar,
    ny_time,
    params_text,
    table,
)

__all__ = ["CODE_LABELS", "HEAD_ROWS", "MAX_ROWS", "NA_REASON", "TZ", "TZ_LABEL", "Table", "cell", "code_label", "column_decimals",
           "header", "install", "kv_table",
           "no_dollar", "ny_time", "params_text", "table"]
