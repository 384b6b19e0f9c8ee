#!/usr/bin/env python3
"""The Debian package, built, checked and installed in a throw-away root: lintian, the unit
through systemd-analyze (verify, and security --offline: the exposure score), then in a Debian 12
root made by mmdebstrap (cached as a tarball under /var/cache/regfront-test, rebuilt when the
package's dependencies change): install, --check-config on the shipped configurations,
regfrontd started from the unit's own command line as the service user (regfront-cli over
/run/regfront, a reload = SIGHUP applying an edited startup-config, a stop = SIGTERM), remove
and purge leaving nothing. The host's /etc and services are not touched. Needs root.

  python3 tests/pkg/test_package.py --build-dir BUILD
"""

import argparse
import glob
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import kamailio as kam  # noqa: E402  (a real registrar for the reload and the stop)
CACHE = os.environ.get("REGFRONT_TEST_CACHE", "/var/cache/regfront-test")
SUITE = "bookworm"
# The exposure score systemd-analyze security --offline gives the packaged unit, alone and with
# the DPDK drop-in, must stay at or below these (0 is best, 10 worst; measured 1.4 and 2.3).
MAX_EXPOSURE_SOCKET = 2.0
MAX_EXPOSURE_DPDK = 3.5
BUILD_DIR = ""
# Beside the package's dependencies, what a Debian 12 server has and the unit's checks use:
# systemd (systemd-analyze verify --root resolves the unit's targets there), DPDK's null port
# driver (the DPDK drop-in's run without a NIC).
ROOT_EXTRAS = ("systemd", "librte-net-null23")


