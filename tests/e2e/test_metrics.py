#!/usr/bin/env python3
"""Prometheus exposition (`regfrontd --metrics ADDR:PORT`) checked by Prometheus's own tools:
regfrontd (socket backend, two workers) registers numbers at a real Kamailio; its /metrics text
passes `promtool check metrics`, its figures agree with `show sip-ua statistics` and `show
dataplane`, no label carries a number, user or realm; a real Prometheus server scrapes it and
answers queries with the same figures, its registered bindings Kamailio's location count; a live
configuration change is counted; registrations that run out at a frozen Kamailio leave the
registered count as they lapse; an address that cannot be listened on stops start-up with a
reason.

    python3 tests/e2e/test_metrics.py --bin-dir BUILD/bin

Needs Debian's `prometheus` (server and promtool), installed by deploy/install-deps.sh.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402

BIN_DIR = ""
REALM = "metrics.test"
REPO = os.path.dirname(os.path.dirname(HERE))
RULES = os.path.join(REPO, "deploy", "prometheus", "regfront-alerts.yml")
RULES_TEST = os.path.join(REPO, "deploy", "prometheus", "regfront-alerts.test.yml")
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "regfront.json")


def dashboard_queries():
    """(panel title, PromQL) of every target of the Grafana dashboard."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t["expr"]


def rule_names():
    with open(RULES) as f:
        return re.findall(r"^\s*- alert: (\S+)", f.read(), re.M)


def documented_metrics():
    """The metric names of docs/metrics.md's table as regular expressions (`<counter>` and
    `{a,b}` expanded; a histogram's series are its `_bucket`, `_sum` and `_count`)."""
    out = []
    with open(os.path.join(REPO, "docs", "metrics.md")) as f:
        for line in f:
            if not line.startswith("| `regfront_"):
                continue
            for name in re.findall(r"`(regfront_[^`]+)`", line.split("|")[1]):
                rx = re.escape(name).replace(re.escape("<counter>"), "[a-z0-9_]+")
                rx = re.sub(r"\\\{([^}]*)\\\}", lambda m: "(" + m.group(1).replace(",", "|") + ")", rx)
                if line.split("|")[2].strip() == "histogram":
                    rx += "(_bucket|_sum|_count)"
                out.append(rx)
    return out


