// regfront/config/commands.h — the IOS command grammar and its action functions.
//
// One grammar for the startup-config loader and for the operator CLI: both feed lines to an
// `Interpreter`, which walks the command tree of the current mode (unique-prefix abbreviations,
// `no` forms), checks the restrictions R1–R7 of docs/rules.md and calls one action function per
// operation. A refused command changes nothing; its Result carries a regfront::Status with a
// plain reason, and format_error() renders it as IOS prints it (the `%` line, the '^' marker).
//
//   regfront::config::Config cfg;
//   regfront::config::Interpreter in(cfg);
//   regfront::config::Session s;             // starts in privileged exec for a loader
//   auto r = in.execute("sip-ua", s);         // error: not in configuration mode
//   if (!r.ok()) show(format_error("sip-ua", r));   // "sip-ua\n^\n% Invalid input detected…"
//   in.execute("configure terminal", s);
//   r = in.execute("registrar 1 dns:example1.com expires 180", s);  // from sip-ua mode
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/common/status.h"
#include "regfront/config/model.h"

namespace regfront::config {

enum class Mode : unsigned char {
  user_exec,        // Router>
  privileged_exec,  // Router#
  global_config,    // Router(config)#
  sip_ua,           // Router(config-sip-ua)#
  dial_peer,        // Router(config-dial-peer)#  (pots and voip: one prompt, as IOS; the
                    //   commands are those of the dial peer's type)
  interface,        // Router(config-if)#, Router(config-subif)# for dpdkN.V
  voice_service,    // Router(conf-voi-serv)#   (voice service voip)
  voice_sip,        // Router(conf-serv-sip)#   (voice service voip → sip)
  voice_trusted,    // Router(cfg-iptrust-list)# (voice service voip → ip address trusted list)
  keepalive,        // Router(config-class)#    (voice class sip-options-keepalive TAG)
};

// Where a sequence of commands stands: the mode, and the dial peer being edited.
struct Session {
  Mode mode = Mode::privileged_exec;
  std::uint32_t dial_peer_tag = 0;
  // The type of that dial peer, which picks the commands of Mode::dial_peer (set on entering it;
  // the actions check the dial peer itself, should another session have replaced it).
  DialPeerType dial_peer_type = DialPeerType::pots;
  // A startup-config is applied in configuration mode: `enable`, `configure terminal` are
  // accepted as no-ops and `exit`/`end` at global configuration level stay there.
  bool loading_file = false;
  // The interface being edited in Mode::interface (canonical name: "dpdk0", "dpdk0.100").
  std::string interface;
  // The profile being edited in Mode::keepalive.
  std::uint32_t keepalive_tag = 0;

  // Operator terminal settings (exec `terminal length|width|history size`, IOS's vty defaults);
  // regfront-cli pages by them on a terminal (`--More--`). Length 0: no paging.
  std::uint16_t terminal_length = 24;
  std::uint16_t terminal_width = 80;
  std::uint16_t history_size = 10;
  // This session's last commands, oldest first, at most history_size (show history); kept by
  // Interpreter::execute() for sessions that are not loading a file, passwords masked.
  std::vector<std::string> history;
  // `terminal monitor`: the daemon's log lines (the logging buffer's `%FAC-SEV-MNEMONIC` events)
  // are streamed to this session as they are logged. Off by default, as on an IOS vty.
  bool monitor = false;
  // The control session's line number (show users), set by the daemon on accept.
  std::uint32_t line = 0;
  // Who this session is, for the log ("vty3 (uid 1000)"; IOS: "vty0 (10.0.0.1)"): the daemon
  // names its control sessions; empty for a file.
  std::string origin;
  // debug ccsip messages | events of this session: the daemon streams to it what the workers
  // trace for these numbers (none: every number) and registrar (0: every one).
  struct Debug {
    static constexpr std::size_t kMaxNumbers = 8;
    static constexpr std::size_t kMaxNumberLength = 31;
    bool messages = false;
    bool events = false;
    std::uint8_t registrar = 0;
    std::vector<std::string> numbers;
    bool on() const { return messages || events; }
    bool operator==(const Debug&) const = default;
  };
  Debug debug;
};

// The prompt of a mode, e.g. "Router(config-sip-ua)#".
std::string prompt(const Config& cfg, const Session& s);

// How the grammar refused a line. The IOS wording (format_error()) depends on it: only
// invalid input has a '^' marker. `none` when the words parsed, whatever the action then did.
enum class SyntaxError : unsigned char {
  none,
  invalid_input,   // "% Invalid input detected at '^' marker."
  incomplete,      // "% Incomplete command."
  ambiguous,       // "% Ambiguous command:  \"…\""
};

// The outcome of a line in one word, for callers and tests that branch on it.
enum class ResultCode : unsigned char {
  ok,
  invalid_input,   // SyntaxError::invalid_input
  incomplete,      // SyntaxError::incomplete
  ambiguous,       // SyntaxError::ambiguous
  rejected,        // the words parsed; a restriction (R1–R7) or a semantic check refused them
};

// What one line did. A failure is a Status (plain text, no `%`: format_error() adds the IOS
// decoration) and, for a line the grammar refused, how it was refused and where.
//
//   Result r = in.execute(line, s);
//   if (!r.ok()) reply(format_error(line, r));       // "% Incomplete command."
//   else if (r.changed) publish();
struct Result {
  // OK, or why the line was refused: invalid_argument for the grammar's refusals, the code
  // that fits for an action's (failed_precondition for a restriction, out_of_range, …).
  Status status;
  // How the grammar refused it; none for an accepted line or one refused by its action.
  SyntaxError syntax = SyntaxError::none;
  // For SyntaxError::invalid_input: offset in the line of the offending word (where '^' goes).
  std::size_t marker = 0;
  // Output of the command (show commands), empty for configuration commands.
  std::string output;
  // True when the command modified the Config (the daemon then publishes a new snapshot).
  // A command that leaves the Config as it was (a `no` form of something absent, setting a
  // value it already has) reports false.
  bool changed = false;
  // True when the session is over: `exit`/`logout` from user or privileged exec. The daemon
  // closes the connection after sending `output`.
  bool end_session = false;

