"""Venue profiles: fees, rebates, lot and minimum sizes, latency.

The data does not carry fees; they come from an editable TOML table (``venues_default.toml`` ships
with the package, ``--venues FILE.toml`` overrides it key by key).  Units: ``taker_fee`` and
``maker_rebate`` in $/share (a negative fee is a taker rebate, a negative rebate a maker fee),
``lot_size`` and ``min_size`` in shares, ``latency_us`` in microseconds.
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

    @property
    def publisher_id(self) -> int:
        return self.key

    @property
    def latency_ns(self) -> int:
        return int(round(self.latency_us * 1000))


_NUMERIC = {"taker_fee": float, "maker_rebate": float, "lot_size": int, "min_size": int,
            "latency_us": float}
_FIELDS = ("name", *_NUMERIC)

#: Bounds of each numeric field (inclusive), with its unit. Exchange access fees are capped at
#: $0.003/share (Reg NMS Rule 610); |fee| <= $0.01/share leaves room for rebates and tiers.
BOUNDS = {"taker_fee": (-0.01, 0.01, "$/share"), "maker_rebate": (-0.01, 0.01, "$/share"),
          "lot_size": (1, 1_000_000, "shares"), "min_size": (1, 1_000_000, "shares"),
          "latency_us": (0.0, 10_000_000.0, "microseconds")}


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
            lo, hi, unit = BOUNDS[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ConfigError(f"{where}: '{k}' must be a finite number ({unit}), got {v!r}")
            if _NUMERIC[k] is int and float(v) != int(v):
                raise ConfigError(f"{where}: '{k}' must be a whole number of {unit}, got {v!r}")
            if not lo <= v <= hi:
                raise ConfigError(f"{where}: '{k}' = {v!r} is outside [{lo:g}, {hi:g}] {unit}")
            out[k] = _NUMERIC[k](v)
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
