"""Queue models checked against order-level truth (``sorlib validate-fills``): metrics layer.

* :mod:`.events` — candidate orders (real joiners and improvers of the best; class ``joined`` / ``improved``)
  and their event streams with the real order removed;
* :mod:`.predict` — a queue model run as a hypothetical order on such a stream;
* :mod:`.score` — Q/L buckets, fill rates, bias, calibration error, Brier score, markouts;
* :mod:`.fit` — fitting a model's exponent on a training half;
* :mod:`.validate` — :func:`validate_fills`, the whole check, and its :class:`FillValidation` result.
"""

from __future__ import annotations

from .events import Candidates, Streams, build_streams, select_candidates
from .predict import DEFAULT_MODELS, KINDS, ModelSpec, parse_models, predict
from .score import BUCKET_LABELS, buckets, markouts, rates
from .validate import HORIZONS_S, MARKOUT_S, FillValidation, validate_fills

__all__ = ["BUCKET_LABELS", "Candidates", "DEFAULT_MODELS", "FillValidation", "HORIZONS_S", "KINDS", "MARKOUT_S",
           "ModelSpec", "Streams", "build_streams", "buckets", "markouts", "parse_models", "predict", "rates",
           "select_candidates", "validate_fills"]
