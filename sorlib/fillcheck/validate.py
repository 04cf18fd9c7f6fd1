""":func:`validate_fills`: every queue model against what happened to real resting orders.

For every candidate (a real order that joined or set its side's best, :mod:`.events`) the real order is
removed from the data and each model rests a hypothetical order with the same arrival, side, price, size and queue
ahead over the real order's lifetime (:mod:`.predict`); its predicted fills are scored against the real
order's executions at each horizon (:mod:`.score`). With ``fit=True`` the exponents of ``power`` and
``power3`` are fitted per venue on the first half of the candidates by arrival time (:mod:`.fit`), and every
model is scored on the second half ("test") as well as on the training half and on all candidates.

Every score is computed per candidate class (:data:`.events.CLASSES`): ``joined`` (Q > 0 at arrival),
``improved`` (Q = 0: the order created its price level, so its removal leaves no queue to predict from) and
``all``. ``candidates`` picks the headline class (default ``joined``): the one fitted, tabled, named in the
verdict and marked out; the others are reported beside it.
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
from .events import (
    BAD_NAMES,
    CLASSES,
    IMPROVED_REASON,
    K_OWN_EXEC,
    Candidates,
    build_streams,
    select_candidates,
)
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

    ``candidates``: the headline class (``joined``, ``improved`` or ``all``); ``summary``: one row per (model,
    candidates class, sample, horizon) with n, shares, realised, predicted, bias_pp, calib_pp, brier;
    ``buckets``: one row per (model, class, sample, horizon, Q/L bucket); ``markouts``: one row per (who,
    sample) over the headline class — ``real`` fills, each model's fills, and ``arrivals`` (the candidates'
    arrival times, the unconditional benchmark); ``exclusions``: per horizon, headline candidates left out by
    reason; ``by_class``: per class, its count and its exclusions per horizon; ``info``: counts of the
    selection (adds = joined + improved + adds not at the best + adds at the best with the queue unknown);
    ``notes``: sentences on what the headline leaves out and why; ``fitted``: per venue, the fitted exponents;
    ``orders``: the per-order table (columns of equal length: one row per candidate, its class, and per
    horizon whether it was scored, why not, its realised fill and each model's predicted fill, shares)."""

    source: str
    horizons: tuple[float, ...]
    models: list[str]
    summary: list[dict] = field(default_factory=list)
    buckets: list[dict] = field(default_factory=list)
    markouts: list[dict] = field(default_factory=list)
    exclusions: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    fitted: dict = field(default_factory=dict)
    candidates: str = "joined"
    by_class: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    orders: dict = field(default_factory=dict)

    @property
    def score_sample(self) -> str:
        """``test`` when models were fitted (out of sample), else ``all``."""
        return "test" if self.fitted else "all"

    def table(self, sample: str | None = None, horizon: float | None = None, cls: str | None = None) -> list[dict]:
        """Summary rows of one sample (default :attr:`score_sample`), one class (default the headline
        :attr:`candidates`) and optionally one horizon."""
        s, c = sample or self.score_sample, cls or self.candidates
        return [r for r in self.summary if r["sample"] == s and r.get("candidates", c) == c
                and (horizon is None or r["horizon_s"] == horizon)]

    def bucket_rows(self, sample: str | None = None, horizon: float | None = None, cls: str | None = None) -> list:
        """Bucket rows of one sample, class (defaults as :meth:`table`) and optionally one horizon."""
        s, c = sample or self.score_sample, cls or self.candidates
        return [r for r in self.buckets if r["sample"] == s and r.get("candidates", c) == c
                and (horizon is None or r["horizon_s"] == horizon)]

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
        who = {"joined": "orders that joined a queue", "improved": "orders that created their price level",
               "all": "all candidate orders"}[self.candidates]
        where = f"out of sample (second half of the day, {who})" if self.fitted else f"on {who}"
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
                "candidates": self.candidates, "buckets_q_over_l": list(BUCKET_LABELS), "verdict": self.verdict(),
                "notes": self.notes, "info": self.info, "exclusions": self.exclusions, "by_class": self.by_class,
                "fitted": self.fitted, "summary": self.summary, "markouts_bps": self.markouts,
                "bucket_rows": self.buckets}

    def orders_frame(self):
        """:attr:`orders` as a ``pandas.DataFrame`` (one row per candidate)."""
        import pandas as pd

        return pd.DataFrame(self.orders)

    def write(self, out_dir: str | Path) -> list[Path]:
        """``fill_validation.json``, ``fill_summary.csv``, ``fill_buckets.csv``, ``fill_markouts.csv`` and
        ``fill_orders.csv`` (one row per candidate order, with its class) in ``out_dir`` (each atomically)."""
        d = check_output_dir(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        paths = [atomic_write_json(d / "fill_validation.json", self.to_dict())]
        for name, rows in (("fill_summary.csv", self.summary), ("fill_buckets.csv", self.buckets),
                           ("fill_markouts.csv", self.markouts)):
            paths.append(atomic_write_text(d / name, _csv(rows)))
        if self.orders:
            paths.append(atomic_write_text(d / "fill_orders.csv", self.orders_frame().to_csv(index=False)))
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
                   own_prints: str = "reassign", candidates: str = "joined",
                   source: str | None = None) -> FillValidation:
    """Validate ``models`` (names such as ``"power:2"``, or :class:`ModelSpec`) against the real resting orders
    of ``events`` at each horizon (seconds). ``md``: the same data's :class:`MarketData`, whose book depth
    decides what is visible (a level-1 book cannot see a queue that is no longer the best; None, or MBO data
    whose book is rebuilt from every order: full depth).
    ``fit``: also fit ``power`` and ``power3`` per venue on the first half of the headline class and score
    out of sample.
    ``own_prints``: what the real order's executions leave on the tape (:mod:`.events`): ``reassign`` (the
    default: the print the orders queued behind it would have received under price-time priority), ``drop``
    (nothing: a lower bound) or ``keep`` (the whole execution: an upper bound).
    ``candidates``: the headline class — ``joined`` (the default: orders that joined a displayed queue),
    ``improved`` (orders that created their price level) or ``all``; every class is scored either way."""
    horizons = tuple(float(h) for h in horizons)
    if not horizons or any(not np.isfinite(h) or h <= 0 for h in horizons):
        raise DataError(f"horizons must be positive seconds, got {horizons}")
    specs = parse_models(models, seed=seed)
    if len(events) == 0:
        raise DataError("no order events to validate", path=source or events.source or None)
    cands, info = select_candidates(events)
    head = cands.mask(candidates)
    full_depth = md is None or "mbo" in (md.report.format or "")  # an MBO book is rebuilt from every order
    st = build_streams(events, cands, max(horizons), None if full_depth else md, own_prints)
    hz = cands.ts[:, None] + np.round(np.asarray(horizons) * 1e9).astype(np.int64)[None, :]
    valid, why = _validity(events, st, hz)
    by_class = {c: {"candidates": int(cands.mask(c).sum()), "exclusions": _exclusions(why, cands.mask(c), horizons)}
                for c in CLASSES}
    real = _realised(st, hz)
    bucket = buckets(cands.ahead, cands.size)
    samples = {"all": np.ones(len(cands), bool)}
    fitted, per_n = {}, {}
    if fit:
        train = split_halves(cands, head)
        samples |= {"train": train, "test": ~train}
        fitted, per_n = _fit(st, cands, horizons, real, valid, train & head, bucket)
    res = FillValidation(source or events.source, horizons, [], exclusions=by_class[candidates]["exclusions"],
                         info=info | {"own_prints": own_prints, "candidates_scored": candidates,
                                      "excluded_realised": _excluded_rates(cands, real, st, hz, horizons, head)},
                         fitted=fitted, candidates=candidates, by_class=by_class, notes=_notes(info, candidates))
    res.orders = _order_table(cands, why, real, horizons, samples.get("train"))
    mids = Mids(events)
    vmax = valid[:, int(np.argmax(horizons))] & head
    res.markouts.append(_real_markouts(mids, cands, st, vmax, markout_s))
    res.markouts.append({"who": "arrivals", "sample": "all"} | markouts(
        mids, cands.venue[vmax], cands.side[vmax], cands.ts[vmax] + 1, cands.size[vmax], markout_s))
    runs = [(s, None) for s in specs] + [(ModelSpec(k, 1.0, label=f"{k}:fit"), per_n[k]) for k in per_n]
    for spec, n in runs:
        res.models.append(spec.label)
        p = predict(st, cands, spec, horizons, n=n)
        for h, T in enumerate(horizons):
            res.orders[f"{spec.label} {T:g}s"] = p.fills[:, h]
        for cls in CLASSES:
            cm = cands.mask(cls)
            for sname, smask in samples.items():
                for h, T in enumerate(horizons):
                    m = cm & smask & valid[:, h]
                    r = rates(real[m, h], p.fills[m, h], cands.size[m], bucket[m])
                    head_row = {"model": spec.label, "candidates": cls, "sample": sname, "horizon_s": T}
                    res.summary.append(head_row | {k: v for k, v in r.items() if k != "buckets"})
                    res.buckets.extend(head_row | b for b in r["buckets"])
        fm = p.step_fill > 0
        owner = np.searchsorted(st.start, np.flatnonzero(fm), side="right") - 1
        keep = vmax[owner]
        c = owner[keep]
        res.markouts.append({"who": spec.label, "sample": "all"} | markouts(
            mids, cands.venue[c], cands.side[c], st.t[fm][keep], p.step_fill[fm][keep], markout_s))
    return res


