#!/usr/bin/env python3
"""regfront-cli in a real terminal (tmux): IOS modes and prompts, `?` help, TAB completion,
the '^' error marker, Ctrl-Z, history, `show running-config`, `exit`; and the same session
protocol without a terminal (-c in order, a script on standard input, exit statuses).

A real regfrontd serves the session; its one registrar points at a free UDP port where
nothing answers (nothing here needs a registrar).

  python3 tests/e2e/test_cli_tty.py --bin-dir BUILD/bin
"""

import argparse
import datetime
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

BIN_DIR = ""
WAIT_S = 10.0  # bound of every wait for the terminal or the daemon


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """regfrontd on a private control socket and a tiny startup-config."""

    def __init__(self, work, dial_peers=0, wait_s=WAIT_S):
        self.registrar_port = free_udp_port()
        self.registrar_line = f"registrar 1 ipv4:127.0.0.1:{self.registrar_port} expires 60"
        self.config = os.path.join(work, "startup.cfg")
        with open(self.config, "w") as f:
            f.write(f"sip-ua\n {self.registrar_line}\n")
            f.write("".join(f"dial-peer voice {i} voip\n" for i in range(1, dial_peers + 1)))
        self.sock = os.path.join(work, "control.sock")
        self.log_path = os.path.join(work, "regfrontd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(BIN_DIR, "regfrontd"), "--config", self.config, "--listen",
             f"127.0.0.1:{free_udp_port()}", "--control-socket", self.sock],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"regfrontd exited with {self.proc.returncode}: {self.log_text()}")
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.sock)
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"regfrontd's control socket did not appear: {self.log_text()}")

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Terminal:
    """One tmux server of our own with regfront-cli in its only pane."""

    def __init__(self, work, argv):
        self.base = ["tmux", "-S", os.path.join(work, "tmux.sock"), "-f", "/dev/null"]
        env = dict(os.environ, HOME=work)
        env.pop("TMUX", None)
        self.env = env
        shell_cmd = " ".join(_quote(a) for a in argv) + '; echo "[cli exited $?]"; sleep 600'
        self.tmux("new-session", "-d", "-s", "cli", "-x", "160", "-y", "50", shell_cmd)

    def tmux(self, *args):
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=WAIT_S,
                              env=self.env, check=True).stdout

    def keys(self, *keys):
        """tmux key names: "Enter", "Tab", "C-z", "Up"…"""
        self.tmux("send-keys", "-t", "cli", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "cli", "-l", text)

    def lines(self):
        """Every line written so far (scroll-back included), trailing blank lines dropped."""
        out = self.tmux("capture-pane", "-p", "-t", "cli", "-S", "-").split("\n")
        while out and not out[-1].strip():
            out.pop()
        return [line.rstrip() for line in out]

    def wait(self, predicate, what):
        deadline = time.monotonic() + WAIT_S
        while True:
            lines = self.lines()
            if predicate(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n" + "\n".join(lines))
            time.sleep(0.05)

    def wait_last(self, text):
        """Waits until the cursor line reads `text` (prompt and input; trailing spaces are not
        seen on the screen)."""
        return self.wait(lambda ls: ls and ls[-1] == text.rstrip(), repr(text))

    def client_pid(self):
        """regfront-cli's pid: the child of the pane's shell."""
        shell = self.tmux("display-message", "-p", "-t", "cli", "#{pane_pid}").strip()
        with open(f"/proc/{shell}/task/{shell}/children") as f:
            for pid in f.read().split():
                with open(f"/proc/{pid}/comm") as c:
                    if c.read().strip() == "regfront-cli":
                        return int(pid)
        raise AssertionError("regfront-cli is not running in the pane")

    def close(self):
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=WAIT_S, env=self.env)


def _quote(arg):
    return "'" + arg.replace("'", "'\\''") + "'"


