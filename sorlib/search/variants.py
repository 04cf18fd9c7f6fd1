"""The assumption variants every robustness verdict is run under (issue 17 item 4).

A saving measured in a replay depends on modelling choices no recorded tape can settle: how a resting
order fills (the queue rule), what the deadline clean-up pays beyond the visible book, which market layers
react to our orders, and how slow our orders are. Each :class:`Variant` is one such choice: a name, a
one-line description and a market-model spec passed as ``BacktestConfig(market=...)``
(:func:`sorlib.sim.model.market_model` builds it). Unless it says otherwise a variant is the ``realistic``
preset with one thing changed, so each row of the verdict table answers "what if this assumption is wrong".

=================  ===============================================================================
group              variants
=================  ===============================================================================
fill rule          ``fill-conservative``, ``fill-power``, ``fill-paper``, ``fill-haircut-50`` (the
                   realistic preset's own queue model is the ``realistic`` row)
clean-up rule      ``cleanup-depth`` (the default), ``cleanup-flat``, ``cleanup-ladder``
market layers      ``frozen``, ``+latency``, ``+impact``, ``+fade``, ``realistic``
latency scale      ``latency-x0``, ``latency-x1``, ``latency-x3``
=================  ===============================================================================

Several names are the same model (``cleanup-depth``, ``realistic`` and ``latency-x1`` are all the realistic
preset; ``fill-power`` too when the preset's queue is that power model): :func:`distinct_models` groups them so a runner replays each model once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ConfigError
from ..sim.model import MarketModel, market_model

__all__ = ["VARIANTS", "Variant", "distinct_models", "select_variants"]


@dataclass(frozen=True)
class Variant:
    """One assumption variant: ``name`` (unique, used on the command line), ``group``, a one-line
    ``description`` and ``market`` (a :func:`~sorlib.sim.model.market_model` spec)."""

    name: str
    group: str
    description: str
    market: dict | str

    def model(self) -> MarketModel:
        """The market model (a :class:`~sorlib.errors.ConfigError` when this build lacks a part of it)."""
        return market_model(self.market)

    def unavailable(self) -> str | None:
        """Why this variant cannot be built here (a model part not in this version), else None."""
        try:
            self.model()
        except ConfigError as e:
            return str(e)
        return None


def _realistic(**parts) -> dict:
    return {"preset": "realistic", **parts}


VARIANTS: tuple[Variant, ...] = (
    # --- fill rule of resting orders (queue model)
    Variant("fill-conservative", "fill rule", "realistic, resting orders fill only once the whole queue ahead "
            "has traded (conservative queue model)", _realistic(queue={"model": "conservative"})),
    Variant("fill-power", "fill rule", "realistic, probabilistic power queue (n = 2, or each venue's fitted "
            "exponent)", _realistic(queue={"model": "power", "power": 2.0, "venue_power": True})),
    Variant("fill-paper", "fill rule", "realistic, the Cont-Kukanov paper's rule: a limit order fills "
            "min(L, (outflow - queue)+)", _realistic(queue={"model": "paper"})),
    Variant("fill-haircut-50", "fill rule", "realistic, only half of every resting fill the default queue "
            "model gives is credited", _realistic(queue={"haircut": 0.5})),
    # --- clean-up price beyond the visible book
    Variant("cleanup-depth", "clean-up rule", "realistic, clean-up beyond the visible book walks each "
            "venue's fitted hidden-depth profile (the default)", _realistic(cleanup={"rule": "depth"})),
    Variant("cleanup-flat", "clean-up rule", "realistic, clean-up beyond the visible book all at the "
            "worst visible ask + 1 tick (the old flat rule)", _realistic(cleanup={"rule": "flat"})),
    Variant("cleanup-ladder", "clean-up rule", "realistic, clean-up beyond the visible book pays one more "
            "tick per 100 shares (the sceptic's ladder)", _realistic(cleanup={"rule": "ladder"})),
    # --- market layers, one at a time, then all
    Variant("frozen", "market layers", "the recorded tape: no latency, impact or fade; conservative queue",
            {"preset": "frozen"}),
    Variant("+latency", "market layers", "the tape plus each venue's order latency", {"preset": "latency"}),
    Variant("+impact", "market layers", "the tape plus square-root price impact of our own trades",
            {"preset": "impact"}),
    Variant("+fade", "market layers", "the tape plus other venues pulling size at a price we took",
            {"preset": "fade"}),
    Variant("realistic", "market layers", "latency, impact, fade and the power queue together",
            {"preset": "realistic"}),
    # --- latency scale on the realistic market
    Variant("latency-x0", "latency scale", "realistic with zero order latency", _realistic(latency={"scale": 0.0})),
    Variant("latency-x1", "latency scale", "realistic with the venue profiles' latency (x1)",
            _realistic(latency={"scale": 1.0})),
    Variant("latency-x3", "latency scale", "realistic with three times the venue profiles' latency",
            _realistic(latency={"scale": 3.0})),
)


def select_variants(spec: str | list[str] | tuple[str, ...] | None = "all") -> list[Variant]:
    """``"all"`` (or None), a comma-separated string or a list of names → the variants, in registry order
    for ``"all"`` and in the given order otherwise. Unknown or repeated names are a one-line ConfigError."""
    if spec is None or spec == "all":
        return list(VARIANTS)
    names = [n.strip() for n in spec.split(",")] if isinstance(spec, str) else [str(n).strip() for n in spec]
    if not names or any(not n for n in names):
        raise ConfigError(f"--variants: give 'all' or comma-separated names, got {spec!r}")
    known = {v.name: v for v in VARIANTS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"--variants: unknown variant(s) {', '.join(unknown)}; use 'all' or some of "
                          f"{', '.join(known)}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"--variants: {', '.join(dup)} given twice; name each variant once")
    return [known[n] for n in names]


def distinct_models(variants: list[Variant]) -> list[tuple[MarketModel, list[Variant]]]:
    """The variants grouped by the market model they build (names ignored), first appearance order: each
    group needs one replay. Variants this build cannot make are left out (see :meth:`Variant.unavailable`)."""
    groups: dict[str, tuple[MarketModel, list[Variant]]] = {}
    for v in variants:
        if v.unavailable() is None:
            m = v.model()
            groups.setdefault(repr(replace(m, name="-")), (m, []))[1].append(v)
    return list(groups.values())