def _notes(info: dict, cls: str) -> list[str]:
    """What the headline class leaves out, and why (printed by ``sorlib validate-fills``)."""
    j, i = info["joined"], info["improved"]
    notes = {"joined": f"improved: {i:,} candidate orders set a new best price alone (nothing displayed at their "
                       f"price before them), left out of the headline — each {IMPROVED_REASON}",
             "improved": f"joined: {j:,} candidate orders joined a displayed queue: scored separately; this "
                         f"headline is over the {i:,} orders that {IMPROVED_REASON.split(':')[0]}",
             "all": f"all: {j:,} orders that joined a queue and {i:,} that created their price level scored "
                    f"together; the latter {IMPROVED_REASON.split(';')[0]}"}
    return [notes[cls], f"not candidates: {info['adds_not_at_best']:,} adds away from the best, "
                        f"{info['adds_at_best_queue_unknown']:,} at the best with the queue ahead unknown (of "
                        f"{info['adds']:,} adds = {j:,} joined + {i:,} improved + these)"]


def _order_table(cands: Candidates, why: np.ndarray, real: np.ndarray, horizons, train) -> dict:
    """Per-order columns (:attr:`FillValidation.orders`); the models' predictions are added by the caller."""
    names = np.array(["", "censored_at_data_end", *BAD_NAMES.values()], dtype=object)
    out = {"order_id": cands.order_id, "venue": cands.venue, "ts_ns": cands.ts, "side": cands.side,
           "price": cands.price, "size": cands.size, "ahead": cands.ahead, "class": cands.klass}
    if train is not None:
        out["sample"] = np.where(train, "train", "test")
    for h, T in enumerate(horizons):
        out[f"excluded {T:g}s"] = names[why[:, h]]
        out[f"realised {T:g}s"] = real[:, h]
    return out


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


