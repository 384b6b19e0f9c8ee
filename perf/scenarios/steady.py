#!/usr/bin/python3
"""Scenario (b): steady refresh at expires 60 — REGISTERs per second per registrar.

N endpoints x R registrars register once (paced by `registration rate`), then refresh before
every expiry at the refresh ratio, each binding at its phase of the refresh period. After the
first `--settle` seconds (initial registration + first refresh: the second refresh cycle starts
at most 0.8 x expires after the storm) the per-second REGISTER counts of each registrar should
be flat: the table gives mean, standard deviation, min and max per registrar, and the largest
second relative to the mean (a synchronized burst would show as a max far above the mean).
  steady.py [--endpoints 10000] [--registrars 6] [--duration 240] [--expires 60]
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoints", type=int, default=10000)
    ap.add_argument("--registrars", type=int, default=6)
    ap.add_argument("--expires", type=int, default=60)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", type=float, default=240)
    ap.add_argument("--settle", type=float, default=90, help="seconds ignored in the statistics")
    ap.add_argument("--out", default=os.path.join(c.REPO, "perf", "results", "steady"))
    a = ap.parse_args()
    c.log(f"steady: {a.endpoints} x {a.registrars}, expires {a.expires}, {a.duration:.0f}s; load {c.loadavg()}")
    r = c.timeline("steady", a.endpoints, a.registrars, a.expires, a.rate, a.workers, a.duration)
    ps = c.per_second(r["rows"], "rx_register")
    rows = []
    for i in sorted(ps):
        vals = [v for t, v in sorted(ps[i].items()) if t > a.settle]
        if not vals:
            continue
        mean = statistics.mean(vals)
        rows.append([i, f"{mean:.1f}", f"{statistics.pstdev(vals):.1f}", min(vals), max(vals),
                     f"{max(vals) / mean:.2f}" if mean else "-"])
    # One REGISTER per refresh (the registrar's last nonce), each binding once per 80 % of expires.
    expect = a.endpoints / (a.expires * 0.8)
    print()
    print(f"steady refresh: {a.endpoints} endpoints x {a.registrars} registrars, expires {a.expires}, "
          f"{a.duration:.0f} s (statistics after {a.settle:.0f} s); regfrontd CPU {r['cpu']:.1f} s; "
          f"load {r['machine']['loadavg']} -> {r['load_end']}")
    print(f"(for scale: one REGISTER per refresh (with the registrar's last nonce) every 0.8 x "
          f"expires would be {expect:.0f}/s per registrar, twice that if every refresh were "
          f"challenged; retransmissions come on top)")
    print(c.table(["registrar", "mean REGISTER/s", "stdev", "min", "max", "max/mean"], rows))
    c.write_json(a.out + ".json", {k: v for k, v in r.items() if k != "rows"} | {"table": rows})
    plt = c.pyplot()
    if plt:
        fig, ax = plt.subplots(figsize=(7, 3.4))
        for i in sorted(ps):
            ts = sorted(ps[i])
            ax.plot(ts, [ps[i][t] for t in ts], lw=0.8, label=f"registrar {i}")
        ax.axvline(a.settle, color="k", ls=":", lw=0.8)
        ax.set_xlabel("seconds")
        ax.set_ylabel("REGISTER/s received")
        ax.set_title(f"steady refresh, expires {a.expires}: {a.endpoints} x {a.registrars} "
                     f"(load {r['machine']['loadavg']})", fontsize=9)
        ax.legend(fontsize=6, ncol=3)
        fig.tight_layout()
        c.save_png(fig, a.out + ".png")
        c.log(f"wrote {a.out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