def run(argv, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{shlex.join(argv)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def deb_field(deb, field):
    return run(["dpkg-deb", "--field", deb, field]).stdout.strip()


def read(path):
    with open(path) as f:
        return f.read()


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Package(unittest.TestCase):
    deb = ""
    timings = {}

    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        env = dict(os.environ, REGFRONT_BUILD_DIR=BUILD_DIR)
        out = run([os.path.join(ROOT, "deploy", "package.sh")], env=env, timeout=1800).stdout
        cls.deb = out.strip().splitlines()[-1]
        cls.timings["package"] = time.monotonic() - t0
        print(f"package: {cls.deb}, {os.path.getsize(cls.deb) / 1e6:.1f} MB, "
              f"Installed-Size {int(deb_field(cls.deb, 'Installed-Size')) / 1e3:.1f} MB", file=sys.stderr)

    # -- the package itself --------------------------------------------------------------

    def test_1_name_and_contents(self):
        self.assertRegex(os.path.basename(self.deb), r"^regfront_[0-9.]+-[0-9]+_amd64\.deb$")
        files = run(["dpkg-deb", "--contents", self.deb]).stdout
        for path in ("./usr/sbin/regfrontd", "./usr/bin/regfront-cli", "./lib/systemd/system/regfront.service",
                     "./usr/share/man/man8/regfrontd.8.gz", "./usr/share/man/man1/regfront-cli.1.gz",
                     "./etc/regfront/startup-config.example", "./etc/regfront/dpdk.profile",
                     "./etc/default/regfront", "./usr/share/regfront/grafana/regfront.json",
                     "./usr/share/regfront/prometheus/regfront-alerts.yml",
                     "./usr/share/doc/regfront/examples/dpdk.conf", "./usr/share/doc/regfront/deploy.md",
                     "./usr/share/doc/regfront/scale-out.md",
                     "./usr/share/doc/regfront/copyright", "./usr/share/doc/regfront/changelog.Debian.gz"):
            self.assertRegex(files, re.escape(path) + r"\n", f"{path} not in the package")
        depends = deb_field(self.deb, "Depends")
        for lib in ("adduser", "procps", "librte-mempool-ring23", "libssl3", "libc-ares2", "libedit2"):
            self.assertIn(lib, depends)
        conffiles = run(["sh", "-c", f"dpkg-deb --info {shlex.quote(self.deb)} conffiles"]).stdout.split()
        self.assertEqual(sorted(conffiles), ["/etc/default/regfront", "/etc/regfront/dpdk.profile",
                                             "/etc/regfront/startup-config.example"])

    def test_2_lintian_clean(self):
        t0 = time.monotonic()
        r = run(["lintian", "--fail-on", "error,warning", "--display-info", self.deb], check=False)
        self.timings["lintian"] = time.monotonic() - t0
        print(f"lintian ({self.timings['lintian']:.0f} s):\n{r.stdout or '  (no tags)'}", file=sys.stderr)
        self.assertEqual(r.returncode, 0, f"lintian:\n{r.stdout}{r.stderr}")
        self.assertNotRegex(r.stdout, r"(?m)^[EW]: ", r.stdout)

    # -- the unit -------------------------------------------------------------------------

    def _exposure(self, unit_dir):
        r = run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                 os.path.join(unit_dir, "regfront.service")], check=False)
        m = re.search(r"Overall exposure level for regfront\.service: ([0-9.]+) (\w+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        return float(m.group(1)), m.group(2), r.stdout

    def test_3_unit_verifies_and_is_hardened(self):
        root = self._root()
        r = run(["systemd-analyze", "verify", "--man=no", f"--root={root}", "regfront.service"], check=False)
        # verify has nothing to say about a unit it accepts. (--man=no: it would look for the
        # Documentation= pages on the host; test_4 finds them in the root.)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr.strip(), "", r.stderr)
        unit_dir = os.path.join(root, "lib/systemd/system")
        score, level, _ = self._exposure(unit_dir)
        print(f"systemd-analyze security --offline: regfront.service {score} {level}", file=sys.stderr)
        self.assertLessEqual(score, MAX_EXPOSURE_SOCKET)

        # The DPDK drop-in as docs/deploy.md installs it: the unit still verifies, and its
        # score with the capabilities and devices it adds back.
        dropin = os.path.join(root, "etc/systemd/system/regfront.service.d")
        os.makedirs(dropin, exist_ok=True)
        shutil.copy(os.path.join(root, "usr/share/doc/regfront/examples/dpdk.conf"), dropin)
        try:
            r = run(["systemd-analyze", "verify", "--man=no", f"--root={root}", "regfront.service"], check=False)
            self.assertEqual((r.returncode, r.stderr.strip()), (0, ""), r.stdout + r.stderr)
            merged = tempfile.mkdtemp(prefix="regfront-unit-")
            with open(os.path.join(merged, "regfront.service"), "w") as f:
                f.write(read(os.path.join(unit_dir, "regfront.service")))
                f.write("\n" + read(os.path.join(dropin, "dpdk.conf")))
            dscore, dlevel, _ = self._exposure(merged)
            shutil.rmtree(merged)
            print(f"systemd-analyze security --offline: with the DPDK drop-in {dscore} {dlevel}", file=sys.stderr)
            self.assertGreater(dscore, score)  # it does add rights back
            self.assertLessEqual(dscore, MAX_EXPOSURE_DPDK)
        finally:
            shutil.rmtree(os.path.join(root, "etc/systemd/system/regfront.service.d"))

    # -- installed in a throw-away root ---------------------------------------------------

    _root_dir = ""

    @classmethod
    def _root(cls):
        if cls._root_dir:
            return cls._root_dir
        t0 = time.monotonic()
        tarball = cached_root(cls.deb)
        cls.timings["root"] = time.monotonic() - t0
        cls._root_dir = tempfile.mkdtemp(prefix="regfront-pkg-root-", dir="/var/tmp")
        run(["tar", "-C", cls._root_dir, "-xf", tarball])
        shutil.copy(cls.deb, os.path.join(cls._root_dir, "tmp", "regfront.deb"))
        t0 = time.monotonic()
        r = run(["chroot", cls._root_dir, "dpkg", "-i", "/tmp/regfront.deb"], check=False)
        cls.timings["install"] = time.monotonic() - t0
        if r.returncode != 0:
            raise AssertionError(f"dpkg -i in the throw-away root:\n{r.stdout}\n{r.stderr}")
        cls.install_output = r.stdout + r.stderr
        return cls._root_dir

    @classmethod
    def tearDownClass(cls):
        if cls._root_dir and not os.environ.get("REGFRONT_E2E_KEEP"):
            for m in ("proc", "sys"):
                path = os.path.join(cls._root_dir, m)
                if os.path.ismount(path):
                    subprocess.run(["umount", "--lazy", path], capture_output=True)
            # Never delete through a mount into the host's /proc or /sys.
            if not any(os.path.ismount(os.path.join(cls._root_dir, m)) for m in ("proc", "sys", "dev")):
                shutil.rmtree(cls._root_dir, ignore_errors=True)
            else:
                print(f"left {cls._root_dir}: a mount is still inside", file=sys.stderr)
        print("times: " + ", ".join(f"{k} {v:.1f} s" for k, v in cls.timings.items()), file=sys.stderr)

    def chroot(self, *argv, user=None, check=True, **kw):
        pre = ["chroot"] + ([f"--userspec={user}"] if user else []) + [self._root()]
        return run(pre + list(argv), check=check, **kw)

    def test_4_installed_as_the_package_says(self):
        root = self._root()
        self.assertNotIn("warning", self.install_output.lower(), self.install_output)
        passwd = self.chroot("getent", "passwd", "regfront").stdout
        self.assertRegex(passwd, r"^regfront:x:\d+:\d+:.*:/nonexistent:/usr/sbin/nologin$")
        st = os.stat(os.path.join(root, "etc/regfront"))
        self.assertEqual(oct(st.st_mode & 0o7777), "0o2770")
        cfg = os.stat(os.path.join(root, "etc/regfront/startup-config"))
        self.assertEqual(oct(cfg.st_mode & 0o777), "0o660")
        # Enabled (the symlink deb-systemd-helper made), not started: no systemd runs there.
        self.assertTrue(os.path.islink(os.path.join(root, "etc/systemd/system/multi-user.target.wants/regfront.service")))
        self.assertEqual(self.chroot("dpkg-query", "-W", "-f=${Status}", "regfront").stdout, "install ok installed")
        # The unit's Documentation= pages, where man looks for them, rendered without a warning
        # (by the host's man: man-db in the root would cost its index build on every cache miss).
        for section, name in (("8", "regfrontd"), ("1", "regfront-cli")):
            page = os.path.join(root, f"usr/share/man/man{section}/{name}.{section}.gz")
            self.assertRegex(read(os.path.join(root, "lib/systemd/system/regfront.service")), rf"man:{name}\({section}\)")
            r = run(["man", "--warnings", "-l", page], env=dict(os.environ, MANWIDTH="100"))
            self.assertEqual(r.stderr, "", f"{name}({section}): {r.stderr}")
            text = re.sub(".\x08", "", r.stdout)  # no bold or underline overstrikes
            self.assertIn(f"{name} - ", text)
            if name == "regfrontd":
                self.assertIn("--dpdk-profile FILE", text)

    def test_5_check_config_on_the_shipped_files(self):
        for cfg in ("/etc/regfront/startup-config", "/etc/regfront/startup-config.example"):
            r = self.chroot("/usr/sbin/regfrontd", "--check-config", cfg, "--dpdk-profile", "/etc/regfront/dpdk.profile",
                            user="regfront:regfront", check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn(f"{cfg}: OK", r.stdout)
            self.assertIn("/etc/regfront/dpdk.profile: OK (EAL arguments: -l 1-2 --in-memory --file-prefix regfront -a 0000:03:00.0)", r.stdout)
        # and a bad line is FILE:LINE, exit 1
        with open(os.path.join(self._root(), "tmp/bad.cfg"), "w") as f:
            f.write("hostname x\nsip-ua\n registrar 9 ipv4:192.0.2.1 expires 60\n")
        r = self.chroot("/usr/sbin/regfrontd", "--check-config", "/tmp/bad.cfg", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/tmp/bad.cfg:3:", r.stderr)

    def test_6_starts_from_the_units_command_line(self):
        root = self._root()
        unit = read(os.path.join(root, "lib/systemd/system/regfront.service"))
        exec_start = re.search(r"(?m)^ExecStart=(.*)$", unit).group(1)
        check = re.search(r"(?m)^ExecStartPre=(.*)$", unit).group(1)
        # What systemd would do: RuntimeDirectory, /etc/default/regfront's REGFRONT_OPTS (here a
        # free loopback port: the host's 5060 may be in use), the unit's User and Group.
        os.makedirs(os.path.join(root, "run/regfront"), exist_ok=True)
        self.chroot("chown", "regfront:regfront", "/run/regfront")
        os.chmod(os.path.join(root, "run/regfront"), 0o750)
        port = free_udp_port()
        opts = f"--listen 127.0.0.1:{port}"
        argv = shlex.split(exec_start.replace("$REGFRONT_OPTS", opts))
        self.assertEqual(argv[0], "/usr/sbin/regfrontd")
        self.chroot(*shlex.split(check), user="regfront:regfront")
        os.makedirs(os.path.join(root, "proc"), exist_ok=True)
        numbers = [str(4085550100 + i) for i in range(20)]
        reg = kam.KamailioRegistrar("pkg", "pkg.test", [(f"u{n}", f"p{n}") for n in numbers],
                                    default_expires=600, children=2)
        reg.start()
        self.addCleanup(reg.stop)
        run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")])
        try:
            log = tempfile.TemporaryFile(mode="w+")  # read after it stops; never a pipe left unread
            self.addCleanup(log.close)
            # Under strace: every system call it makes, start to stop, is then checked against
            # the unit's SystemCallFilter (no systemd runs here to apply it).
            trace = os.path.join(tempfile.mkdtemp(prefix="regfront-strace-"), "trace")
            self.addCleanup(shutil.rmtree, os.path.dirname(trace), True)
            proc = subprocess.Popen(["strace", "-f", "-qq", "-o", trace, "chroot", "--userspec=regfront:regfront", root]
                                    + argv, stdout=log, stderr=subprocess.STDOUT, text=True)
            try:
                sock = os.path.join(root, "run/regfront/regfrontd.sock")
                wait_until(lambda: os.path.exists(sock) or proc.poll() is not None, 30, "the control socket")
                self.assertIsNone(proc.poll(), "regfrontd exited at start")
                pid = daemon_pid(trace)
                self.assertEqual(oct(os.stat(sock).st_mode & 0o777), "0o660")
                # An operator (the regfront group) finds the service's socket without -s; a user
                # outside the group is kept out by the directory and the socket's modes.
                show = self.chroot("regfront-cli", "-c", "enable", "-c", "show running-config",
                                   user="regfront:regfront").stdout
                self.assertIn("hostname regfront", show)
                self.assertNotIn("registrar", show)
                r = self.chroot("regfront-cli", "-c", "show clock", user="nobody:nogroup", check=False)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn("Permission denied", r.stderr)

                # systemctl reload: the edited startup-config (a real registrar, 20 numbers)
                # applied live; they register.
                # The unit's ExecReload= lines, in order, as its user: a file with an error
                # fails the reload before regfrontd is signalled, and nothing changes.
                path = os.path.join(root, "etc/regfront/startup-config")
                good = read(path)
                with open(path, "w") as f:
                    f.write(good + "sip-ua\n registrar 7 ipv4:192.0.2.1\n")
                r = self.reload(unit, pid)
                self.assertEqual(r.returncode, 1)
                self.assertIn("/etc/regfront/startup-config:", r.stderr)
                self.assertEqual(self.chroot("regfront-cli", "-c", "enable", "-c", "show running-config",
                                             user="regfront:regfront").stdout, show)
                with open(path, "w") as f:
                    f.write(startup_config(reg, numbers))
                self.assertEqual(self.reload(unit, pid).returncode, 0)
                wait_until(lambda: "hostname sbc-pkg-test" in self.chroot(
                    "regfront-cli", "-c", "enable", "-c", "show running-config",
                    user="regfront:regfront").stdout, 15, "the reloaded hostname")
                wait_until(lambda: all(reg.ul_dump().get(n) for n in numbers), 30,
                           "the reloaded startup-config's 20 bindings in Kamailio's location table")
                # write memory: the service user replaces the startup-config in /etc/regfront.
                self.chroot("regfront-cli", "-c", "enable", "-c", "configure terminal", "-c", "hostname sbc-saved",
                            "-c", "end", "-c", "write memory", user="regfront:regfront")
                self.assertIn("hostname sbc-saved", read(path))
                self.assertEqual(self.chroot("stat", "-c", "%U", "/etc/regfront/startup-config").stdout.strip(),
                                 "regfront")

                # systemctl stop: SIGTERM unregisters every binding and exits 0 within
                # TimeoutStopSec; Kamailio's table empties (the expiry is 600 s away).
                stop = int(re.search(r"(?m)^TimeoutStopSec=(\d+)$", unit).group(1))
                t0 = time.monotonic()
                os.kill(pid, signal.SIGTERM)
                proc.wait(timeout=stop)  # strace exits with its command's status
                self.timings["stop"] = time.monotonic() - t0
                log.seek(0)
                out = log.read()
                self.assertEqual(proc.returncode, 0, out)
                self.assertIn("stopped: 20 bindings unregistered", out)
                self.assertEqual({n: c for n, c in reg.ul_dump().items() if c}, {})
                used = syscalls_after_exec(trace)
                self.assertTrue(used & {"sendto", "sendmsg", "sendmmsg"}, f"no send in the trace: {sorted(used)}")
                denied = used - allowed_syscalls(unit)
                self.assertEqual(denied, set(), "system calls the unit's SystemCallFilter would refuse (EPERM)")
                self.check_sandbox(trace, unit)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        finally:
            run(["umount", os.path.join(root, "proc")])

    def reload(self, unit, pid):
        """systemctl reload: the unit's ExecReload= commands in order, as its user; the first
        that fails fails the reload (its result is returned)."""
        for line in re.findall(r"(?m)^ExecReload=(.*)$", unit):
            r = self.chroot(*shlex.split(line.replace("$MAINPID", str(pid))), user="regfront:regfront", check=False)
            if r.returncode != 0:
                return r
        return r

    def test_7_dpdk_drop_in(self):
        """The DPDK drop-in as docs/deploy.md installs it: regfrontd --io dpdk from the unit's
        command line and the drop-in's REGFRONT_OPTS, as the service user holding only the
        drop-in's ambient capabilities, on a net_null port (no NIC here; the profile at the
        drop-in's path says so), under the same strace checks with the drop-in's filter."""
        root = self._root()
        unit = read(os.path.join(root, "lib/systemd/system/regfront.service"))
        dropin = read(os.path.join(root, "usr/share/doc/regfront/examples/dpdk.conf"))
        merged = unit + "\n" + dropin
        opts = shlex.split(re.search(r'(?m)^Environment=REGFRONT_OPTS="(.*)"$', dropin).group(1))
        profile = opts[opts.index("--dpdk-profile") + 1]
        caps = re.search(r"(?m)^AmbientCapabilities=(.+)$", dropin).group(1).split()
        caps = ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
        with open(os.path.join(root, profile.lstrip("/")), "w") as f:
            f.write("! the package test: no NIC, a null port\n-l 0-1\n--no-huge\n--no-pci\n-m 256\n"
                    "--file-prefix regfront\n--no-telemetry\nvdev net_null0\n")
        with open(os.path.join(root, "etc/regfront/startup-config"), "w") as f:
            f.write("hostname dpdk-pkg-test\ninterface dpdk0\n ip address 192.0.2.1 255.255.255.0\n"
                    "voice service voip\n sip\n  bind control source-interface dpdk0\n"
                    f"  listen-port non-secure {free_udp_port()}\n")
        exec_start = re.search(r"(?m)^ExecStart=(.*)$", unit).group(1).replace("$REGFRONT_OPTS", shlex.join(opts))
        argv = shlex.split(exec_start)
        os.makedirs(os.path.join(root, "run/regfront"), exist_ok=True)
        self.chroot("chown", "regfront:regfront", "/run/regfront")
        run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")])
        self.addCleanup(run, ["umount", os.path.join(root, "proc")])
        run(["mount", "-t", "sysfs", "-o", "ro", "sysfs", os.path.join(root, "sys")])
        self.addCleanup(run, ["umount", os.path.join(root, "sys")])
        log = tempfile.TemporaryFile(mode="w+")
        self.addCleanup(log.close)
        trace = os.path.join(tempfile.mkdtemp(prefix="regfront-strace-"), "trace")
        self.addCleanup(shutil.rmtree, os.path.dirname(trace), True)
        setpriv = ["setpriv", "--reuid=regfront", "--regid=regfront", "--init-groups", f"--inh-caps=-all,{caps}",
                   f"--ambient-caps=-all,{caps}", f"--bounding-set=-all,{caps}", "--"]
        env = ["env"] + re.findall(r"(?m)^Environment=([A-Z_]+=[^\s\"]+)$", unit)  # XDG_RUNTIME_DIR
        proc = subprocess.Popen(["strace", "-f", "-qq", "-o", trace, "chroot", root] + env + setpriv + argv,
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            sock = os.path.join(root, "run/regfront/regfrontd.sock")
            wait_until(lambda: os.path.exists(sock) or proc.poll() is not None, 60, "the control socket")
            log.seek(0)
            self.assertIsNone(proc.poll(), f"regfrontd --io dpdk exited at start:\n{log.read()}")
            pid = daemon_pid(trace)
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
            self.assertRegex(status, r"CapEff:\s+0*[1-9a-f]")  # it holds the ambient capabilities
            show = self.chroot("regfront-cli", "-c", "show dataplane", user="regfront:regfront").stdout
            self.assertRegex(show, r"(?m)^dpdk0\s+net_null0\s+up")
            os.kill(pid, signal.SIGTERM)
            proc.wait(timeout=int(re.search(r"(?m)^TimeoutStopSec=(\d+)$", unit).group(1)))
            log.seek(0)
            self.assertEqual(proc.returncode, 0, log.read())
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        used = syscalls_after_exec(trace)
        # iopl: the EAL asks for I/O ports at start and goes on without them; the kernel refuses
        # it anyway without CAP_SYS_RAWIO, which the drop-in does not give.
        denied = used - allowed_syscalls(merged) - {"iopl"}
        self.assertEqual(denied, set(), "system calls the drop-in's SystemCallFilter would refuse (EPERM)")
        self.assertIn("sched_setaffinity", used)  # the lcores are pinned: the drop-in's @resources
        self.check_sandbox(trace, merged, saved=False)

    def check_sandbox(self, trace, unit, saved=True):
        """What else the unit forbids, from the same trace: socket families
        (RestrictAddressFamilies), memory both writable and executable (MemoryDenyWriteExecute),
        files opened for writing outside ReadWritePaths, RuntimeDirectory and PrivateTmp
        (ProtectSystem=strict)."""
        with open(trace, errors="replace") as f:
            text = f.read()
        text = text[re.search(r'(?m)^\d+\s+execve\("/usr/sbin/regfrontd".*= 0$', text).end():]
        families = set(re.findall(r"(?m)^\d+\s+socket\((AF_[A-Z0-9]+)", text))
        allowed = {f for line in re.findall(r"(?m)^RestrictAddressFamilies=(.*)$", unit) for f in line.split()}
        self.assertTrue(families, "no socket() in the trace")
        self.assertLessEqual(families, allowed)
        wx = re.findall(r"(?m)^\d+\s+(?:mmap|mprotect|pkey_mprotect)\(.*PROT_(?:WRITE\|PROT_EXEC|EXEC\|PROT_WRITE).*$",
                        text)
        self.assertEqual(wx, [])
        # Writable under ProtectSystem=strict: PrivateTmp's, the RuntimeDirectory, ReadWritePaths,
        # and what it leaves alone: a process's own /proc entries (thread names), /dev/null.
        writable = ["/tmp/", "/var/tmp/", "/dev/null", "/proc/self/", "/proc/thread-self/"]
        writable += ["/run/" + d + "/" for d in re.findall(r"(?m)^RuntimeDirectory=(.*)$", unit)]
        writable += [p.rstrip("/") + "/" for p in re.findall(r"(?m)^ReadWritePaths=(.*)$", unit)]
        opened = re.findall(r'(?m)^\d+\s+open(?:at)?\((?:AT_FDCWD, )?"([^"]+)", ([A-Z_|]+)', text)
        written = [(path, flags) for path, flags in opened if re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", flags)]
        if saved:
            self.assertTrue(any(p.startswith("/etc/regfront/startup-config.tmp.") for p, _ in written), written)
        for path, flags in written:
            self.assertTrue(any(path == w.rstrip("/") or path.startswith(w) for w in writable),
                            f"{path} opened for writing ({flags}) under ProtectSystem=strict")

    def test_9_removes_and_purges_cleanly(self):
        root = self._root()
        files = [p[1:] for p in re.findall(r"\s(\./\S+)\n", run(["dpkg-deb", "--contents", self.deb]).stdout)]
        self.chroot("dpkg", "--remove", "regfront")
        # Removed: the program and the unit are gone, the conffiles and the box's
        # startup-config stay until purge.
        self.assertFalse(os.path.exists(os.path.join(root, "usr/sbin/regfrontd")))
        self.assertFalse(os.path.exists(os.path.join(root, "lib/systemd/system/regfront.service")))
        self.assertTrue(os.path.exists(os.path.join(root, "etc/regfront/startup-config")))
        self.chroot("dpkg", "--purge", "regfront")
        left = [f for f in files if not f.endswith("/") and os.path.lexists(os.path.join(root, f.lstrip("/")))]
        self.assertEqual(left, [])
        for gone in ("etc/regfront", "etc/default/regfront", "usr/share/regfront", "usr/share/doc/regfront",
                     "etc/systemd/system/multi-user.target.wants/regfront.service"):
            self.assertFalse(os.path.lexists(os.path.join(root, gone)), gone)
        r = self.chroot("dpkg-query", "-W", "-f=${Status}", "regfront", check=False)
        self.assertNotIn("installed", r.stdout.replace("not-installed", ""))


def startup_config(reg, numbers):
    lines = ["hostname sbc-pkg-test", "sip-ua",
             f" registrar 1 ipv4:127.0.0.1:{reg.port} expires 600",
             " registration rate 100"]
    lines += [f" credentials number {n} username u{n} password 0 p{n} realm {reg.realm}" for n in numbers]
    return "\n".join(lines) + "\n"


def daemon_pid(trace):
    """The pid that exec'ed /usr/sbin/regfrontd, from strace's log."""
    def find():
        with open(trace, errors="replace") as f:
            m = re.search(r'(?m)^(\d+)\s+execve\("/usr/sbin/regfrontd".*= 0$', f.read())
        return int(m.group(1)) if m else None
    return wait_until(find, 10, "regfrontd's execve in the trace")


def syscalls_after_exec(trace):
    with open(trace, errors="replace") as f:
        text = f.read()
    start = re.search(r'(?m)^\d+\s+execve\("/usr/sbin/regfrontd".*= 0$', text).end()
    return set(re.findall(r"(?m)^\d+\s+([a-z0-9_]+)\(", text[start:]))


def syscall_set(name, seen=None):
    """The system calls of a systemd-analyze syscall-filter group, its @groups expanded."""
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    out = set()
    for line in run(["systemd-analyze", "syscall-filter", name]).stdout.splitlines()[1:]:
        w = line.strip()
        if not w or w.startswith("#"):
            continue
        out |= syscall_set(w, seen) if w.startswith("@") else {w}
    return out


def allowed_syscalls(unit):
    """What the unit's SystemCallFilter= lines let through: the first is an allow list, then
    each ~ line removes and each plain one adds (systemd.exec(5))."""
    allowed = None
    for value in re.findall(r"(?m)^SystemCallFilter=(.*)$", unit):
        deny = value.startswith("~")
        names = set()
        for w in value.lstrip("~").split():
            names |= syscall_set(w) if w.startswith("@") else {w}
        if allowed is None:
            allowed = set() if deny else names
        elif deny:
            allowed -= names
        else:
            allowed |= names
    return allowed


def free_udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cached_root(deb):
    """A Debian 12 minbase root with the package's dependencies installed, as a tarball under
    CACHE named by what it holds (so a changed dependency builds a new one)."""
    depends = deb_field(deb, "Depends") + "," + deb_field(deb, "Pre-Depends")
    names = sorted({alt.split("|")[0].split("(")[0].strip() for alt in depends.split(",") if alt.strip()}
                   | set(ROOT_EXTRAS))
    # The host's own mirrors (the root's packages match what the package was built against).
    mirrors = [p for p in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
               + sorted(glob.glob("/etc/apt/sources.list.d/*.sources")) if os.path.isfile(p) and os.path.getsize(p)]
    sources = "".join(read(p) for p in mirrors)
    key = hashlib.sha256((" ".join(names) + "\n" + sources).encode()).hexdigest()[:16]
    tarball = os.path.join(CACHE, f"{SUITE}-minbase-{key}.tar")
    if os.path.exists(tarball):
        return tarball
    os.makedirs(CACHE, exist_ok=True)
    for old in glob.glob(os.path.join(CACHE, f"{SUITE}-minbase-*.tar")):
        os.unlink(old)  # one root at a time: the previous dependencies' is of no use
    tmp = tarball + ".part"
    print(f"building the throw-away root {tarball} (once; {len(names)} packages)", file=sys.stderr)
    run(["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root", "--format=tar",
         "--include=" + ",".join(names), SUITE, tmp] + mirrors, timeout=1200)
    os.rename(tmp, tarball)
    return tarball


def main():
    global BUILD_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", required=True, help="the release build directory (regfrontd, regfront-cli)")
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    if os.geteuid() != 0:
        print("FAIL: the package test needs root (chroot, mount, chown)", file=sys.stderr)
        sys.exit(1)
    for tool in ("lintian", "mmdebstrap", "systemd-analyze", "dpkg-deb"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} not installed: run deploy/install-deps.sh", file=sys.stderr)
            sys.exit(1)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