def _validity(events: OrderEvents, st, hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """valid[c, h] and why[c, h]: 0 scored, 1 censored at the data end, else 1 + the bad-reason code
    (module :mod:`.events` docstring)."""
    t_last = int(events.ts[-1])
    until = np.minimum(hz, st.life_end[:, None])
    censored = hz > t_last
    bad = (st.bad_t[:, None] <= until) & ~censored
    why = np.where(censored, 1, np.where(bad, 1 + st.bad_why[:, None].astype(np.int64), 0))
    return why == 0, why


def _exclusions(why: np.ndarray, mask: np.ndarray, horizons) -> dict:
    """Per horizon, the candidates of ``mask`` left out by reason, and those scored (the counts add up)."""
    out = {}
    for h, T in enumerate(horizons):
        w = why[mask, h]
        counts = {"censored_at_data_end": int((w == 1).sum())}
        for code, name in BAD_NAMES.items():
            counts[name] = int((w == 1 + code).sum())
        out[f"{T:g}s"] = counts | {"scored": int((w == 0).sum())}
    return out


def _excluded_rates(cands: Candidates, real: np.ndarray, st, hz, horizons, mask: np.ndarray) -> dict:
    """Realised fill rate of the displaced candidates of ``mask`` (reported, not scored)."""
    from .events import BAD_DISPLACED

    out = {}
    for h, T in enumerate(horizons):
        m = mask & (st.bad_why == BAD_DISPLACED) & (st.bad_t <= np.minimum(hz[:, h], st.life_end))
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
                         horizons=HORIZONS_S, own_prints: str = "reassign",
                         candidates: str = "joined") -> dict[int, dict]:
    """Per venue, the exponent of ``kind`` (``power`` or ``power3``; power3's n is the venue profile's
    ``queue_cancel_bias``) fitted on the first half of the ``candidates`` class (default: the orders that
    joined a queue), with its training and out-of-sample
    (second half) calibration errors at the longest horizon and the conservative model's out-of-sample error
    for comparison: ``{venue: {"n", "train_calib_pp", "test_calib_pp", "conservative_test_calib_pp"}}``."""
    if kind not in FIT_KINDS:
        raise DataError(f"only {', '.join(FIT_KINDS)} have a fitted exponent, got {kind!r}")
    out = {}
    for v in np.unique(events.venue[events.action == 1]):
        ev = events.take(events.venue == v)
        res = validate_fills(ev, md, ["conservative"], horizons, fit=True, own_prints=own_prints,
                             candidates=candidates)
        f = res.fitted.get(str(int(v)), {}).get(kind)
        if not f or f["n"] is None:
            continue
        h = max(res.horizons)
        test = {r["model"]: r["calib_pp"] for r in res.table("test", h)}
        train = {r["model"]: r["calib_pp"] for r in res.table("train", h)}
        out[int(v)] = {"n": f["n"], "train_calib_pp": train.get(f"{kind}:fit"), "test_calib_pp": test.get(f"{kind}:fit"),
                       "conservative_test_calib_pp": test.get("conservative"), "horizon_s": h}
    return out
