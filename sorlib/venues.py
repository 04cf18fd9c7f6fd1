"""Venue profiles: fees, rebates, lot and minimum sizes, latency.

The data does not carry fees; they come from an editable TOML table (``venues_default.toml`` ships
with the package, ``--venues FILE.toml`` overrides it key by key).  Units: ``taker_fee`` and
``maker_rebate`` in $/share (a negative fee is a taker rebate, a negative rebate a maker fee),
``lot_size`` and ``min_size`` in shares, ``latency_us`` in microseconds.

Optional execution parameters (None = not fitted; ``sorlib calibrate DATA --out venues.toml`` fits them per
venue, :mod:`sorlib.sim.calibrate` defines each):

* ``queue_cancel_bias`` — n of the power3 queue model, the cancel-position exponent: cancels fall at relative
  queue positions u (0 = front) with CDF u^n; 1 = uniform, > 1 = mostly at the back. Fitted only from MBO
  data; the shipped ``[default]`` is the fit on the one MBO sample in ``data/real`` (ARL on XNAS, 2025-07-17).
* ``cancel_rate_hz`` — touch-size decreases not explained by prints, events/s (both sides);
* ``replace_share`` — share of those decreases undone at the same price within 50 ms (cancel/replace);
* ``queue_position_tw`` — time-weighted queue position (shares ahead / level, 0 = front) of an order that
  joined at the back, over its first 30 s;
* ``fade_fraction`` — share of this venue's displayed ask at a price that vanishes within 5 ms of a
  buyer-initiated print at that price on another venue;
* ``typical_size`` — median displayed size at the touch, shares;
* ``fill_prob_by_position`` — P(a resting buy is filled within 30 s) for queue positions 0, ¼, ½, ¾, 1.

**Fee regimes** (:data:`FEE_REGIMES`, ``--fee-regime``): ``cap30`` is the Reg NMS Rule 610(c) access-fee cap of
$0.0030/share in force for years; ``cap10`` the $0.0010/share cap for quotes at or above $1 the SEC adopted in
its September 2024 Reg NMS amendment (compliance date deferred, so a user choice; DESIGN §9). Below $1 the caps
are 0.3 % and 0.1 % of the price. Rule (:func:`apply_fee_regime`): a taker fee above the cap is cut to the
cap; the venue keeps its net capture (taker fee − maker rebate), so a positive maker rebate falls by the same
$ amount, floored at 0 (our modelling assumption — exchanges fund rebates from access fees; the rule caps only
the fee). Taker rebates (negative fees) and maker fees (negative rebates) are unchanged. Idempotent.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from .errors import ConfigError


@dataclass(frozen=True)
class VenueProfile:
    """One venue's trading terms. ``key`` is the venue key used in :class:`~sorlib.data.MarketData`."""

    key: int
    name: str
    taker_fee: float = 0.0030
    maker_rebate: float = 0.0020
    lot_size: int = 1
    min_size: int = 1
    latency_us: float = 500.0
    queue_cancel_bias: float | None = None
    cancel_rate_hz: float | None = None
    replace_share: float | None = None
    queue_position_tw: float | None = None
    fade_fraction: float | None = None
    typical_size: float | None = None
    fill_prob_by_position: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        where = f"venue {self.key} ({self.name})"
        for k in _NUMERIC:
            v = getattr(self, k)
            if v is None and k in _OPTIONAL:
                continue
            _check_number(k, v, where)
        fp = self.fill_prob_by_position
        if fp is not None:
            object.__setattr__(self, "fill_prob_by_position", _check_probs(fp, where))

    @property
    def publisher_id(self) -> int:
        return self.key

    @property
    def latency_ns(self) -> int:
        return int(round(self.latency_us * 1000))


_NUMERIC = {"taker_fee": float, "maker_rebate": float, "lot_size": int, "min_size": int,
            "latency_us": float, "queue_cancel_bias": float, "cancel_rate_hz": float, "replace_share": float,
            "queue_position_tw": float, "fade_fraction": float, "typical_size": float}
_OPTIONAL = ("queue_cancel_bias", "cancel_rate_hz", "replace_share", "queue_position_tw", "fade_fraction",
             "typical_size", "fill_prob_by_position")
