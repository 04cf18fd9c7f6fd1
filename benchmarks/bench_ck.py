"""Time per placement decision of the Cont–Kukanov solvers.

    python benchmarks/bench_ck.py [--samples 1000] [--time-limit 20] [--venues 2 5 10]

For K venues and N outflow samples (gamma outflows, S = 5,000 shares) it times the fast local search
(``method="fast"``, the router's), SA (compiled, 20k and 100k iterations) and the exact SAA (continuous,
and on a 100-share lot grid) in two regimes: λ_o ≤ h + r (V convex: the LP relaxation is exact) and
λ_o > h + r (non-convex: MILP). ``gap`` is each solver's cost minus the SAA cost ($); ``exact`` says
whether SAA proved optimality within the time limit. The router itself uses N = 60 samples (30 minutes of
30-second windows): ``--samples 60``. Its decisions on the default day: ``bench_ck_replay.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sorlib.ck import fast_placement, sa_placement, saa_placement


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--time-limit", type=float, default=20.0, help="SAA MILP time limit per decision (s)")
    ap.add_argument("--venues", type=int, nargs="+", default=[2, 5, 10])
    args = ap.parse_args()
    h, f, lam_u, S = 0.005, 0.003, 0.05, 5000.0
    sa_placement(S, [100.0], np.ones((10, 1)), h, f, [0.002], lam_u, 0.1, n_iter=10)  # JIT warm-up
    fast_placement(S, [100.0], np.ones((10, 1)), h, f, [0.002], lam_u, 0.1)
    print(f"S={S:.0f} shares, N={args.samples} samples, h={h}, f={f}, r=0.002, λ_u={lam_u}")
    head = f"{'K':>3} {'λ_o':>6} {'solver':<16} {'ms/decision':>12} {'cost $':>10} {'gap $':>8} {'exact':>6} {'stage':>6}"
    print(head)
    print("-" * len(head))
    for K in args.venues:
        rng = np.random.default_rng(K)
        Q = rng.uniform(1000, 6000, K).round()
        xi = rng.gamma(3.0, Q / 2.0, size=(args.samples, K)).round()
        r = np.full(K, 0.002)
        for lam_o in (0.004, 0.05):
            rows = []
            a = (S, Q, xi, h, f, r, lam_u, lam_o)
            for name, fn, kw in (
                ("saa", saa_placement, {"time_limit": args.time_limit}),
                ("saa lot=100", saa_placement, {"lot": 100, "time_limit": args.time_limit}),
                ("fast", fast_placement, {}),
                ("sa n=20k", sa_placement, {"n_iter": 20_000}),
                ("sa n=100k", sa_placement, {"n_iter": 100_000}),
            ):
                t = time.perf_counter()
                p = fn(*a, **kw)
                rows.append((name, 1000 * (time.perf_counter() - t), p))
            ref = rows[0][2].cost
            for name, ms, p in rows:
                ex = str(p.info.get("exact", "-"))
                st = p.info.get("stage", "-")
                print(f"{K:>3} {lam_o:>6} {name:<16} {ms:>12.1f} {p.cost:>10.3f} {p.cost - ref:>8.3f} {ex:>6} {st:>6}")


if __name__ == "__main__":
    main()