class CliOnATerminal(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="regfront-cli-tty-")
        self.daemon = Daemon(self.work)
        self.term = Terminal(self.work, [os.path.join(BIN_DIR, "regfront-cli"), "--socket", self.daemon.sock])

    def tearDown(self):
        self.term.close()
        self.daemon.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def test_modes_help_completion_errors(self):
        t = self.term
        t.wait_last("Router>")
        t.type("enable"), t.keys("Enter")
        t.wait_last("Router#")
        t.type("conf t"), t.keys("Enter")
        t.wait_last("Router(config)#")
        t.type("sip-ua"), t.keys("Enter")
        sip_ua = "Router(config-sip-ua)#"
        t.wait_last(sip_ua)

        # `?` on an empty line: every command of the mode below the input, the prompt again,
        # the input unchanged and no '?' inserted.
        t.type("?")
        lines = t.wait(lambda ls: ls[-1] == sip_ua and ls.count(sip_ua + "?") == 1, "help listing")
        listing = lines[lines.index(sip_ua + "?") + 1:-1]
        words = [line.split()[0] for line in listing if line.strip()]
        for w in ("registrar", "credentials", "authentication", "exit", "end"):
            self.assertIn(w, words, listing)

        # `?` inside a word: what that word abbreviates; the input stays "reg".
        t.type("reg")
        t.wait_last(sip_ua + "reg")
        t.type("?")
        lines = t.wait(lambda ls: ls[-1] == sip_ua + "reg" and (sip_ua + "reg?") in ls, "help for 'reg'")
        listing = lines[lines.index(sip_ua + "reg?") + 1:-1]
        self.assertEqual(listing, ["registrar  registration"])  # IOS: the words on one line

        # TAB: "reg" is ambiguous (registrar, registration) and stays; "regist" too; a unique
        # abbreviation is completed with a space, word after word.
        t.keys("Tab")
        time.sleep(0.3)
        self.assertEqual(t.lines()[-1], sip_ua + "reg")
        t.type("istrar ?")
        lines = t.wait(lambda ls: ls[-1] == sip_ua + "registrar" and (sip_ua + "registrar ?") in ls,
                       "help after 'registrar '")
        self.assertTrue(any("<1-6>" in line for line in lines[lines.index(sip_ua + "registrar ?"):]), lines)
        t.keys("C-c")  # drops the line
        t.wait_last(sip_ua)
        t.type("cred"), t.keys("Tab")
        t.wait_last(sip_ua + "credentials ")
        t.type("num"), t.keys("Tab")
        t.wait_last(sip_ua + "credentials number ")
        t.keys("C-c")
        t.wait_last(sip_ua)

        # An invalid word: the '^' under it, on the terminal's columns, and IOS's message.
        bad = "registrar 1 ipv4:127.0.0.1:5060 expires 60 bogus"
        t.type(bad), t.keys("Enter")
        message = "% Invalid input detected at '^' marker."
        lines = t.wait(lambda ls: ls[-1] == sip_ua and message in ls, "the invalid-input error")
        at = len(lines) - 1 - lines[::-1].index(message)
        self.assertEqual(lines[at - 2], sip_ua + bad)
        self.assertEqual(lines[at - 1], " " * (len(sip_ua) + bad.index("bogus")) + "^")

        # Ctrl-Z: `end`, back to privileged exec.
        t.type("regis")
        t.wait_last(sip_ua + "regis")
        t.keys("C-z")
        t.wait_last("Router#")
        self.assertIn(sip_ua + "regis^Z", t.lines())

        t.type("show running-config"), t.keys("Enter")
        lines = t.wait(lambda ls: ls[-1] == "Router#" and ("Router#show running-config" in ls),
                       "show running-config")
        shown = lines[lines.index("Router#show running-config") + 1:-1]
        self.assertIn("sip-ua", shown)
        self.assertIn(" " + self.daemon.registrar_line, shown)
        self.assertIn("end", shown)

        # History: Up brings the last line back.
        t.keys("Up")
        t.wait_last("Router#show running-config")
        t.keys("C-c")
        t.wait_last("Router#")

        t.type("exit"), t.keys("Enter")
        t.wait(lambda ls: ls[-1] == "[cli exited 0]", "regfront-cli to exit")

    def test_partial_word_help_and_configure_question(self):
        t = self.term
        t.wait_last("Router>")
        t.type("enable"), t.keys("Enter")
        t.wait_last("Router#")
        # `?` right after a partial word: the keywords it may be, on one line, as IOS.
        t.type("sh?")
        lines = t.wait(lambda ls: ls[-1] == "Router#sh" and "Router#sh?" in ls, "help for 'sh'")
        self.assertEqual(lines[lines.index("Router#sh?") + 1:-1], ["show"])
        t.type("ow sip-ua st?")
        lines = t.wait(lambda ls: ls[-1] == "Router#show sip-ua st" and "Router#show sip-ua st?" in ls, "st?")
        self.assertEqual(lines[lines.index("Router#show sip-ua st?") + 1:-1], ["statistics  status"])
        t.keys("C-c")
        t.wait_last("Router#")
        # After a space: the next words, one a line with their help.
        t.type("show sip-ua ?")
        lines = t.wait(lambda ls: ls[-1] == "Router#show sip-ua" and "Router#show sip-ua ?" in ls, "show sip-ua ?")
        listing = lines[lines.index("Router#show sip-ua ?") + 1:-1]
        self.assertIn("timers", [line.split()[0] for line in listing])
        self.assertTrue(all(len(line.split()) > 1 for line in listing), listing)
        t.keys("C-c")
        t.wait_last("Router#")

        # `configure` alone asks where from; Enter is the terminal.
        question = "Configuring from terminal, memory, or network [terminal]?"
        t.type("configure"), t.keys("Enter")
        t.wait_last(question)
        t.keys("Enter")
        t.wait_last("Router(config)#")
        t.type("end"), t.keys("Enter")
        t.wait_last("Router#")
        t.type("conf"), t.keys("Enter")
        t.wait_last(question)
        t.type("memory"), t.keys("Enter")  # not regfront's: refused, still privileged exec
        lines = t.wait_last("Router#")
        self.assertIn("% Only configuration from the terminal is supported", "\n".join(lines))
        t.type("configure"), t.keys("Enter")
        t.wait_last(question)
        t.type("term"), t.keys("Enter")
        t.wait_last("Router(config)#")
        t.type("end"), t.keys("Enter")
        t.wait_last("Router#")
        t.type("exit"), t.keys("Enter")
        t.wait(lambda ls: ls[-1] == "[cli exited 0]", "regfront-cli to exit")

    def test_ctrl_d_on_empty_line_leaves(self):
        t = self.term
        t.wait_last("Router>")
        t.keys("C-d")
        t.wait(lambda ls: ls[-1] == "[cli exited 0]", "regfront-cli to exit on Ctrl-D")


