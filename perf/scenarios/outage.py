#!/usr/bin/python3
"""Scenario (c): one registrar down for a while, then back — backoff, pacing, jitter.

N endpoints x R registrars at expires 60 against the emulator; at --down-at seconds the
emulator ignores everything sent to registrar --which (SIGUSR1 with --outage), and at
--down-at + --down-for it answers again (SIGUSR2). The goal is 5 minutes; the default
here is 60 s to stay CI-friendly (--down-for 300 for the full length). Plotted: REGISTERs per
second per registrar; the table gives, for the registrar that was down, REGISTERs received
during the outage (timeouts, retransmissions, backoff), the peak rate of new REGISTERs after
recovery vs the configured `registration rate`, and the time until all its bindings were
registered again.
  outage.py [--endpoints 5000] [--down-for 60] [--rate 500]
"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoints", type=int, default=5000)
    ap.add_argument("--registrars", type=int, default=6)
    ap.add_argument("--which", type=int, default=3, help="registrar index taken down")
    ap.add_argument("--expires", type=int, default=60)
    ap.add_argument("--rate", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--down-at", type=float, default=40)
    ap.add_argument("--down-for", type=float, default=60)
    ap.add_argument("--after", type=float, default=60, help="seconds observed after recovery")
    ap.add_argument("--out", default=os.path.join(c.REPO, "perf", "results", "outage"))
    a = ap.parse_args()
    up_at = a.down_at + a.down_for
    duration = up_at + a.after
    c.log(f"outage: {a.endpoints} x {a.registrars}, registrar {a.which} down {a.down_at:.0f}-"
          f"{up_at:.0f}s of {duration:.0f}s; load {c.loadavg()}")
    r = c.timeline("outage", a.endpoints, a.registrars, a.expires, a.rate, a.workers, duration,
                   events=[(a.down_at, lambda e: e.signal(signal.SIGUSR1)),
                           (up_at, lambda e: e.signal(signal.SIGUSR2))],
                   emu_extra=["--outage", str(a.which)])
    off = r["emu_offset"]  # emulator seconds → regfrontd seconds
    allp = c.per_second(r["rows"], "rx_register")
    newp = c.per_second(r["rows"], "rx_new")
    w = a.which
    # rx_register counts what reached the emulator, answered or not (ignored_down ⊂ rx_register).
    during = sum(v for t, v in allp.get(w, {}).items() if a.down_at <= t - off < up_at)
    after_new = [v for t, v in newp.get(w, {}).items() if t - off >= up_at]
    back = None
    for t, regs in r["samples"]:
        if t >= up_at and len(regs) >= w and regs[w - 1] >= a.endpoints:
            back = t - up_at
            break
    st = next((x for x in r["stats"].get("registrars", []) if x.get("index") == w), {})
    rtx_after = sum(v for t, v in c.per_second(r["rows"], "rx_retransmission").get(w, {}).items()
                    if up_at <= t - off < up_at + 10)
    rows = [["REGISTERs received while down (ignored)", during],
            ["retransmissions received in the 10 s after recovery", rtx_after],
            ["peak new REGISTER/s after recovery (first-seen, no Authorization)",
             max(after_new) if after_new else 0],
            ["configured registration rate", a.rate],
            ["seconds from recovery to all re-registered", f"{back:.0f}" if back is not None else "not within --after"],
            ["regfrontd timed_out / retransmitted (registrar %d)" % w,
             f"{st.get('timed_out', '?')} / {st.get('retransmitted', '?')}"],
            ["regfrontd CPU-seconds (whole run)", f"{r['cpu']:.1f}"]]
    print()
    print(f"outage: {a.endpoints} endpoints x {a.registrars} registrars, expires {a.expires}; registrar "
          f"{w} down {a.down_for:.0f} s{' (scaled down from 5 min)' if a.down_for < 300 else ''}; load {r['machine']['loadavg']} -> {r['load_end']}")
    print(c.table(["metric", "value"], rows))
    c.write_json(a.out + ".json", {k: v for k, v in r.items() if k != "rows"} | {"table": rows})
    plt = c.pyplot()
    if plt:
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for i in sorted(allp):
            ts = sorted(allp[i])
            ax.plot([t - off for t in ts], [allp[i][t] for t in ts], lw=1.4 if i == w else 0.6,
                    label=f"registrar {i}" + (" (down)" if i == w else ""))
        ax.axvspan(a.down_at, up_at, color="grey", alpha=0.2, label="outage")
        ax.axhline(a.rate, color="k", ls="--", lw=0.6, label="registration rate (new)")
        ax.set_xlabel("seconds since regfrontd start")
        ax.set_ylabel("REGISTER/s received")
        ax.set_title(f"registrar {w} down {a.down_for:.0f} s: {a.endpoints} x {a.registrars}, "
                     f"expires {a.expires} (load {r['machine']['loadavg']})", fontsize=9)
        ax.legend(fontsize=6, ncol=3)
        fig.tight_layout()
        c.save_png(fig, a.out + ".png")
        c.log(f"wrote {a.out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
