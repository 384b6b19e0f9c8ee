#!/usr/bin/env python3
"""The Kubernetes shards' start.sh and probes, run as the kubelet would, against real Kamailio.

    python3 tests/e2e/test_kubernetes_pods.py --bin-dir BUILD/bin

deploy/kubernetes/socket/ (the kernel-socket variant) is read as Kubernetes would hand it to its
pods: start.sh from common/start.yaml and the startup-config from socket/configmap.yaml in one
directory, the container's env from socket/statefulset.yaml. Its registrars are pointed at two
local Kamailio registrars (one per realm, the ConfigMap's credentials as their subscribers);
nothing else of the file changes. Three "pods" regfront-0..2 (HOSTNAME as a StatefulSet sets it)
run start.sh with the real regfrontd, each with a run directory of its own (the emptyDir) and a
loopback port (a pod's address of its own). Then:
- the manifest's readiness probe command, run as the kubelet runs it, succeeds for each pod;
- every number of the ConfigMap is registered once at each registrar, by the pod whose
  ordinal is its shard (the owner computed by test_shards.shard_of, an independent
  implementation of the hash);
- SIGTERM, as at a pod's deletion, makes each pod exit 0 before terminationGracePeriodSeconds
  (when the kubelet would SIGKILL it), with its numbers unregistered at both registrars, and
  the readiness probe then fails.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kamailio as kam  # noqa: E402
import regfrontd as rfd  # noqa: E402
from test_shards import shard_of  # noqa: E402

BIN_DIR = ""
K8S = os.path.join(HERE, "..", "..", "deploy", "kubernetes")
SHARDS = 3


def log(msg: str) -> None:
    print(f"[e2e-k8s-pods {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load(path):
    with open(os.path.join(K8S, path)) as f:
        return list(yaml.safe_load_all(f))


class KubernetesPods(unittest.TestCase):
    def test_socket_variant_pods(self):
        start = load("common/start.yaml")[0]["data"]
        config_map = load("socket/configmap.yaml")[0]["data"]
        sts = load("socket/statefulset.yaml")[0]
        pod = sts["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        grace = pod["terminationGracePeriodSeconds"]
        probe = container["readinessProbe"]["exec"]["command"]
        self.assertEqual(sts["spec"]["replicas"], SHARDS)
        self.assertEqual(env["SHARDS"], str(SHARDS))
        self.assertEqual(env["IO"], "socket")

        # The ConfigMap's credentials: number -> realm -> (username, password).
        text = config_map["startup-config"]
        creds = re.findall(r"credentials number (\S+) username (\S+) password 0 (\S+) realm (\S+)", text)
        realms = sorted({c[3] for c in creds})
        numbers = sorted({c[0] for c in creds})
        self.assertEqual(len(realms), 2, "the example has two providers' realms")
        regs = []
        for i, realm in enumerate(realms):
            users = [(u, p) for _, u, p, r in creds if r == realm]
            reg = kam.KamailioRegistrar(f"k8s-{i + 1}", realm, users=users, qop="auth")
            reg.start(timeout=120)
            self.addCleanup(reg.stop)
            regs.append(reg)
        # registrar I keeps its options; only its address becomes Kamailio's. Registrar 1 is
        # the first realm's (sip.provider-a), 2 the second's.
        for i, reg in enumerate(regs, 1):
            text, n = re.subn(rf"(?m)^( registrar {i} )\S+", rf"\g<1>ipv4:127.0.0.1:{reg.port}", text)
            self.assertEqual(n, 1, f"registrar {i} in the ConfigMap")

        work = kam.make_workdir("regfront-k8s-")
        self.addCleanup(shutil.rmtree, work, True)
        etc = os.path.join(work, "etc")
        os.mkdir(etc)
        for key, value in list(start.items()) + [("startup-config", text)]:
            with open(os.path.join(etc, key), "w") as f:
                f.write(value)

        pods = []
        for ordinal in range(SHARDS):
            run = os.path.join(work, f"run-{ordinal}")
            os.mkdir(run)
            port, metrics = kam.allocate_udp_ports(2)
            penv = dict(os.environ, **env)
            penv.update(HOSTNAME=f"{sts['metadata']['name']}-{ordinal}", CONFIG_DIR=etc, RUN_DIR=run,
                        REGFRONTD=os.path.join(BIN_DIR, "regfrontd"), LISTEN=f"127.0.0.1:{port}",
                        METRICS=f"127.0.0.1:{metrics}")
            logf = open(os.path.join(work, f"pod-{ordinal}.log"), "w")
            self.addCleanup(logf.close)
            proc = subprocess.Popen(["/bin/sh", os.path.join(etc, "start.sh")], env=penv, stdout=logf,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            self.addCleanup(kam.kill_tree, proc, 2.0, signal.SIGKILL)
            pods.append({"ordinal": ordinal, "proc": proc, "port": port, "run": run,
                         "log": os.path.join(work, f"pod-{ordinal}.log")})
            log(f"pod regfront-{ordinal}: 127.0.0.1:{port}, run directory {run}")

        def probe_cmd(p):
            cmd = [os.path.join(BIN_DIR, "regfront-cli") if c == "regfront-cli" else c for c in probe]
            return [c.replace("/run/regfront", p["run"]) for c in cmd]

        def ready(p):
            return subprocess.run(probe_cmd(p), capture_output=True, timeout=10).returncode == 0

        for p in pods:
            kam.wait_until(lambda: ready(p), timeout=60, interval=0.5, what=f"regfront-{p['ordinal']} ready")
            with open(p["log"]) as f:
                self.assertIn(f"(shard {p['ordinal']} of {SHARDS})", f.read())

        owner = {n: shard_of(n, SHARDS) for n in numbers}
        by_port = {p["port"]: p["ordinal"] for p in pods}
        state = {}

        def registered_by_owner():
            for reg in regs:
                dump = reg.ul_dump()
                got = {n: dump.get(n, []) for n in numbers}
                bad = {n: [c.uri for c in cs] for n, cs in got.items()
                       if len(cs) != 1 or by_port.get(int(cs[0].uri.split("@")[-1].split(";")[0]
                                                          .rstrip(">").rsplit(":", 1)[1])) != owner[n]}
                state[reg.name] = bad
                if bad:
                    return False
            return True

        try:
            kam.wait_until(registered_by_owner, timeout=60, interval=0.5,
                           what="every number registered once at each registrar by its shard's pod")
        except Exception:
            log(f"not as expected: {state}")
            raise
        log(f"owners: {owner}")

        # Pod deletion: SIGTERM; the kubelet would SIGKILL after the grace period.
        for p in pods:
            os.killpg(p["proc"].pid, signal.SIGTERM)
        for p in pods:
            try:
                rc = p["proc"].wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.fail(f"regfront-{p['ordinal']} still runs after terminationGracePeriodSeconds {grace}")
            self.assertEqual(rc, 0, f"regfront-{p['ordinal']} exit status")
            self.assertFalse(ready(p), "the readiness probe must fail once regfrontd is gone")
        for reg in regs:
            dump = reg.ul_dump()
            left = {n: [c.uri for c in dump[n]] for n in numbers if dump.get(n)}
            self.assertEqual(left, {}, f"{reg.name}: bindings left after SIGTERM")


def main():
    global BIN_DIR
    BIN_DIR, argv = rfd.suite_args(__doc__.split("\n")[0])
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