_FIELDS = ("name", *_NUMERIC, "fill_prob_by_position")
#: Queue positions (shares ahead / level) of ``fill_prob_by_position``.
FILL_PROB_POSITIONS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)

#: Bounds of each numeric field (inclusive), with its unit. Exchange access fees are capped at
#: $0.003/share (Reg NMS Rule 610); |fee| <= $0.01/share leaves room for rebates and tiers.
BOUNDS = {"taker_fee": (-0.01, 0.01, "$/share"), "maker_rebate": (-0.01, 0.01, "$/share"),
          "lot_size": (1, 1_000_000, "shares"), "min_size": (1, 1_000_000, "shares"),
          "latency_us": (0.0, 10_000_000.0, "microseconds"),
          "queue_cancel_bias": (0.01, 100.0, "exponent"), "cancel_rate_hz": (0.0, 1_000_000.0, "events/s"),
          "replace_share": (0.0, 1.0, "fraction"), "queue_position_tw": (0.0, 1.0, "fraction of the level"),
          "fade_fraction": (0.0, 1.0, "fraction"), "typical_size": (0.0, 100_000_000.0, "shares")}

#: Access-fee caps of the named fee regimes, $/share for quotes at or above $1 (module docstring).
FEE_REGIMES: dict[str, float] = {"cap30": 0.0030, "cap10": 0.0010}
#: The same caps below $1, as a fraction of the quote price.
FEE_REGIMES_SUB_DOLLAR: dict[str, float] = {"cap30": 0.003, "cap10": 0.001}


def _check_number(k: str, v, where: str):
    lo, hi, unit = BOUNDS[k]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"{where}: '{k}' must be a finite number ({unit}), got {v!r}")
    if _NUMERIC[k] is int and float(v) != int(v):
        raise ConfigError(f"{where}: '{k}' must be a whole number of {unit}, got {v!r}")
    if not lo <= v <= hi:
        raise ConfigError(f"{where}: '{k}' = {v!r} is outside [{lo:g}, {hi:g}] {unit}")
    return _NUMERIC[k](v)


def _check_probs(v, where: str) -> tuple[float, ...]:
    n = len(FILL_PROB_POSITIONS)
    if not isinstance(v, list | tuple) or len(v) != n or any(
            isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or not 0 <= x <= 1
            for x in v):
        raise ConfigError(f"{where}: 'fill_prob_by_position' must be a list of {n} probabilities in [0, 1] "
                          f"(queue positions {', '.join(f'{p:g}' for p in FILL_PROB_POSITIONS)}), got {v!r}")
    return tuple(float(x) for x in v)


def fee_cap(regime: str, price: float | None = None) -> float:
    """The regime's taker-fee cap, $/share (``price`` in $: below $1 the cap is a fraction of it)."""
    if regime not in FEE_REGIMES:
        raise ConfigError(f"fee regime must be one of {', '.join(repr(r) for r in FEE_REGIMES)}, got {regime!r}")
    if price is not None and math.isfinite(price) and 0 < price < 1.0:
        return FEE_REGIMES_SUB_DOLLAR[regime] * price
    return FEE_REGIMES[regime]


def apply_fee_regime(profile: VenueProfile, regime: str, price: float | None = None) -> VenueProfile:
    """``profile`` under the fee regime (module docstring): taker fee cut to the cap, net capture kept."""
    cap = fee_cap(regime, price)
    if profile.taker_fee <= cap:
        return profile
    cut = profile.taker_fee - cap
    rebate = profile.maker_rebate if profile.maker_rebate <= 0 else max(round(profile.maker_rebate - cut, 10), 0.0)
    return replace(profile, taker_fee=cap, maker_rebate=rebate)


def _parse_entry(entry: dict, where: str) -> dict:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table of {', '.join(_FIELDS)}, got {entry!r}")
    out = {}
    for k, v in entry.items():
        if k == "name":
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(f"{where}: 'name' must be a non-empty string, got {v!r}")
            out[k] = v
        elif k in _NUMERIC:
            out[k] = _check_number(k, v, where)
        elif k == "fill_prob_by_position":
            out[k] = _check_probs(v, where)
        else:
            raise ConfigError(f"{where}: unknown field '{k}'; allowed fields: {', '.join(_FIELDS)}")
    return out