MORE = " --More--"


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


class MorePager(unittest.TestCase):
    """--More-- as IOS: terminal length (default 24) rows a screen, space a page, Enter a line,
    q stops; terminal length 0 never pauses; a long show is not kept whole by the client."""

    DIAL_PEERS = 150000  # show running-config: 300,000 lines, 4.5 MB

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="regfront-cli-more-")
        cls.daemon = Daemon(cls.work, dial_peers=cls.DIAL_PEERS, wait_s=120)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        # A tmux server of each test's own (the last one's may still be going away).
        self.term = Terminal(tempfile.mkdtemp(dir=self.work),
                             [os.path.join(BIN_DIR, "regfront-cli"), "--socket", self.daemon.sock])

    def tearDown(self):
        self.term.close()

    def shown_after(self, lines, command):
        at = len(lines) - 1 - lines[::-1].index(command)
        return lines[at + 1:]

    def test_space_enter_q_and_length_zero(self):
        t = self.term
        t.wait_last("Router>")
        t.type("enable"), t.keys("Enter")
        t.wait_last("Router#")
        t.type("show running-config"), t.keys("Enter")
        lines = t.wait(lambda ls: ls[-1] == MORE, "the first --More--")
        page = self.shown_after(lines, "Router#show running-config")[:-1]
        self.assertEqual(len(page), 23, page)  # terminal length 24: 23 rows, then --More--
        t.keys("Enter")  # one line more
        lines = t.wait(lambda ls: ls[-1] == MORE and len(self.shown_after(ls, "Router#show running-config")) == 25,
                       "one more line")
        t.keys("Space")  # a page more
        lines = t.wait(lambda ls: ls[-1] == MORE and len(self.shown_after(ls, "Router#show running-config")) == 48,
                       "one more page")
        shown = self.shown_after(lines, "Router#show running-config")[:-1]
        self.assertEqual(shown[:3], ["Building configuration...", "", shown[2]])
        self.assertEqual(shown[6:8], ["dial-peer voice 1 voip", "!"])
        t.keys("q")  # stops: the prompt where --More-- was, nothing more shown
        lines = t.wait_last("Router#")
        self.assertEqual(len(self.shown_after(lines, "Router#show running-config")), 48)
        self.assertNotIn(MORE, lines)

        # The session's settings, IOS's words.
        t.type("show terminal"), t.keys("Enter")
        lines = t.wait(lambda ls: ls[-1] == "Router#" and "Length: 24 lines, Width: 80 columns" in ls, "show terminal")
        t.type("terminal length 5"), t.keys("Enter")
        t.wait_last("Router#")
        t.type("show running-config"), t.keys("Enter")
        lines = t.wait(lambda ls: ls[-1] == MORE, "--More-- after 4 rows")
        self.assertEqual(len(self.shown_after(lines, "Router#show running-config")), 5)
        t.keys("C-c")  # stops too
        t.wait_last("Router#")
        t.type("terminal length 0"), t.keys("Enter")
        t.wait_last("Router#")
        t.type("show running-config | include voice 1234[0-9] voip"), t.keys("Enter")
        lines = t.wait(lambda ls: ls[-1] == "Router#" and "dial-peer voice 12349 voip" in ls, "no pause")
        shown = self.shown_after(lines, "Router#show running-config | include voice 1234[0-9] voip")[:-1]
        self.assertEqual(shown, [f"dial-peer voice {i} voip" for i in range(12340, 12350)])
        self.assertNotIn(MORE, lines)
        t.type("exit"), t.keys("Enter")
        t.wait(lambda ls: ls[-1] == "[cli exited 0]", "regfront-cli to exit")

    def test_a_long_show_is_not_kept_whole(self):
        # The whole running-config is read from the socket (the rest dropped after q), and the
        # client's peak memory does not grow by anything like its size.
        t = self.term
        t.wait_last("Router>")
        t.type("enable"), t.keys("Enter")
        t.wait_last("Router#")
        t.type("show running-config"), t.keys("Enter")
        t.wait(lambda ls: ls[-1] == MORE, "the first --More--")
        pid = t.client_pid()
        before = vm_hwm_kb(pid)
        t.keys("q")
        t.wait_last("Router#")
        t.type("show clock"), t.keys("Enter")  # the session goes on: the reply was read to its end
        t.wait(lambda ls: ls[-1] == "Router#" and any(" UTC " in line for line in ls), "show clock")
        size = len(subprocess.run([os.path.join(BIN_DIR, "regfront-cli"), "--socket", self.daemon.sock,
                                   "-c", "enable", "-c", "show running-config"],
                                  capture_output=True, timeout=120, check=True).stdout)
        self.assertGreater(size, 4_000_000)
        grown_kb = vm_hwm_kb(pid) - before
        print(f"\n[ more ] running-config {size} bytes; client peak grew {grown_kb} kB through it", file=sys.stderr)
        self.assertLess(grown_kb * 1024, size // 8)


class CliWithoutATerminal(unittest.TestCase):
    """-c and standard input: one session, in order, exit status 1 when a command is refused."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="regfront-cli-batch-")
        cls.daemon = Daemon(cls.work)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def cli(self, *commands, stdin=""):
        argv = [os.path.join(BIN_DIR, "regfront-cli"), "--socket", self.daemon.sock]
        for c in commands:
            argv += ["-c", c]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=WAIT_S * 3)

    def test_commands_run_in_order_in_one_session(self):
        r = self.cli("enable", "conf t", "sip-ua", "do show running-config | include registrar")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), self.daemon.registrar_line)
        self.assertEqual(r.stderr, "")

    def test_refused_command_goes_to_stderr_and_fails(self):
        r = self.cli("enable", "conf t", "sip-ua", "registrar bogus", "do show running-config | include sip-ua")
        self.assertEqual(r.returncode, 1)
        self.assertIn("registrar bogus\n          ^\n% Invalid input detected at '^' marker.", r.stderr)
        self.assertEqual(r.stdout.strip(), "sip-ua")  # later commands still ran

    def test_script_on_stdin_stops_when_the_session_ends(self):
        r = self.cli(stdin="enable\n\nconf t\nsip-ua\nend\nshow running-config | include registrar\n"
                           "exit\nshow running-config\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), self.daemon.registrar_line)

    def test_terminal_length_in_a_script_never_pages(self):
        r = self.cli("terminal length 0", "show terminal", "enable", "show running-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Length: 0 lines, Width: 80 columns\n", r.stdout)
        self.assertNotIn("--More--", r.stdout)
        # Without a terminal the default length does not page either.
        r = self.cli("show terminal", "show version", "show users", "show history")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Length: 24 lines", r.stdout)
        self.assertIn("Router uptime is ", r.stdout)
        self.assertRegex(r.stdout, r"\n\*\s+\d+ vty \d+ ")
        self.assertTrue(r.stdout.endswith("  show terminal\n  show version\n  show users\n  show history\n"), r.stdout)
        self.assertNotIn("--More--", r.stdout)

    def text_and_json(self, *commands):
        """Runs `commands` in one session, the last one twice, as text then `| json`: the text
        and the parsed document (the JSON is one line, the output's last)."""
        r = self.cli(*commands, commands[-1] + " | json")
        self.assertEqual(r.returncode, 0, r.stderr)
        text, _, last = r.stdout.rstrip("\n").rpartition("\n")
        return text + "\n", json.loads(last)

    def test_session_shows_json_has_the_facts_of_the_text(self):
        text, j = self.text_and_json("terminal length 30", "terminal width 100", "show terminal")
        self.assertIn(f"Length: {j['length']} lines, Width: {j['width']} columns\n", text)
        self.assertEqual((j["length"], j["width"], j["history_size"], j["monitor"]), (30, 100, 10, False))
        self.assertIn(f"history size is {j['history_size']}.", text)
        self.assertIn("Capabilities: none", text)
        text, j = self.text_and_json("enable", "terminal monitor", "show terminal")
        self.assertTrue(j["monitor"])
        self.assertIn("Capabilities: Receives Logging Output", text)

        text, j = self.text_and_json("show version")
        self.assertIn(f"regfront Software, Version {j['version']}\n", text)
        self.assertIn(f"Compiled by {j['build']}\n", text)
        self.assertRegex(text, re.escape(j["hostname"]) + r" uptime is .*minutes?\n")
        self.assertIn(f'System image file is "{j["image"]}"', text)
        self.assertTrue(j["image"].endswith("/regfrontd"), j)
        self.assertIn(f"{j['system']}\n", text)
        self.assertIn(f"{j['workers']} worker{'' if j['workers'] == 1 else 's'}, I/O {j['io']}\n", text)
        self.assertEqual(j["io"], "kernel sockets")
        self.assertEqual(j["config_file"], self.daemon.config)
        self.assertIn(f'Configuration file is "{j["config_file"]}"', text)
        self.assertIsInstance(j["uptime_seconds"], int)

        text, j = self.text_and_json("enable", "show users")
        mine = [u for u in j["users"] if u["self"]]
        self.assertEqual(len(mine), 1, j)
        row = [line for line in text.splitlines() if line.startswith("*")]
        self.assertEqual(len(row), 1, text)
        for field in (mine[0]["name"], mine[0]["user"], mine[0]["location"], mine[0]["mode"]):
            self.assertIn(field, row[0])
        self.assertEqual(mine[0]["mode"], "privileged exec")
        self.assertEqual(mine[0]["location"], f"pid {mine[0]['location'].split()[-1]}")

        text, j = self.text_and_json("show clock")
        clock = datetime.datetime.fromtimestamp(j["unix_ms"] / 1000, datetime.timezone.utc)
        self.assertEqual(j["utc"][:19], clock.strftime("%Y-%m-%dT%H:%M:%S"))
        self.assertIn(f" UTC {clock.strftime('%a %b')} {clock.day} {clock.year}", text)
        self.assertEqual(text.startswith("*"), not j["synchronized"], text)

        text, j = self.text_and_json("terminal length 0", "show terminal", "show history")
        self.assertEqual(j["history"], ["terminal length 0", "show terminal", "show history", "show history | json"])
        self.assertTrue(text.endswith("".join(f"  {c}\n" for c in j["history"][:-1])), text)

        text, j = self.text_and_json("show sip-ua timers")
        self.assertIn(f"register {j['register_ms']}\n", text)
        self.assertIn(f"registration rate {j['registration_rate']} REGISTERs per second\n", text)
        self.assertEqual(j["options_keepalive"], [])
        text, j = self.text_and_json("show sip-ua retry")
        self.assertIn(f"register retry count = {j['register']}\n", text)

        text, j = self.text_and_json("enable", "debug ccsip events number 5550100", "show debugging")
        self.assertEqual(j["ccsip"], {"messages": False, "events": True, "numbers": ["5550100"], "registrar": 0})
        self.assertIn("SIP Call events tracing is enabled  (filter is ON: number 5550100)", text)
        self.assertIn(f"Trace: {j['trace']['records']} records, {j['trace']['lost']} lost", text)
        self.assertIn(f"{j['monitor_dropped']} not queued to sessions reading too slowly", text)

        text, j = self.text_and_json("show logging")
        _, _, buffered = text.partition(f"Log Buffer ({j['buffer_bytes']} bytes):\n\n")
        self.assertEqual(buffered.splitlines(), j["lines"])
        self.assertTrue(any("%SYS-5-RESTART" in line for line in j["lines"]), j)
        self.assertIn(f"{j['overruns']} overruns", text)
        self.assertIn(f"Buffer logging:  level {j['buffer_level']}, {j['logged']} messages logged", text)
        self.assertIn(f"Monitor logging: level {j['monitor_level']}, {j['monitor_logged']} messages logged", text)

    def test_unreachable_daemon(self):
        r = subprocess.run([os.path.join(BIN_DIR, "regfront-cli"), "--socket",
                            os.path.join(self.work, "nothing.sock"), "-c", "show running-config"],
                           capture_output=True, text=True, timeout=WAIT_S)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not reachable", r.stderr)


def main():
    global BIN_DIR
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args, rest = ap.parse_known_args()
    BIN_DIR = os.path.abspath(args.bin_dir)
    if shutil.which("tmux") is None:
        print("tmux is not installed (deploy/install-deps installs it)", file=sys.stderr)
        return 1
    prog = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
