"""Issue 22 item 3: the pages name parameters in words with their unit, never as code (lambda_over=2)."""

from __future__ import annotations

from sorlib.report import edge_notes
from sorlib.tables import params_text


def test_grid_edge_note_names_the_parameter_in_words():
    notes = edge_notes({"edges": [{"parameter": "theta_queue", "side": "low", "value": 0.0}],
                        "walk_forward": {"folds": [{"fold": 2, "edges": [{"parameter": "lambda_under", "side": "high",
                                                                           "value": 0.1}]}]}})
    assert notes[0].startswith("Grid edge: θ queue = 0 USD/share is the lowest value searched and was chosen "
                               "(in-sample best)")
    assert notes[1].startswith("Grid edge: λ under = 0.1 USD/share is the highest value")
    assert not any("_" in n for n in notes)


def test_headline_parameters_in_words_with_unit():
    """The headline's 'router parameters …' (sorlib.report.verdict_html) is params_text of the best point."""
    assert params_text({"lambda_over": 2.0, "lambda_under": 0.01, "theta_queue": 0.005}) == \
        "λ over 2, λ under 0.01, θ queue 0.005 USD/share"