  bool ok() const { return status.ok(); }
  // ok, the syntax error, or rejected.
  ResultCode code() const {
    if (ok()) return ResultCode::ok;
    switch (syntax) {
      case SyntaxError::invalid_input: return ResultCode::invalid_input;
      case SyntaxError::incomplete: return ResultCode::incomplete;
      case SyntaxError::ambiguous: return ResultCode::ambiguous;
      case SyntaxError::none: break;
    }
    return ResultCode::rejected;
  }

  // The grammar's refusals, with IOS's wording (without the `%`).
  // The word at `marker` is not accepted there.
  static Result invalid_input(std::size_t marker);
  // The line stops before a command ends.
  static Result incomplete();
  // A word abbreviates several keywords; `line` is quoted in the message, so it must not hold
  // a password (redact_passwords()).
  static Result ambiguous(std::string_view line);
  // The words parsed; the action refused them for `why` (an OK `why` becomes internal, as in
  // StatusOr). Nothing changed.
  static Result rejected(Status why);
};

// Exec commands (user exec `>`: show, enable, exit/logout; privileged exec `#`: also write,
// copy, configure terminal, disable; `do <privileged exec command>` from every configuration
// mode, which runs it without leaving the mode):
//   show sip-ua register status [registrar N] [NUMBER] | show sip-ua register registrars
//   show sip-ua status registrar | show sip-ua statistics
//   show sip-ua calls | show dataplane | show startup-config   -> ExecHooks::show()
//   show control
//   show running-config                         -> render_running_config(), no hook
//   show dial-peer voice summary                -> render_dial_peer_summary(), no hook
//   … | json                                    -> ExecHooks::show(…, json = true) (the dial
//                                                  peer summary: its own JSON); not offered
//                                                  for running-config and startup-config
//   … | include REGEX, … | exclude REGEX         -> keeps (drops) the output lines that match
//                                                  REGEX (std::regex ECMAScript, searched
//                                                  anywhere in the line; the rest of the line,
//                                                  spaces included, is the REGEX)
//   … | begin REGEX, … | section REGEX, … | count REGEX   -> from the first match; matching
//                                                  lines with the lines indented under them;
//                                                  the number of matching lines
//   write [memory] | copy running-config startup-config   -> ExecHooks::write_memory()
//   clear sip-ua statistics | clear logging     -> ExecHooks::clear()
//   show logging                                -> ExecHooks::show(Show::logging)
//   show version | show users                   -> ExecHooks::info()
//   show clock | show terminal | show history | show sip-ua timers | show sip-ua retry
//                                               -> the session and the Config, no hook
//   show debugging                              -> the session's debug filter, then
//                                                  ExecHooks::show(Show::debugging)
//   (every show above also takes `| json`; only running-config and startup-config do not)
//   terminal length|width <0-512>, terminal history size <0-256>, terminal no …
//                                               -> the Session's terminal settings
//   terminal monitor | terminal no monitor      -> Session::monitor
//   clear sip-ua registration [registrar N] [number NUMBER]   -> ExecHooks::reregister()
// Without hooks, the commands that need them are refused ("% Command not available").
// `exit`/`logout` in an exec mode set Result::end_session. Ctrl-Z is `end`.
//
// Exec-level operations whose data lives outside the configuration model: the daemon
// implements them; the grammar's exec commands (`show …`, `write memory`,
// `copy running-config startup-config`, and `do …` in configuration modes) call them.
class ExecHooks {
 public:
  enum class Show : unsigned char {
    register_status,   // show sip-ua register status
    registrar_status,  // show sip-ua status registrar: endpoints registered to us (IOS; none)
    statistics,        // show sip-ua statistics
    calls,             // show sip-ua calls
    dataplane,         // show dataplane
    startup_config,    // show startup-config
    control,           // show control: control-socket sessions, SIGHUP reloads
    logging,           // show logging: the logging buffer (IOS's header, then the lines)
    debugging,         // show debugging: regfront's trace counters, after the session's lines
    registrars,        // show sip-ua register registrars: each registrar regfront registers with
  };
  virtual ~ExecHooks() = default;
  // Text of a show command, or its JSON document when `json`; false and the reason in `out`
  // on failure. The reason becomes the command's Status message: a leading "% " and trailing
  // newlines are dropped, format_error() puts the "% " back.
  virtual bool show(Show what, bool json, std::string& out) = 0;
  // Persists `cfg` as the startup-config (write memory / copy running-config startup-config);
  // `message` is what IOS prints after "Building configuration..." ("[OK]"), or the reason it
  // failed (handled as show()'s).
  virtual bool write_memory(const Config& cfg, std::string& message) = 0;
  // clear sip-ua statistics: the counters shown from now on start at zero (the daemon keeps
  // the values at the clear and subtracts them; the workers' counters are never written).
  // clear logging: the logging buffer's lines go (its counters stay).
  enum class Clear : unsigned char { statistics, logging };
  virtual bool clear(Clear /*what*/, std::string& message) {
    message = "Command not available";
    return false;
  }
  // show version / show users: the daemon's own state (build, uptime; control sessions, the
  // asking one `self`), rendered; false and the reason in `out` as show()'s.
  // With `json`, the documents of docs/show-json.md.
  enum class Info : unsigned char { version, users };
  virtual bool info(Info /*what*/, const Session& /*self*/, bool /*json*/, std::string& out) {
    out = "Command not available";
    return false;
  }
  // show sip-ua register status [registrar N] [NUMBER]: only the rows of registrar N (0: all)
  // and of NUMBER ("": all); as show(Show::register_status, …) otherwise.
  virtual bool show_register_status(int registrar, std::string_view number, bool json, std::string& out) {
    if (registrar == 0 && number.empty()) return show(Show::register_status, json, out);
    out = "Command not available";
    return false;
  }
  // clear sip-ua registration [registrar N] [number NUMBER]: the matching bindings (registrar 0:
  // every registrar; number "": every number) that are registered or backing off send a
  // REGISTER now, through each registrar's rate; `message` then says how many were queued
  // (printed as the command's output). False and the reason in `message` when the registrar or
  // number is not configured (nothing is sent then).
  virtual bool reregister(int /*registrar*/, std::string_view /*number*/, std::string& message) {
    message = "Command not available";
    return false;
  }
};

// Passwords and error text. No Result::status message ever contains a password. format_error()
// echoes the line the operator typed above the '^' marker, as IOS does on a terminal, so the
// daemon returns it only to that operator; anything that goes to a log (LoadError::text and
// format()) is passed through redact_passwords() first.
//
// `line` with every password replaced by "*****": the word after any abbreviation of the
// keyword `password`, skipping a type (`0`, `7`, or any other single digit: `password 9 HASH`). When `column` is given, it is an offset into
// `line` and is moved to the same word of the result.
std::string redact_passwords(std::string_view line, long* column = nullptr);

// The refusal in `r` as IOS prints it, `line` being what the operator typed. This and
// LoadError::format() are where the `%` of IOS messages is added. Invalid input repeats the
// line with a '^' under the offending word:
//   registrar 9 dns:x
//             ^
//   % Invalid input detected at '^' marker.
// every other refusal is one line, "% " and the status message ("% Incomplete command.").
// Empty when `r` is OK.
std::string format_error(std::string_view line, const Result& r);

namespace actions {
class Index;
}

// Lookup tables over one Config's keyed lists (credentials, authentication, endpoint dial
// peers), kept from one command to the next by whoever owns the Config and runs every command
// on it (the daemon): with 600k credentials, building them per command costs ~0.3 s. The
// owner clears it whenever it replaces the Config.
class ConfigIndex {
 public:
  ConfigIndex();
  ~ConfigIndex();
  ConfigIndex(const ConfigIndex&) = delete;
  ConfigIndex& operator=(const ConfigIndex&) = delete;
  void clear();
  actions::Index& tables() { return *index_; }