def log(msg: str) -> None:
    print(f"[e2e-metrics {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str):
    """[(name, {label: value}, value)] of the exposition's samples."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m:
            out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def value(samples, name, **labels):
    for n, l, v in samples:
        if n == name and all(l.get(k) == str(x) for k, x in labels.items()):
            return v
    return None


def states_agree(rf, url):
    """(bindings by state, registered) of registrar 1 from /metrics when they equal what the rows
    of show sip-ua register status count (state without its star; registered = seconds left)."""
    s = parse(http_get(url))
    rows = [b for b in rf.cli_json("show sip-ua register status")["bindings"] if b["registrar"] == 1]
    shown = {}
    for b in rows:
        shown[b["state"].rstrip("*")] = shown.get(b["state"].rstrip("*"), 0) + 1
    counted = {l["state"]: v for n, l, v in s if n == "regfront_registrar_bindings" and l.get("registrar") == "1" and v != 0}
    running = value(s, "regfront_registrar_bindings_registered", registrar=1)
    return (counted, running) if (shown, sum(b["seconds_left"] > 0 for b in rows)) == (counted, running) else None


class MetricsAgainstPrometheus(unittest.TestCase):
    def start_with_metrics(self, config: str, name: str):
        """A two-worker regfrontd serving /metrics on a free port: (it, the port)."""
        rf = rfd.SocketRegfrontd(BIN_DIR, config, workers=2, name=name)
        port = free_tcp_port()
        rf.extra_args = ["--metrics", f"127.0.0.1:{port}"]
        self.addCleanup(rf.kill)
        rf.start(log)
        return rf, port

    def test_scraped_by_prometheus_and_true_to_show(self):
        for tool in ("prometheus", "promtool"):
            self.assertIsNotNone(shutil.which(tool), f"{tool} missing: run deploy/install-deps.sh")
        numbers = [str(7600000 + i) for i in range(12)]
        reg = kam.KamailioRegistrar("mx", REALM, users=[(f"u{x}", f"p{x}") for x in numbers])
        reg.start()
        self.addCleanup(reg.stop)
        config = ("sip-ua\n"
                  + "".join(f" credentials number {x} username u{x} password 0 p{x} realm {REALM}\n"
                            for x in numbers)
                  + f" registrar 1 ipv4:{reg.address[0]}:{reg.address[1]} expires 300\n"
                  + "dial-peer voice 100 voip\n destination-pattern .T\n session target registrar\n")
        rf, mport = self.start_with_metrics(config, "rf-metrics")
        url = f"http://127.0.0.1:{mport}/metrics"

        kam.wait_until(lambda: len(reg.ul_dump()) == len(numbers), timeout=20, what="every number registered")
        time.sleep(1.5)  # the exposition's copy is refreshed once a second
        text = http_get(url)
        chk = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(chk.returncode, 0, chk.stdout + chk.stderr)
        self.assertEqual((chk.stdout + chk.stderr).strip(), "", "promtool's lint found problems")
        samples = parse(text)
        stats = rf.cli_json("show sip-ua statistics")
        dp = rf.cli_json("show dataplane")
        want = next(r for r in stats["registrars"] if r["index"] == 1)
        self.assertEqual(value(samples, "regfront_registrar_accepted_total", registrar=1), want["accepted"])
        self.assertEqual(value(samples, "regfront_registrar_accepted_total", registrar=1), len(numbers))
        self.assertEqual(value(samples, "regfront_registrar_challenged_total", registrar=1), want["challenged"])
        self.assertEqual(value(samples, "regfront_registrar_responses_total", registrar=1, code=401),
                         want["responses"].get("401", 0))
        self.assertEqual(sum(v for n, _, v in samples if n == "regfront_worker_bindings"),
                         sum(w["bindings"] for w in dp["workers"]))
        self.assertEqual(value(samples, "regfront_workers"), 2)
        self.assertEqual(value(samples, "regfront_registrar_expires_seconds", registrar=1), 300)
        self.assertIsNotNone(value(samples, "regfront_build_info"))
        # Latency histograms: each first registration accepted is one time to register, each
        # challenge answered at once (not waiting for the rate) one answer latency; refreshes
        # (none yet at expires 300) are what is accepted beyond the first registrations.
        h = "regfront_register_duration_seconds"
        self.assertEqual(value(samples, h + "_count", registrar=1), len(numbers))
        self.assertEqual(value(samples, h + "_bucket", registrar=1, le="+Inf"), len(numbers))
        self.assertGreater(value(samples, h + "_sum", registrar=1), 0)
        c = "regfront_challenge_answer_seconds"
        self.assertEqual(value(samples, c + "_count", registrar=1), want["challenged"] - want["retry_deferred"])
        self.assertGreater(want["challenged"], 0)
        self.assertLess(value(samples, c + "_sum", registrar=1), 1.0, "µs each, not seconds")
        self.assertEqual(value(samples, "regfront_refresh_lateness_seconds_count", registrar=1),
                         want["accepted"] - value(samples, h + "_count", registrar=1))
        log(f"mean time to register {value(samples, h + '_sum', registrar=1) / len(numbers) * 1e3:.1f} ms, mean "
            f"401 -> answer {value(samples, c + '_sum', registrar=1) / value(samples, c + '_count', registrar=1) * 1e6:.1f} µs")
        for name in (h, c, "regfront_refresh_lateness_seconds"):
            counts = [v for n, l, v in samples if n == name + "_bucket" and l.get("registrar") == "1"]
            self.assertEqual(counts, sorted(counts), f"{name}: buckets not cumulative")
        # Bindings by state: what the engines count on each transition is what the rows of
        # show sip-ua register status say (state without its star; registered = seconds left).
        counted, running = kam.wait_until(lambda: states_agree(rf, url), timeout=10, interval=0.5,
                                          what="bindings by state as show sip-ua register status counts them")
        self.assertEqual(counted, {"registered": len(numbers)})
        self.assertEqual(running, len(numbers))
        # Bounded labels only: no number, username or realm of an endpoint anywhere.
        secrets = set(numbers) | {f"u{x}" for x in numbers} | {REALM}
        for n, labels, _ in samples:
            for k, v in labels.items():
                self.assertNotIn(v, secrets, f"{n} carries {k}={v}")
            self.assertTrue(set(labels) <= {"registrar", "worker", "code", "port", "dial_peer", "stage", "state",
                                            "version", "le"}, f"{n}: {labels}")
        # What the dashboard and the alert rules use is exported (those of DPDK ports, poll-mode
        # busy time and dial peers that carried calls apart: not on this daemon).
        scraped = {n for n, _, _ in samples}
        used = set()
        for _, expr in dashboard_queries():
            used |= set(re.findall(r"\bregfront_[a-z0-9_]+", expr))
        with open(RULES) as f:
            used |= set(re.findall(r"\bregfront_[a-z0-9_]+", f.read()))
        elsewhere = ("regfront_port_", "regfront_mbuf_", "regfront_worker_busy_", "regfront_worker_stage_",
                     "regfront_dial_peer_")
        missing = sorted(n for n in used if n not in scraped and not n.startswith(elsewhere))
        self.assertEqual(missing, [], "used by the dashboard or the rules, absent from /metrics")
        changes = value(samples, "regfront_config_changes_total")
        self.assertEqual(rf.run_cli(["enable", "configure terminal", "hostname metrics", "end"]).strip(), "")
        kam.wait_until(lambda: value(parse(http_get(url)), "regfront_config_changes_total") == changes + 1,
                       timeout=5, what="the live change counted")

        self.check_live_page(f"http://127.0.0.1:{mport}/", len(numbers))

        # A real Prometheus server scrapes it every second and answers with the same figures.
        wd = tempfile.mkdtemp(prefix="e2e-prom-")
        self.addCleanup(shutil.rmtree, wd, True)
        with open(os.path.join(wd, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    f"rule_files: ['{RULES}']\n"
                    "scrape_configs:\n  - job_name: regfront\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{mport}']\n")
        pport = free_tcp_port()
        plog = open(os.path.join(wd, "prometheus.log"), "wb")
        self.addCleanup(plog.close)
        prom = subprocess.Popen(["prometheus", f"--config.file={wd}/prometheus.yml",
                                 f"--storage.tsdb.path={wd}/data", f"--web.listen-address=127.0.0.1:{pport}"],
                                stdout=plog, stderr=subprocess.STDOUT, start_new_session=True)

        def stop_prom():
            prom.terminate()
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom.kill()
        self.addCleanup(stop_prom)

        def query(q):
            body = json.loads(http_get(f"http://127.0.0.1:{pport}/api/v1/query?" + urllib.parse.urlencode({"query": q})))
            res = body.get("data", {}).get("result", [])
            return float(res[0]["value"][1]) if res else None

        try:
            kam.wait_until(lambda: query('up{job="regfront"}') == 1, timeout=30, interval=0.5,
                           what="Prometheus scraping regfrontd")
            got = kam.wait_until(lambda: query('regfront_registrar_accepted_total{registrar="1"}'), timeout=10,
                                 interval=0.5, what="the accepted count in Prometheus")
        except Exception:
            with open(os.path.join(wd, "prometheus.log"), errors="replace") as f:
                log("prometheus log tail:\n" + "".join(f.readlines()[-20:]))
            raise
        self.assertEqual(got, len(numbers))
        self.assertEqual(query('sum(regfront_worker_bindings)'), len(numbers))
        self.assertEqual(query('regfront_workers'), 2)
        self.assertEqual(query('regfront_register_duration_seconds_count{registrar="1"}'), len(numbers))
        self.assertIsNotNone(query('histogram_quantile(0.5, sum by (le) (regfront_challenge_answer_seconds_bucket))'))
        # Registered bindings per registrar in Prometheus equal Kamailio's own location table.
        def contacts():
            return sum(len(c) for c in reg.ul_dump().values())
        kam.wait_until(lambda: query('regfront_registrar_bindings_registered{registrar="1"}') == contacts() == len(numbers),
                       timeout=10, interval=0.5, what="registered bindings in Prometheus = Kamailio's location count")
        # Two numbers removed: they unregister, and both counts follow.
        gone = numbers[:2]
        self.assertEqual(rf.run_cli(["enable", "configure terminal", "sip-ua"]
                                    + [f"no credentials number {x} realm {REALM}" for x in gone] + ["end"]).strip(), "")
        kam.wait_until(lambda: query('regfront_registrar_bindings_registered{registrar="1"}') == contacts()
                       == len(numbers) - len(gone), timeout=20, interval=0.5,
                       what="the removed numbers gone from Prometheus and from Kamailio's location table")
        self.assertEqual(query('regfront_registrar_bindings{registrar="1", state="registered"}'), len(numbers) - len(gone))

        # The alert rules load and evaluate without error in this Prometheus.
        def rules_ok():
            body = json.loads(http_get(f"http://127.0.0.1:{pport}/api/v1/rules"))
            rules = [r for g in body["data"]["groups"] if g["name"] == "regfront" for r in g["rules"]]
            return rules if rules and all(r.get("health") == "ok" for r in rules) else None
        rules = kam.wait_until(rules_ok, timeout=15, interval=0.5, what="the alert rules evaluated")
        self.assertEqual(len(rules), len(rule_names()))
        firing = [r["name"] for r in rules if r.get("state") == "firing"]
        self.assertEqual(firing, [], "nothing is wrong here, yet alerts fire")
        # Every panel's query of the dashboard is valid PromQL in this Prometheus, and those over
        # figures a socket-backend daemon exports return data.
        empty, checked = [], 0
        for title, expr in dashboard_queries():
            q = expr.replace("$registrar", ".*").replace("$worker", ".*")
            body = json.loads(http_get(f"http://127.0.0.1:{pport}/api/v1/query?" + urllib.parse.urlencode({"query": q})))
            self.assertEqual(body.get("status"), "success", f"{title}: {q}: {body}")
            if set(re.findall(r"\bregfront_[a-z0-9_]+", q)) <= scraped:
                checked += 1
                if not body["data"]["result"]:
                    empty.append(f"{title}: {q}")
        self.assertEqual(empty, [], "dashboard queries over exported figures that return no data")
        self.assertGreaterEqual(checked, 25)  # all but the DPDK and dial-peer panels

    def check_live_page(self, url: str, registered: int) -> None:
        """Headless Chromium (Debian chromium) runs the live page: its charts are drawn with
        Chart.js and its table holds the plotted series with their data; a screenshot is kept
        in BUILD/artifacts/ for CI."""
        chromium = shutil.which("chromium")
        self.assertIsNotNone(chromium, "chromium missing: run deploy/install-deps.sh")
        time.sleep(2)  # a few points of history
        common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                  "--virtual-time-budget=8000"]
        with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile:
            r = subprocess.run(common + [f"--user-data-dir={profile}", "--dump-dom", url], capture_output=True,
                               text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        dom = r.stdout
        self.assertIn('data-updated="', dom, "the page never drew: " + dom[-1500:])
        self.assertIn('<p id="status"></p>', dom, "the page reports a problem (no Chart.js, or no answer)")
        rows = {}
        for tr in re.findall(r"<tr ([^>]*)>", dom):
            attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', tr))
            if "series" in attrs:
                rows[(attrs["chart"], attrs["series"])] = attrs
        log(f"live page: {len(rows)} series, charts {sorted({c for c, _ in rows})}")
        accepted = rows.get(("REGISTERs per second", "accepted r1"))
        self.assertIsNotNone(accepted, sorted(rows))
        self.assertEqual(float(accepted["total"]), registered)
        self.assertGreaterEqual(int(accepted["points"]), 1)
        self.assertGreater(sum(float(a["total"]) for (c, _), a in rows.items() if c == "Datagrams per second"), 0)
        # Chart.js sized each canvas it drew (its style attribute): one chart per chart name.
        self.assertEqual(len(re.findall(r'<canvas height="\d+" style="display: block', dom)), len({c for c, _ in rows}))
        shot = os.path.join(os.path.dirname(os.path.abspath(BIN_DIR)), "artifacts", "live-page.png")
        os.makedirs(os.path.dirname(shot), exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile:
            r = subprocess.run(common + [f"--user-data-dir={profile}", "--window-size=1400,1000",
                                         f"--screenshot={shot}", url], capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertGreater(os.path.getsize(shot), 10000, "an empty screenshot")
        log(f"live page screenshot: {shot}")

    def test_dashboard_and_rules_name_only_exported_metrics(self):
        """deploy/grafana/regfront.json and deploy/prometheus/regfront-alerts.yml: promtool
        accepts the rules; every metric they use is one regfrontd exports (docs/metrics.md)."""
        chk = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True)
        self.assertEqual(chk.returncode, 0, chk.stdout + chk.stderr)
        # Each alert fires on a crafted series and stays quiet on a healthy one.
        unit = subprocess.run(["promtool", "test", "rules", os.path.basename(RULES_TEST)], capture_output=True,
                              text=True, cwd=os.path.dirname(RULES_TEST))
        self.assertEqual(unit.returncode, 0, unit.stdout + unit.stderr)
        with open(RULES_TEST) as f:
            tested = set(re.findall(r"alertname: (\w+)", f.read()))
        self.assertEqual(tested, set(rule_names()), "an alert without a unit test")
        with open(DASHBOARD) as f:
            dash = json.load(f)
        names = {v["name"] for v in dash["templating"]["list"]}
        self.assertTrue({"datasource", "registrar", "worker"} <= names, names)
        exported = documented_metrics()
        used = set()
        for _, expr in dashboard_queries():
            used |= set(re.findall(r"\bregfront_[a-z0-9_]+", expr))
        with open(RULES) as f:
            used |= set(re.findall(r"\bregfront_[a-z0-9_]+", f.read()))
        unknown = sorted(n for n in used if not any(re.fullmatch(p, n) for p in exported))
        self.assertEqual(unknown, [], "metrics used by the dashboard or the rules but not exported")
        self.assertGreaterEqual(len(list(dashboard_queries())), 30)

    def test_a_lapse_leaves_the_registered_count_when_it_happens(self):
        """Kamailio frozen (SIGSTOP) with every binding registered for 10 s: their refreshes go
        unanswered and the registrations run out; the registered count falls to 0 as they do,
        the states stay those the rows show, and both come back with Kamailio's location."""
        n, expires = 6, 10
        numbers = [str(7610000 + i) for i in range(n)]
        reg = kam.KamailioRegistrar("mx-lapse", REALM, users=[(f"u{x}", f"p{x}") for x in numbers],
                                    default_expires=expires)
        reg.start()
        self.addCleanup(reg.stop)
        config = ("sip-ua\n"
                  + "".join(f" credentials number {x} username u{x} password 0 p{x} realm {REALM}\n" for x in numbers)
                  + f" registrar 1 ipv4:{reg.address[0]}:{reg.address[1]} expires {expires}\n"
                  + " timers register 100\n")
        rf, mport = self.start_with_metrics(config, "rf-metrics-lapse")
        url = f"http://127.0.0.1:{mport}/metrics"

        def registered():
            return value(parse(http_get(url)), "regfront_registrar_bindings_registered", registrar=1)

        def contacts():
            return sum(len(c) for c in reg.ul_dump().values())
        kam.wait_until(lambda: registered() == contacts() == n, timeout=20, interval=0.25,
                       what="every number registered, in /metrics and in Kamailio")
        reg.freeze()
        self.addCleanup(reg.thaw)
        stopped = time.monotonic()
        kam.wait_until(lambda: registered() == 0, timeout=expires + 10, interval=0.25,
                       what="every registration run out")
        log(f"registered 0 after {time.monotonic() - stopped:.1f} s frozen")
        counted, running = kam.wait_until(lambda: states_agree(rf, url), timeout=10, interval=0.5,
                                          what="bindings by state as the rows count them, lapsed")
        self.assertEqual(running, 0)
        self.assertEqual(sum(counted.values()), n)
        self.assertNotIn("registered", counted)
        reg.thaw()
        kam.wait_until(lambda: registered() == contacts() == n, timeout=40, interval=0.5,
                       what="registered again, in /metrics and in Kamailio")

    def test_an_address_that_cannot_be_listened_on_stops_start_up(self):
        busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        port = busy.getsockname()[1]
        rf = rfd.SocketRegfrontd(BIN_DIR, "sip-ua\n registrar 1 ipv4:127.0.0.1:9 expires 60\n", workers=1,
                                 name="rf-metrics-busy")
        rf.extra_args = ["--metrics", f"127.0.0.1:{port}"]
        r = subprocess.run(rf.command(), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"--metrics 127.0.0.1:{port}: cannot listen", r.stderr)


if __name__ == "__main__":
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)
