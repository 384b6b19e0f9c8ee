"""One regfrontd under test, for the e2e suites: its startup-config, control socket, log, and
the process itself (started in its own session, registered with the harness's clean-up,
stopped with SIGTERM). Two flavours: SocketRegfrontd (the embedded default, on 127.0.0.1) and
DpdkRegfrontd (--io dpdk, optionally inside a network namespace).

    rf = SocketRegfrontd(bin_dir, config_text, workers=2)
    rf.check_config(); rf.start()
    stats = rf.cli_json("show sip-ua statistics")
    rc, seconds = rf.terminate()
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Callable, List, Optional, Tuple

import kamailio as kam



# The stamp IOS puts before a buffered log or debug line (`*Dec  7 18:35:02.123: `), as a regular
# expression: what regfrontd's show logging and debug ccsip output begin with.
IOS_STAMP = r"\*[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: "

def suite_args(description: str, need_kamailio: bool = True) -> Tuple[str, List[str]]:
    """An e2e suite's command line: `--bin-dir BUILD/bin` (required); the rest is unittest's.
    Exits 1 (a failure, never a skip) when the suite needs Kamailio and it is not installed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bin-dir", required=True, help="directory holding regfrontd and regfront-cli")
    args, rest = parser.parse_known_args()
    if need_kamailio and not (os.access(kam.KAMAILIO_BIN, os.X_OK) and os.access(kam.KAMCMD_BIN, os.X_OK)):
        print(f"FAIL: Kamailio not installed ({kam.KAMAILIO_BIN}, {kam.KAMCMD_BIN}): "
              f"run deploy/install-deps.sh", file=sys.stderr)
        sys.exit(1)
    return os.path.abspath(args.bin_dir), [sys.argv[0]] + rest


class Regfrontd:
    """What every flavour shares; a subclass says how to run it (command())."""

    def __init__(self, bin_dir: str, config_text: str, name: str, workers: int):
        if not bin_dir:
            raise AssertionError("--bin-dir was not given")
        self.daemon = os.path.join(bin_dir, "regfrontd")
        self.cli = os.path.join(bin_dir, "regfront-cli")
        if not os.access(self.daemon, os.X_OK):
            raise AssertionError(
                f"regfrontd not found or not executable at {self.daemon}: build it first "
                f"(cmake --build BUILD --target regfrontd regfront-cli) and pass --bin-dir BUILD/bin")
        self.workdir = kam.make_workdir(f"{name}-")
        self.workers = workers
        self.config_path = os.path.join(self.workdir, "startup-config")
        self.control_socket = os.path.join(self.workdir, "control.sock")
        self.log_path = os.path.join(self.workdir, "regfrontd.log")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.proc: Optional[subprocess.Popen] = None
        self.started_at = 0.0

    def command(self) -> List[str]:
        raise NotImplementedError

    def check_config(self) -> None:
        res = subprocess.run([self.daemon, "--check-config", self.config_path],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=60)
        if res.returncode != 0:
            raise AssertionError(f"regfrontd --check-config {self.config_path} exited "
                                 f"{res.returncode}:\n{res.stdout[-3000:]}")

    def start(self, log: Callable[[str], None] = lambda _: None, ready_timeout: float = 20.0) -> None:
        """Starts regfrontd and waits until its control socket exists (it exits at once on a
        bad configuration: that fails here with its log)."""
        cmd = self.command()
        log("starting " + " ".join(f"'{c}'" if " " in c else c for c in cmd))
        with open(self.log_path, "ab") as logf:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        kam.REGISTRY.add(self.proc)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"regfrontd exited at start with {self.proc.returncode}:\n"
                                     f"{self.log_tail()}")
            if os.path.exists(self.control_socket):
                return
            time.sleep(0.1)
        raise AssertionError(f"regfrontd: no control socket after {ready_timeout}s\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout: float = 15.0) -> Tuple[Optional[int], float]:
        """SIGTERM to regfrontd only (not its group); returns (exit code or None, seconds)."""
        assert self.proc is not None
        t0 = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def kill(self, grace: float = 3.0) -> None:
        if self.proc is not None:
            kam.kill_tree(self.proc, grace=grace)
            kam.REGISTRY.remove(self.proc)

    def log_tail(self, lines: int = 60) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def run_cli(self, commands: List[str], timeout: float = 10.0) -> str:
        """Runs regfront-cli with each of `commands` as a -c (one session); returns its output."""
        argv = [self.cli, "--socket", self.control_socket]
        for c in commands:
            argv += ["-c", c]
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return res.stdout

    def cli_json(self, command: str, timeout: float = 10.0):
        """Runs regfront-cli `command | json`; returns parsed JSON or None (diagnostics)."""
        if not os.access(self.cli, os.X_OK) or not os.path.exists(self.control_socket):
            return None
        try:
            res = subprocess.run([self.cli, "--socket", self.control_socket, "-c",
                                  f"{command} | json"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if res.returncode != 0:
            return None
        try:
            return json.loads(res.stdout)
        except ValueError:
            return None


class SocketRegfrontd(Regfrontd):
    """regfrontd on the kernel-socket backend, listening on 127.0.0.1 (worker i on port + i)."""

    def __init__(self, bin_dir: str, config_text: str, workers: int = 2, name: str = "regfrontd"):
        super().__init__(bin_dir, config_text, name, workers)
        self.port = kam.allocate_udp_ports(workers + 1, contiguous=True)[0]

    def command(self) -> List[str]:
        return [self.daemon, "--config", self.config_path, "--io", "socket",
                "--listen", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                "--control-socket", self.control_socket] + list(getattr(self, "extra_args", []))


class DpdkRegfrontd(Regfrontd):
    """`regfrontd --io dpdk --eal EAL`, run through `wrap` (e.g. into a network namespace)."""

    def __init__(self, bin_dir: str, config_text: str, eal: str,
                 wrap: Callable[[List[str]], List[str]] = lambda cmd: cmd, workers: int = 1,
                 name: str = "regfrontd-dpdk"):
        super().__init__(bin_dir, config_text, name, workers)
        self.eal = eal
        self.wrap = wrap

    def command(self) -> List[str]:
        return self.wrap([self.daemon, "--io", "dpdk", "--eal", self.eal, "--config", self.config_path,
                          "--control-socket", self.control_socket, "--workers", str(self.workers)])