 private:
  std::unique_ptr<actions::Index> index_;
};

class Interpreter {
 public:
  // `hooks` serves the exec commands that need the daemon; without it they are refused.
  // `index`: see ConfigIndex; without one, each command that needs the tables builds its own.
  explicit Interpreter(Config& cfg, ExecHooks* hooks = nullptr, ConfigIndex* index = nullptr)
      : cfg_(cfg), hooks_(hooks), index_(index) {}
  // Runs one line in `s`. Blank lines and comments ('!' first) are no-ops. In a sub-mode, a
  // line that is not a command of the sub-mode but is one of global configuration leaves the
  // sub-mode and runs there (IOS behaviour).
  Result execute(std::string_view line, Session& s);

  // `?` help: the words that may come next. When `line` ends inside a word, only the words
  // that word abbreviates; when it ends with a space, every word that may follow. `word` is
  // the keyword or a placeholder ("WORD", "<1-6>", "<cr>"). Empty when `line` does not parse.
  struct HelpItem {
    std::string word;
    std::string help;
  };
  std::vector<HelpItem> help(std::string_view line, const Session& s) const;

  // Tab completion: `line` with its last word completed when that word abbreviates exactly one
  // keyword (plus a space); `line` unchanged otherwise.
  std::string complete(std::string_view line, const Session& s) const;

