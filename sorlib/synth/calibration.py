"""Parameters of the synthetic market, and the real-data figures they were calibrated to.

Real data: the AlgoSeek tick samples shipped with QuantConnect Lean (``data/real/lean_algoseek_tick``;
IBM 2013-10-07..11, BAC and AIG 2013-10-07), regular hours 09:30-16:00 ET only, measured with a throwaway
pandas script.  AlgoSeek quote rows are one-sided per-venue top-of-book updates; sizes are shares and every
displayed size is a multiple of 100 (round lots).  ~50-60 % of the rows repeat the previous row of the same
venue and side unchanged (the other side of a two-sided message), so "informative" updates are ~40-50 %.

===========================  =============================  ===========  ===========
figure (RTH)                 IBM (5 days, $179-186)          BAC ($13.9)  AIG ($49)
===========================  =============================  ===========  ===========
quote rows / day, all venues 98.6k-133.9k (~11 venues)       472k         1,079k
  of which change a price    23-24 %                         0.3 %        1.6 %
trades / day (incl. TRF 'D') 19.1k-33.3k                     86.4k        25.3k
trades / day on exchanges    14.6k-22.6k                     49.3k        19.0k
TRF ('D') share of trades    24-32 %                         43 %         25 %
quote-row share, top venue   N 27-44 %, then Q 19-29 %,      N 51 %       N 61 %
                             K/P 9-15 %, B/Z 4-18 %, tail
trade share (exchanges), top N 24-32 %, Q 20-29 %,           B 16 %       Q 32 %
                             K/P 11-16 %, Z 7-14 %, B 5-7 %
median displayed size (sh)   100-300 per venue (p90 600)     ~50k-90k     500-1,400
size decrease per update     median 100, p90 200, p99 ~650   500/2k/13k   200/400/800
trade size (sh)              median 100, mean ~152, p99 ~800 median 200   median 100
per-venue spread (ticks)     median 3-5 (wide: $180 stock)   median 1     median 1
NBBO spread (ticks), fresh   median 2 (1 tick 19 %)          1 (99 %)     1 (86 %)
1-min realised daily vol     0.39-0.73 %                     0.34 %       0.41 %
===========================  =============================  ===========  ===========

("fresh": the NBBO over N/Q/P/K/Z on a 1-s grid, ignoring quotes older than 2 s; AlgoSeek leaves stale
one-sided quotes that make the raw cross-venue NBBO look crossed.)

Targets chosen for the default synthetic day (a liquid ~$60 stock, 5 venues, 6.5 h): between IBM and AIG --
a 1-tick NBBO most of the time like BAC/AIG, IBM-like message and trade counts (~100k-300k book updates,
~20k-40k trades), AIG-like displayed sizes (a few hundred to ~1,500 shares per venue, so that a 5,000-share
order usually needs several venues), IBM-like trade sizes (mostly 100 shares, heavy tail), concentrated
venue shares (top venue ~35 %).

Real vs synthetic (model v1 figures; v2 adds informed flow, v3 the calibrated informed drift: see
docs/reference/synthetic-day.md) (default day: seed 0, 5 venues, 09:30-16:00; ``python benchmarks/bench_synth.py
--figures``; book rows include, as Databento MBP-1 does, one unchanged row per trade):

==============================  ==================================  ==========================================
figure                          real (IBM; BAC/AIG)                 synthetic (5 venues)
==============================  ==================================  ==========================================
book updates / day              ~45k-60k informative (99k-134k      197.6k (173k excluding the trade rows)
                                rows); BAC ~240k; AIG ~500k
trades / day (exchanges)        14.6k-22.6k; BAC 49k; AIG 19k       24.4k
book-update share by venue      27-44 / 19-29 / 9-15 / 9-13 / 4-8 % XNAS 34.3, XNYS 24.3, BATS 16.2,
                                                                    EDGX 13.5, BATY 11.7 %
trade share by venue            24-32 / 20-29 / 11-16 / 11-16 / 7 % 33.5 / 24.4 / 16.7 / 12.8 / 12.6 %
median displayed size (sh)      IBM 100-300; AIG 500-1,400          200 (BATY) .. 600 (XNAS)
trade size median / mean / p99  100 / 152 / ~800                    100 / 132 / 500
venue spread (ticks)            BAC/AIG median 1; IBM 3-5           1 tick 74 %, 2 ticks 25 %, 3+ 1 %
NBBO spread 1 tick              BAC 99 %, AIG 86 %, IBM 19 %        99 %
1-min realised daily vol        0.34-0.73 %                         1.2 % (target ``daily_vol``)
price                           $14-$186                            $60 (range 59.74-60.81)
==============================  ==================================  ==========================================

Best-bid queue outflow (size decreases at an unchanged bid + removed levels) over 60 s, seed 0: median
8,300 sh on XNAS (p90 14,100, p99 19,600) down to 2,400 on BATY -- ~14x the displayed queue per minute,
vs ~7x for IBM on NYSE (level removals after price moves dominate in both).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import ConfigError
from .informed import CALIBRATED_DRIFT, InformedFlow

#: Bump when the model changes in a way that changes its output (keys the cache in :mod:`.cache`).
MODEL_VERSION = 3  # v3: the informed drift (.informed) replaces v2's coin-flip impact by default

#: Publisher ids of the synthetic venues, most active first; ``venues=K`` uses the first K.
VENUE_ORDER: tuple[int, ...] = (2, 9, 5, 8, 6, 7, 3, 4)
#: Readable names (the venue table's names for the same keys).
VENUE_NAMES: dict[int, str] = {2: "XNAS", 9: "XNYS", 5: "BATS", 8: "EDGX", 6: "BATY", 7: "EDGA",
                               3: "XBOS", 4: "XPSX"}


@dataclass(frozen=True)
class VenueBehaviour:
    """How one synthetic venue behaves (its fees are the venue table's, not here).

    ``book_weight``: share of the limit-order/cancel flow; ``trade_weight``: share of the uninformed market
    orders; ``queue_lots``: typical touch queue Q (lots of 100 shares) -- also the mean depth of the level
    revealed when the touch is depleted; ``speed``: multiplier on how fast the venue's liquidity providers
    react to the efficient price (stale-quote pulls, inside-spread improvements, and the snipes they invite).
    """

    publisher_id: int
    book_weight: float
    trade_weight: float
    queue_lots: float
    speed: float


#: Behaviour of the eight venues in :data:`VENUE_ORDER` order.  Concentrated like the real shares (top venue
#: ~35 %); the inverted venues (BATY 6, XBOS 3) attract takers (trade share above book share); small venues
#: are slower (stale more often).
DEFAULT_BEHAVIOUR: tuple[VenueBehaviour, ...] = (
    VenueBehaviour(2, 0.38, 0.31, 9.0, 1.5),   # XNAS: primary, deepest, fastest
    VenueBehaviour(9, 0.24, 0.22, 7.0, 1.2),   # XNYS
    VenueBehaviour(5, 0.13, 0.15, 5.0, 1.0),   # BATS
    VenueBehaviour(8, 0.10, 0.11, 4.0, 0.9),   # EDGX
    VenueBehaviour(6, 0.07, 0.11, 3.0, 0.8),   # BATY (inverted: takers come first)
    VenueBehaviour(7, 0.05, 0.05, 2.0, 0.6),   # EDGA
    VenueBehaviour(3, 0.04, 0.05, 2.0, 0.6),   # XBOS (inverted)
    VenueBehaviour(4, 0.03, 0.03, 2.0, 0.5),   # XPSX
)


@dataclass(frozen=True)
class ModelParams:
    """Global parameters of the generator (units in brackets).

    Rates are at the diurnal profile's mean level (the profile is U-shaped, mean 1 over 09:30-16:00); book
    and trade rates are totals over all simulated venues (split by the venues' weights, renormalised over
    the K used) and both sides.
    """

    price0: float = 60.0                 # initial efficient price [$]
    daily_vol: float = 0.012             # efficient-price volatility over 6.5 h [fraction]
    book_rate: float = 4.0               # limit-add + cancel events at the touches [1/s], all venues
    trade_rate: float = 0.85             # uninformed market orders [1/s], all venues
    snipe_rate: float = 0.6              # informed market orders on a stale quote [1/s per tick of edge]
    pull_rate: float = 4.0               # whole-queue withdrawals of a stale quote [1/s per tick of edge]
    improve_rate: float = 2.5            # inside-spread limit orders when the spread allows [1/s]
    limit_p: float = 0.55                # limit/cancel order size ~ Geometric(p) lots (mean 1/p)
    trade_p1: float = 0.76               # P(market order = 1 lot)
    trade_tail: float = 1.3              # else 2 + floor(Lomax(alpha)) lots
    max_trade_lots: int = 100
    impact_prob: float = 0.0             # P(a market order moves the efficient price half a tick its way); v2: 0.6
    impact_share: float = 0.3            # snipes per uninformed market order (variance budget of lam_x)
    diurnal_open: float = 1.2            # U shape: f(t) = c + open*exp(-t/tau) + close*exp(-(T-t)/tau)
    diurnal_close: float = 0.8
    diurnal_tau: float = 1800.0          # [s]
    behaviour: tuple[VenueBehaviour, ...] = field(default=DEFAULT_BEHAVIOUR)
    informed: InformedFlow = CALIBRATED_DRIFT  # informed drift after uninformed market orders (.informed)

    def key(self) -> tuple:
        """A hashable, stable description (used to key the cache; ``informed`` only when on)."""
        skip = ("behaviour",) if self.informed.active else ("behaviour", "informed")
        return tuple((k, getattr(self, k)) for k in self.__dataclass_fields__ if k not in skip) + (
            tuple((b.publisher_id, b.book_weight, b.trade_weight, b.queue_lots, b.speed)
                  for b in self.behaviour),)


#: Adverse-selection settings of the synthetic day (``sorlib synth --adverse``, :func:`adverse_params`).
ADVERSE_SETTINGS: tuple[str, ...] = ("calibrated", "v2", "off")


def adverse_params(setting: str = "calibrated", base: ModelParams | None = None) -> ModelParams:
    """``base`` (default :class:`ModelParams`) with one adverse-selection setting.

    * ``calibrated`` -- the embedded day (model v3): the informed drift :data:`~.informed.CALIBRATED_DRIFT`,
      fitted to real passive-fill markouts (``docs/reference/synthetic-day.md``), and no coin-flip impact;
    * ``v2`` -- the day before issue 18: each market order (snipes included) moves the efficient price half a
      tick its way with probability 0.6, no informed drift (bit-identical to the v2 generator's output);
    * ``off`` -- neither: no mechanism of adverse selection (what is left is the book's own dynamics).
    """
    p = base or ModelParams()
    if setting == "calibrated":
        return replace(p, impact_prob=0.0, informed=CALIBRATED_DRIFT)
    if setting == "v2":
        return replace(p, impact_prob=0.6, informed=InformedFlow())
    if setting == "off":
        return replace(p, impact_prob=0.0, informed=InformedFlow())
    raise ConfigError(f"adverse selection setting must be one of {', '.join(ADVERSE_SETTINGS)}, got {setting!r}")
