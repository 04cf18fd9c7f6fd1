""":func:`validate_fills`: every queue model against what happened to real resting orders.

For every candidate (a real order that joined its side's best, :mod:`.events`) the real order is removed
from the data and each model rests a hypothetical order with the same arrival, side, price, size and queue
ahead over the real order's lifetime (:mod:`.predict`); its predicted fills are scored against the real
order's executions at each horizon (:mod:`.score`). With ``fit=True`` the exponents of ``power`` and
``power3`` are fitted per venue on the first half of the candidates by arrival time (:mod:`.fit`), and every
model is scored on the second half ("test") as well as on the training half and on all candidates.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._io import atomic_write_json, atomic_write_text, check_output_dir
from ..data.market import MarketData
from ..data.order_events import OrderEvents
from ..errors import DataError
from .events import BAD_NAMES, K_OWN_EXEC, Candidates, build_streams, select_candidates
from .fit import fit_exponent, split_halves
from .predict import DEFAULT_MODELS, ModelSpec, parse_models, predict
from .score import BUCKET_LABELS, Mids, buckets, markouts, rates

HORIZONS_S = (10.0, 30.0, 60.0)
MARKOUT_S = (1.0, 10.0, 60.0)
FIT_KINDS = ("power", "power3")
#: models that follow a queue position and fill only from print volume beyond the queue ahead (not ``simple``,
#: whose Binomial draw ignores the print's size, nor ``paper``, settled from the level's outflow)
QUEUE_KINDS = ("conservative", "power", "power2", "power3", "log", "log2")


@dataclass
class FillValidation:
    """Results of :func:`validate_fills` (all rates are fractions; ``*_pp`` percentage points; markouts bps).

    ``summary``: one row per (model, sample, horizon) with n, shares, realised, predicted, bias_pp, calib_pp,
    brier; ``buckets``: one row per (model, sample, horizon, Q/L bucket); ``markouts``: one row per (who,
    sample) — ``real`` fills, each model's fills, and ``arrivals`` (the candidates' arrival times, the
    unconditional benchmark); ``exclusions``: per horizon, candidates left out by reason; ``info``: counts
    of the selection; ``fitted``: per venue, the fitted exponents."""

    source: str
    horizons: tuple[float, ...]
    models: list[str]
    summary: list[dict] = field(default_factory=list)
    buckets: list[dict] = field(default_factory=list)
    markouts: list[dict] = field(default_factory=list)
    exclusions: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    fitted: dict = field(default_factory=dict)

    @property
    def score_sample(self) -> str:
        """``test`` when models were fitted (out of sample), else ``all``."""
        return "test" if self.fitted else "all"

    def table(self, sample: str | None = None, horizon: float | None = None) -> list[dict]:
        """Summary rows of one sample (default :attr:`score_sample`) and optionally one horizon."""
        s = sample or self.score_sample
        return [r for r in self.summary if r["sample"] == s and (horizon is None or r["horizon_s"] == horizon)]

    def best(self, horizon: float | None = None, sample: str | None = None, kinds=None) -> dict | None:
        """The row with the smallest calibration error at ``horizon`` (default: the longest); ``kinds``: only
        models of these kinds (e.g. :data:`QUEUE_KINDS`)."""
        h = max(self.horizons) if horizon is None else horizon
        rows = [r for r in self.table(sample, h) if r["calib_pp"] is not None and np.isfinite(r["calib_pp"])
                and (kinds is None or r["model"].split(":")[0] in kinds)]
        return min(rows, key=lambda r: r["calib_pp"]) if rows else None

    def verdict(self) -> str:
        """One sentence naming the best-calibrated model at the longest horizon and its error, and the best
        queue-position model (:data:`QUEUE_KINDS`) when the best is not one."""
        b = self.best()
        if b is None:
            return "No candidate order could be scored (see the exclusions)."
        where = "out of sample (second half of the day)" if self.fitted else "on all candidate orders"
        text = (f"{b['model']} validates best {where}: calibration error {b['calib_pp']:.2f} points at "
                f"{b['horizon_s']:g} s (realised fill rate {100 * b['realised']:.1f}%, predicted "
                f"{100 * b['predicted']:.1f}%, bias {b['bias_pp']:+.2f} points, {b['n']:,} orders)")
        q = self.best(kinds=QUEUE_KINDS)
        if q is not None and b["model"].split(":")[0] not in QUEUE_KINDS:
            text += (f"; the best queue-position model (fills only from the prints beyond the queue ahead) is "
                     f"{q['model']}: {q['calib_pp']:.2f} points, bias {q['bias_pp']:+.2f}")
        return text + "."

    def to_dict(self) -> dict:
        return {"source": self.source, "horizons_s": list(self.horizons), "models": self.models,
                "buckets_q_over_l": list(BUCKET_LABELS), "verdict": self.verdict(), "info": self.info,
                "exclusions": self.exclusions, "fitted": self.fitted, "summary": self.summary,
                "markouts_bps": self.markouts, "bucket_rows": self.buckets}

    def write(self, out_dir: str | Path) -> list[Path]:
        """``fill_validation.json``, ``fill_summary.csv``, ``fill_buckets.csv``, ``fill_markouts.csv`` in
        ``out_dir`` (each written atomically)."""
        d = check_output_dir(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        paths = [atomic_write_json(d / "fill_validation.json", self.to_dict())]
        for name, rows in (("fill_summary.csv", self.summary), ("fill_buckets.csv", self.buckets),
                           ("fill_markouts.csv", self.markouts)):
            paths.append(atomic_write_text(d / name, _csv(rows)))
        return paths


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()})
    return buf.getvalue()


def validate_fills(events: OrderEvents, md: MarketData | None = None, models=DEFAULT_MODELS,
                   horizons=HORIZONS_S, *, fit: bool = False, markout_s=MARKOUT_S, seed: int = 0,
                   own_prints: str = "reassign", source: str | None = None) -> FillValidation:
    """Validate ``models`` (names such as ``"power:2"``, or :class:`ModelSpec`) against the real resting orders
    of ``events`` at each horizon (seconds). ``md``: the same data's :class:`MarketData`, whose book depth
    decides what is visible (a level-1 book cannot see a queue that is no longer the best; None, or MBO data
    whose book is rebuilt from every order: full depth).
    ``fit``: also fit ``power`` and ``power3`` per venue on the first half and score out of sample.
    ``own_prints``: what the real order's executions leave on the tape (:mod:`.events`): ``reassign`` (the
    default: the print the orders queued behind it would have received under price-time priority), ``drop``
    (nothing: a lower bound) or ``keep`` (the whole execution: an upper bound)."""
    horizons = tuple(float(h) for h in horizons)
    if not horizons or any(not np.isfinite(h) or h <= 0 for h in horizons):
        raise DataError(f"horizons must be positive seconds, got {horizons}")
    specs = parse_models(models, seed=seed)
    if len(events) == 0:
        raise DataError("no order events to validate", path=source or events.source or None)
    cands, info = select_candidates(events)
    full_depth = md is None or "mbo" in (md.report.format or "")  # an MBO book is rebuilt from every order
    st = build_streams(events, cands, max(horizons), None if full_depth else md, own_prints)
    hz = cands.ts[:, None] + np.round(np.asarray(horizons) * 1e9).astype(np.int64)[None, :]
    valid, excl = _validity(events, cands, st, hz, horizons)
    real = _realised(st, hz)
    excl_info = _excluded_rates(cands, real, st, hz, horizons)
    bucket = buckets(cands.ahead, cands.size)
    samples = {"all": np.ones(len(cands), bool)}
    fitted, per_n = {}, {}
    if fit:
        train = split_halves(cands)
        samples |= {"train": train, "test": ~train}
        fitted, per_n = _fit(st, cands, horizons, real, valid, train, bucket)
    res = FillValidation(source or events.source, horizons, [], exclusions=excl,
                         info=info | {"own_prints": own_prints, "excluded_realised": excl_info}, fitted=fitted)
    mids = Mids(events)
    vmax = valid[:, -1] if horizons[-1] == max(horizons) else valid[:, int(np.argmax(horizons))]
    res.markouts.append(_real_markouts(mids, cands, st, vmax, markout_s))
    res.markouts.append({"who": "arrivals", "sample": "all"} | markouts(
        mids, cands.venue[vmax], cands.side[vmax], cands.ts[vmax] + 1, cands.size[vmax], markout_s))
    runs = [(s, None) for s in specs] + [(ModelSpec(k, 1.0, label=f"{k}:fit"), per_n[k]) for k in per_n]
    for spec, n in runs:
        res.models.append(spec.label)
        p = predict(st, cands, spec, horizons, n=n)
        for sname, smask in samples.items():
            for h, T in enumerate(horizons):
                m = smask & valid[:, h]
                r = rates(real[m, h], p.fills[m, h], cands.size[m], bucket[m])
                head = {"model": spec.label, "sample": sname, "horizon_s": T}
                res.summary.append(head | {k: v for k, v in r.items() if k != "buckets"})
                res.buckets.extend(head | b for b in r["buckets"])
        fm = p.step_fill > 0
        owner = np.searchsorted(st.start, np.flatnonzero(fm), side="right") - 1
        keep = vmax[owner]
        c = owner[keep]
        res.markouts.append({"who": spec.label, "sample": "all"} | markouts(
            mids, cands.venue[c], cands.side[c], st.t[fm][keep], p.step_fill[fm][keep], markout_s))
    return res


def _owner(st, rows: np.ndarray) -> np.ndarray:
    return np.searchsorted(st.start, rows, side="right") - 1


def _realised(st, hz: np.ndarray) -> np.ndarray:
    """Real shares executed per candidate by each horizon (its own visible executions)."""
    rows = np.flatnonzero(st.kind == K_OWN_EXEC)
    c = _owner(st, rows)
    real = np.zeros(hz.shape, np.int64)
    for h in range(hz.shape[1]):
        m = st.t[rows] <= hz[c, h]
        np.add.at(real[:, h], c[m], st.qty[rows][m].astype(np.int64))
    return real


def _validity(events: OrderEvents, cands: Candidates, st, hz: np.ndarray, horizons) -> tuple[np.ndarray, dict]:
    """valid[c, h] and, per horizon, the candidates excluded by reason (module :mod:`.events` docstring)."""
    t_last = int(events.ts[-1])
    valid = np.zeros(hz.shape, bool)
    excl = {}
    for h, T in enumerate(horizons):
        until = np.minimum(hz[:, h], st.life_end)
        censored = hz[:, h] > t_last
        bad = (st.bad_t <= until) & ~censored
        valid[:, h] = ~(censored | bad)
        counts = {"censored_at_data_end": int(censored.sum())}
        for code, name in BAD_NAMES.items():
            counts[name] = int((bad & (st.bad_why == code)).sum())
        excl[f"{T:g}s"] = counts | {"scored": int(valid[:, h].sum())}
    return valid, excl


def _excluded_rates(cands: Candidates, real: np.ndarray, st, hz, horizons) -> dict:
    """Realised fill rate of the displaced candidates (reported, not scored)."""
    from .events import BAD_DISPLACED

    out = {}
    for h, T in enumerate(horizons):
        m = (st.bad_why == BAD_DISPLACED) & (st.bad_t <= np.minimum(hz[:, h], st.life_end))
        sz = cands.size[m].sum()
        out[f"displaced_{T:g}s"] = {"n": int(m.sum()), "realised": float(real[m, h].sum() / sz) if sz else None}
    return out


def _real_markouts(mids: Mids, cands: Candidates, st, vmax: np.ndarray, markout_s) -> dict:
    rows = np.flatnonzero(st.kind == K_OWN_EXEC)
    c = _owner(st, rows)
    keep = vmax[c]
    rows, c = rows[keep], c[keep]
    return {"who": "real", "sample": "all"} | markouts(mids, cands.venue[c], cands.side[c], st.t[rows],
                                                       st.qty[rows], markout_s)


def _fit(st, cands: Candidates, horizons, real, valid, train, bucket) -> tuple[dict, dict]:
    """Per venue and kind, the exponent minimising the training calibration error; per-candidate n arrays."""
    fitted: dict = {}
    per_n = {k: np.ones(len(cands)) for k in FIT_KINDS}
    for v in np.unique(cands.venue):
        vm = cands.venue == v
        fitted[str(int(v))] = {}
        for k in FIT_KINDS:
            r = fit_exponent(st, cands, k, horizons, real, valid, train & vm, bucket)
            fitted[str(int(v))][k] = {"n": r["n"], "train_calib_pp": r["train_calib_pp"]}
            per_n[k][vm] = r["n"] if r["n"] is not None else 1.0
    return fitted, per_n


def fit_profile_exponent(events: OrderEvents, md: MarketData | None = None, kind: str = "power3",
                         horizons=HORIZONS_S, own_prints: str = "reassign") -> dict[int, dict]:
    """Per venue, the exponent of ``kind`` (``power`` or ``power3``; power3's n is the venue profile's
    ``queue_cancel_bias``) fitted on the first half of the candidates, with its training and out-of-sample
    (second half) calibration errors at the longest horizon and the conservative model's out-of-sample error
    for comparison: ``{venue: {"n", "train_calib_pp", "test_calib_pp", "conservative_test_calib_pp"}}``."""
    if kind not in FIT_KINDS:
        raise DataError(f"only {', '.join(FIT_KINDS)} have a fitted exponent, got {kind!r}")
    out = {}
    for v in np.unique(events.venue[events.action == 1]):
        ev = events.take(events.venue == v)
        res = validate_fills(ev, md, ["conservative"], horizons, fit=True, own_prints=own_prints)
        f = res.fitted.get(str(int(v)), {}).get(kind)
        if not f or f["n"] is None:
            continue
        h = max(res.horizons)
        test = {r["model"]: r["calib_pp"] for r in res.table("test", h)}
        train = {r["model"]: r["calib_pp"] for r in res.table("train", h)}
        out[int(v)] = {"n": f["n"], "train_calib_pp": train.get(f"{kind}:fit"), "test_calib_pp": test.get(f"{kind}:fit"),
                       "conservative_test_calib_pp": test.get("conservative"), "horizon_s": h}
    return out