 private:
  Config& cfg_;
  ExecHooks* hooks_;
  ConfigIndex* index_;
};

// One refused line of a startup-config.
struct LoadError {
  int line = 0;            // 1-based
  std::string text;        // the line as written, passwords redacted (redact_passwords())
  Status status;           // why it was refused (plain text, as Result::status)
  long column = -1;        // for invalid input: offset of the '^' marker in `text`
  // "FILE:LINE: % reason\n  text" (plus a "  ^" line under the offending word for invalid
  // input); "LINE: % reason…" without a file name.
  std::string format(const std::string& file = {}) const;
};

struct LoadResult {
  std::vector<LoadError> errors;
  bool ok() const { return errors.empty(); }
};

// Applies a startup-config (a list of commands as `show running-config` prints them) to `cfg`.
// On any error `cfg` is left as it was and every error is reported with its line number.
LoadResult load_startup_config(std::string_view text, Config& cfg);

// The running configuration in IOS syntax; loading it gives back an equal Config.
std::string render_running_config(const Config& cfg);

// A session target as `session target` takes it ("registrar", "ipv4:A.B.C.D[:PORT]",
// "dns:NAME[:PORT]"); empty for none.
std::string render_session_target(const SessionTarget& t);

// `show dial-peer voice summary`: one line per dial peer, by tag, in IOS's layout (TAG, TYPE,
// ADMIN/OPER, PREFIX, DEST-PATTERN, PREF, PASS THRU, SESS-TARGET, OUT STAT, PORT, KEEPALIVE;
// what regfront has no notion of stays empty). With `json`, the document docs/show-json.md
// describes, on one line. From the Config alone: no daemon state.
std::string render_dial_peer_summary(const Config& cfg, bool json);

// `show sip-ua timers` / `show sip-ua retry` in IOS's layout, with the values regfront uses
// (`timers register`, `retry register`, each OPTIONS keepalive profile's `retry`), then
// regfront's own (registration rate). With `json`, the documents of docs/show-json.md.
std::string render_sip_ua_timers(const Config& cfg, bool json = false);
std::string render_sip_ua_retry(const Config& cfg, bool json = false);

// `show clock` as IOS prints it, in UTC: "*18:35:02.123 UTC Mon Dec 7 2026", the leading '*'
// when the clock is not known to be synchronized.
std::string render_clock(std::chrono::system_clock::time_point t, bool synchronized);
// `show clock | json`: the same instant, {"utc": "2026-12-07T18:35:02.123Z", "unix_ms": …,
// "synchronized": false}, on one line.
std::string render_clock_json(std::chrono::system_clock::time_point t, bool synchronized);

// Cisco type 7 password encoding (reversible; it is obfuscation, not security).
std::string type7_encode(std::string_view clear, unsigned seed = 2);
// Returns false when `encoded` is not valid type 7 text.
bool type7_decode(std::string_view encoded, std::string& clear);

}  // namespace regfront::config
