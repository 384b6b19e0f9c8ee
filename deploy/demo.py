#!/usr/bin/env python3
"""regfront demo: three local Kamailio registrars, one regfrontd, bindings coming up.

Starts three real Kamailio registrars on 127.0.0.1 (different realms: MD5 without qop, SHA-256
with qop=auth, and one whose minimum expiry forces a 423), writes an IOS startup-config with N
endpoints (dial peers and `credentials`), runs regfrontd on the kernel-socket backend and
prints, every second, how many bindings each registrar holds — as regfront sees it
(`show sip-ua status registrar`) and as the registrars' own location tables (kamcmd ul.dump)
see it. Then it shows a few lines of `show sip-ua register status`, stops regfrontd with
SIGTERM and shows the registrars emptied by the unregistrations.

  python3 deploy/demo.py --bin-dir build/bin [--endpoints 3000] [--keep]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from kamailio import KamailioRegistrar, allocate_udp_ports, make_workdir  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build", "bin"))
    ap.add_argument("--endpoints", type=int, default=3000)
    ap.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")
    args = ap.parse_args()
    regfrontd = os.path.join(args.bin_dir, "regfrontd")
    cli = os.path.join(args.bin_dir, "regfront-cli")
    work = make_workdir("regfront-demo-")
    n = args.endpoints
    numbers = [str(4085550000 + i) for i in range(n)]
    half = n // 2

    # Registrar A trusts dial-peer credentials (realm-a), B the `credentials` entries (realm-b),
    # C a sip-ua `authentication` entry (realm-c) and asks for a longer expiry than configured.
    users_a = [("dp-user", "dp-secret")]
    users_b = [(f"u{num}", f"pw-{num}") for num in numbers]
    users_c = [("trunk", "trunk-secret")]
    regs = [
        KamailioRegistrar("a", "realm-a.demo", users_a, algorithm="MD5", qop=None, min_expires=10,
                          workdir=os.path.join(work, "kam-a")),
        KamailioRegistrar("b", "realm-b.demo", users_b, algorithm="SHA-256", qop="auth", min_expires=10,
                          workdir=os.path.join(work, "kam-b")),
        KamailioRegistrar("c", "realm-c.demo", users_c, algorithm="MD5", qop="auth", min_expires=120,
                          workdir=os.path.join(work, "kam-c")),
    ]
    lines = ["! regfront demo startup-config", "hostname demo", "!"]
    for i, num in enumerate(numbers[:half]):
        lines += [f"dial-peer voice {i + 1} pots", f" destination-pattern {num}",
                  " authentication username dp-user password 0 dp-secret realm realm-a.demo", "!"]
    lines.append("sip-ua")
    for num in numbers:
        lines.append(f" credentials number {num} username u{num} password 0 pw-{num} realm realm-b.demo")
    lines.append(" authentication username trunk password 0 trunk-secret realm realm-c.demo")
    # Endpoints from `credentials` have no dial peer: give them realm-a credentials too.
    lines.append(" authentication username dp-user password 0 dp-secret realm realm-a.demo")
    lines += [f" registrar 1 ipv4:127.0.0.1:{regs[0].port} expires 60",
              f" registrar 2 ipv4:127.0.0.1:{regs[1].port} expires 60",
              f" registrar 3 ipv4:127.0.0.1:{regs[2].port} expires 60",
              " registration rate 2000", "!", "end"]
    cfg_path = os.path.join(work, "startup-config")
    with open(cfg_path, "w") as f:
        f.write("\n".join(lines) + "\n")

    sock = os.path.join(work, "regfrontd.sock")
    listen_port = allocate_udp_ports(1)[0]
    proc = None
    try:
        for r in regs:
            r.start()
        print(f"demo: 3 Kamailio registrars on 127.0.0.1:{','.join(str(r.port) for r in regs)}; "
              f"{n} endpoints; startup-config {cfg_path}")
        subprocess.run([regfrontd, "--check-config", cfg_path], check=True)
        proc = subprocess.Popen([regfrontd, "--config", cfg_path, "--io", "socket",
                                 "--listen", f"127.0.0.1:{listen_port}", "--control-socket", sock])
        start = time.monotonic()
        want = n * len(regs)
        while True:
            time.sleep(1)
            out = subprocess.run([cli, "--socket", sock, "-c", "show sip-ua status registrar | json"],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                continue
            rows = json.loads(out.stdout)["registrars"]
            at_registrars = [len(r.ul_dump()) for r in regs]
            elapsed = time.monotonic() - start
            print(f"  t={elapsed:5.1f}s  regfront: " +
                  "  ".join(f"R{x['index']} {x['registered']}/{x['total']}" for x in rows) +
                  "   registrars' location tables: " + " ".join(str(c) for c in at_registrars))
            if sum(at_registrars) >= want or elapsed > 120:
                break
        print(f"demo: {sum(at_registrars)} of {want} bindings registered in {elapsed:.1f} s\n")
        out = subprocess.run([cli, "--socket", sock, "-c", "show sip-ua register status"],
                             capture_output=True, text=True).stdout.splitlines()
        print("\n".join(out[:8]))
        print(f"  ... ({len(out) - 2} bindings)\n")
        print(subprocess.run([cli, "--socket", sock, "-c", "show sip-ua statistics | include Registrar|sent|accepted|interval|timed"],
                             capture_output=True, text=True).stdout)
        if args.keep:
            print(f"demo: running; try: {cli} --socket {sock}   (Ctrl-C to stop)")
            try:
                proc.wait()
            except KeyboardInterrupt:
                pass
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        left = [len(r.ul_dump()) for r in regs]
        print(f"demo: regfrontd exited {rc}; bindings left at the registrars after unregistration: {left}")
        return 0 if rc == 0 and sum(at_registrars) >= want else 1
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        for r in regs:
            r.stop()


if __name__ == "__main__":
    sys.exit(main())