class VenueTable:
    """Venue profiles by key, with a default profile for venues not listed."""

    def __init__(self, default: dict, venues: dict[int, dict]) -> None:
        self._default = default
        self._venues = venues
        self.source: str | None = None  # the user's --venues file, when one was merged in
        self.user_keys: tuple[int, ...] = ()  # the venue keys that file lists

    def absent_from(self, keys) -> list[int]:
        """Venue keys the user's file lists that are not among ``keys`` (the data's venues)."""
        have = {int(k) for k in keys}
        return [k for k in self.user_keys if k not in have]

    def require_present(self, keys, names: dict[int, str] | None = None) -> None:
        """Raise :class:`ConfigError` when the user's file lists a venue not among ``keys`` (the data's venues):
        its terms would silently apply to nothing, usually a wrong publisher id or exchange letter. The
        message names the venues present (``names``: key -> display name)."""
        absent = self.absent_from(keys)
        if not absent:
            return
        names = names or {}
        present = ", ".join(f"{int(k)} ({names[int(k)]})" if int(k) in names and names[int(k)] != str(int(k))
                            else str(int(k)) for k in sorted(int(k) for k in keys)) or "none"
        raise ConfigError(f"{self.source} lists venue(s) {', '.join(str(k) for k in absent)} that the data do not "
                          f"contain (venues present: {present}); fix the [venue.KEY] keys or remove those tables")

    @classmethod
    def load(cls, path: str | Path | None = None) -> VenueTable:
        """The packaged defaults, overridden field by field by the TOML file ``path`` when given."""
        text = resources.files("sorlib").joinpath("venues_default.toml").read_text()
        table = cls._from_toml(tomllib.loads(text), "venues_default.toml")
        if path is not None:
            p = Path(path)
            if not p.is_file():
                raise ConfigError(f"venue file not found: {p} (give a TOML file, see README 'Venue profiles')")
            try:
                doc = tomllib.loads(p.read_text())
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"{p}: not valid TOML: {e}") from None
            except (OSError, UnicodeDecodeError) as e:
                raise ConfigError(f"{p}: cannot read the venue file ({e}); give a UTF-8 TOML file") from None
            user = cls._from_toml(doc, str(p))
            table = table.merged(user)
            table.source, table.user_keys = str(p), tuple(user._venues)
        return table

    @classmethod
    def _from_toml(cls, doc: dict, where: str) -> VenueTable:
        unknown = set(doc) - {"default", "venue"}
        if unknown:
            raise ConfigError(f"{where}: unknown section(s) {sorted(unknown)}; allowed: [default] and [venue.KEY]")
        if not isinstance(doc.get("venue", {}), dict):
            raise ConfigError(f"{where}: 'venue' must be tables [venue.KEY]")
        default = _parse_entry(doc.get("default", {}), f"{where} [default]")
        venues = {}
        for k, entry in doc.get("venue", {}).items():
            try:
                key = int(k) if not (len(k) == 1 and k.isalpha()) else ord(k)
            except ValueError:
                raise ConfigError(f"{where}: venue key '{k}' must be a publisher_id or an exchange letter") from None
            venues[key] = _parse_entry(entry, f"{where} [venue.{k}]")
        return cls(default, venues)

    def merged(self, other: VenueTable) -> VenueTable:
        default = {**self._default, **other._default}
        venues = {k: dict(v) for k, v in self._venues.items()}
        for k, v in other._venues.items():
            venues[k] = {**venues.get(k, {}), **v}
        return VenueTable(default, venues)

    def profile(self, key: int, name: str | None = None) -> VenueProfile:
        """Profile of venue ``key``; unlisted venues get the [default] terms (and ``name`` if given)."""
        base = VenueProfile(key=int(key), name=name or str(key))
        entry = {**self._default, **self._venues.get(int(key), {})}
        if "name" not in self._venues.get(int(key), {}):
            entry["name"] = name or (chr(key) if 65 <= key <= 90 else str(key))
        return replace(base, **entry)

    def profiles(self, keys, names: dict[int, str] | None = None) -> list[VenueProfile]:
        names = names or {}
        return [self.profile(int(k), names.get(int(k))) for k in keys]

    def keys(self) -> list[int]:
        return sorted(self._venues)


def default_venues() -> VenueTable:
    return VenueTable.load()
