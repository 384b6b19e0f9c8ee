// control/config/tree.cc — the command trees of every mode, their handlers, and the
// Interpreter that runs one line through them.
//
// A handler only turns the parsed words (Args) into one typed action call (actions.h) and, for
// mode commands, moves the session; all checks that can refuse a command live in the actions.
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#include <sys/timex.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actions.h"
#include "grammar.h"
#include "regfront/config/commands.h"

namespace regfront::config {

namespace g = grammar;
using g::Args;
using g::Context;
using g::Kind;
using g::Node;

namespace {

// Expires: IOS accepts 60-2147483647; regfront accepts any positive value so that labs can run
// short bindings (a registrar enforces its own minimum with 423 Min-Expires, RFC 3261 §10.3).
constexpr std::uint64_t kExpiresMin = 1;
constexpr std::uint64_t kExpiresMax = 2147483647;
constexpr std::uint64_t kDialPeerTagMax = 2147483647;

// `password [0|7] P`: the clear password, or the invalid-input error under a bad type 7 text;
// `encrypted` when it is to be shown as type 7 (given so, or `service password-encryption`).
bool take_password(const Context& c, const Args& a, std::string& clear, bool& encrypted, Result& err) {
  const std::string& p = a.get("password");
  encrypted = c.cfg.service_password_encryption || a.get("ptype") == "7";
  if (a.get("ptype") == "7") {
    if (!type7_decode(p, clear)) {
      err = Result::invalid_input(a.offset("password"));
      return false;
    }
    return true;
  }
  clear = p;
  return true;
}

DialPeer* current_peer(Context& c) {
  auto it = c.cfg.dial_peers.find(c.session.dial_peer_tag);
  return it == c.cfg.dial_peers.end() ? nullptr : &it->second;
}

Result no_peer() {
  return actions::rejected(Status::failed_precondition("No dial peer is being configured"));
}

// ---- handlers: exec -------------------------------------------------------------------------

Result h_enable(Context& c, const Args&) {
  if (!c.session.loading_file) c.session.mode = Mode::privileged_exec;
  return actions::ok();
}
Result h_disable(Context& c, const Args&) {
  if (!c.session.loading_file) c.session.mode = Mode::user_exec;
  return actions::ok();
}
Result h_configure(Context& c, const Args&) {
  c.session.mode = Mode::global_config;
  return actions::ok();
}
// `exit`/`logout` in an exec mode: the daemon closes the session (a file just goes on).
Result h_exec_exit(Context& c, const Args&) {
  Result r;
  r.end_session = !c.session.loading_file;
  return r;
}

// The daemon's commands in an Interpreter without ExecHooks.
Result not_available() {
  return actions::rejected(Status::failed_precondition("Command not available"));
}

// A reason the daemon gave (ExecHooks) as a plain message: its IOS "% " and trailing newlines
// dropped (format_error() adds the "% " back); `fallback` when it gave none.
std::string plain_message(std::string m, const char* fallback) {
  while (!m.empty() && m.back() == '\n') m.pop_back();
  if (m.starts_with("% ")) m.erase(0, 2);
  return m.empty() ? std::string(fallback) : m;
}

// Output modifiers, as IOS has them: `| include REGEX` / `| exclude REGEX` keep the lines in
// which REGEX matches (or does not); `| begin REGEX` the output from the first line that
// matches; `| section REGEX` each line that matches with the lines indented under it (and, for
// an indented line that matches, the line that heads its section first); `| count REGEX` the
// number of lines that match ("Number of lines which match regexp = N"). Compiled before the
// show runs, so a bad expression costs the daemon nothing.
struct LineFilter {
  enum class Kind : std::uint8_t { none, include, exclude, begin, section, count } kind = Kind::none;
  std::regex re;
};

bool make_filter(const Args& a, LineFilter& f, Result& err) {
  using K = LineFilter::Kind;
  const K kind = a.has("include") ? K::include
                 : a.has("exclude") ? K::exclude
                 : a.has("begin")   ? K::begin
                 : a.has("section") ? K::section
                 : a.has("count")   ? K::count
                                    : K::none;
  if (kind == K::none) return true;
  const std::string& text = a.get("regex");
  try {
    f.re.assign(text, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error&) {
    // Control plane only: std::regex reports a bad expression by throwing; we turn it into a
    // status here and nowhere else.
    err = actions::rejected(Status::invalid_argument("Invalid regular expression."));
    return false;
  }
  f.kind = kind;
  return true;
}

std::size_t indent_of(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

std::string apply_filter(const LineFilter& f, const std::string& text) {
  using K = LineFilter::Kind;
  if (f.kind == K::none) return text;
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string::npos ? text.size() : nl;
    lines.emplace_back(text.data() + pos, end - pos);
    pos = end + 1;
  }
  const auto matches = [&](std::string_view l) { return std::regex_search(l.begin(), l.end(), f.re); };
  std::string out;
  const auto emit = [&](std::string_view l) {
    out.append(l);
    out.push_back('\n');
  };
  switch (f.kind) {
    case K::include:
    case K::exclude:
      for (const std::string_view l : lines) {
        if (matches(l) == (f.kind == K::include)) emit(l);
      }
      break;
    case K::begin: {
      bool on = false;
      for (const std::string_view l : lines) {
        on = on || matches(l);
        if (on) emit(l);
      }
      break;
    }
    case K::count: {
      std::size_t n = 0;
      for (const std::string_view l : lines) n += matches(l) ? 1 : 0;
      out = "Number of lines which match regexp = " + std::to_string(n) + "\n";
      break;
    }
    case K::section: {
      std::size_t i = 0;
      while (i < lines.size()) {
        const std::size_t indent = indent_of(lines[i]);
        std::size_t end = i + 1;  // the section: the lines indented deeper that follow
        while (end < lines.size() && !lines[end].empty() && indent_of(lines[end]) > indent) ++end;
        if (matches(lines[i])) {
          for (std::size_t k = i; k < end; ++k) emit(lines[k]);
        } else {
          // A line inside that matches: the section's head, then that line with its own.
          bool head = false;
          for (std::size_t k = i + 1; k < end;) {
            const std::size_t ik = indent_of(lines[k]);
            std::size_t sub = k + 1;
            while (sub < end && indent_of(lines[sub]) > ik) ++sub;
            if (matches(lines[k])) {
              if (!head) emit(lines[i]);
              head = true;
              for (std::size_t m = k; m < sub; ++m) emit(lines[m]);
              k = sub;
            } else {
              ++k;
            }
          }
        }
        i = end;
      }
      break;
    }
    case K::none: break;
  }
  return out;
}

// ---- handlers: the operator's terminal (terminal length|width|history size) and the shows
// of the session itself (show terminal, show history, show clock; show version and show users
// through ExecHooks::info) ---------------------------------------------------------------------

constexpr std::uint16_t kTerminalLength = 24;  // IOS's vty defaults
constexpr std::uint16_t kTerminalWidth = 80;
constexpr std::uint16_t kHistorySize = 10;

// show KEYWORD served by session_show().
constexpr const char* kSessionShows[][2] = {
    {"clock", "Display the system clock"},
    {"history", "Display the session command history"},
    {"terminal", "Display terminal configuration parameters"},
    {"users", "Display information about terminal lines"},
    {"version", "System hardware and software status"},
};

// Whether the kernel holds the system clock synchronized (NTP, PTP): IOS marks a time it
// cannot vouch for with '*'.
bool clock_synchronized() {
  timex tx{};
  return ::ntp_adjtime(&tx) != TIME_ERROR;
}

Result h_terminal(Context& c, const Args& a) {
  Session& s = c.session;
  const bool reset = a.has("no");
  const auto n = static_cast<std::uint16_t>(a.number("n"));
  if (a.has("monitor")) {
    s.monitor = !reset;
  } else if (a.has("length")) {
    s.terminal_length = reset ? kTerminalLength : n;
  } else if (a.has("width")) {
    s.terminal_width = reset ? kTerminalWidth : n;
  } else {
    s.history_size = reset ? kHistorySize : n;
    if (s.history.size() > s.history_size) {
      s.history.erase(s.history.begin(), s.history.end() - s.history_size);
    }
  }
  return Result{};
}

// show debugging: IOS's lines for this session's debugging, the filter after them, then the
// daemon's trace counters; with `json` the same in one document.
Result show_debugging(Context& c, bool json) {
  const Session::Debug& d = c.session.debug;
  Result r;
  if (json) {
    nlohmann::json j;
    j["ccsip"] = {
        {"messages", d.messages}, {"events", d.events}, {"numbers", d.numbers}, {"registrar", d.registrar}};
    std::string counters;
    if (c.hooks && c.hooks->show(ExecHooks::Show::debugging, true, counters)) {
      const nlohmann::json daemon = nlohmann::json::parse(counters, nullptr, false);
      if (daemon.is_object()) j.update(daemon);
    }
    r.output = j.dump() + "\n";
    return r;
  }
  if (!d.on()) return r;
  std::string filter = "filter is OFF";
  if (!d.numbers.empty() || d.registrar != 0) {
    filter = "filter is ON:";
    for (const std::string& n : d.numbers) filter += " number " + n;
    if (d.registrar != 0) filter += " registrar " + std::to_string(d.registrar);
  }
  r.output = "CCSIP SPI:\n";
  if (d.messages) r.output += "  SIP Call messages tracing is enabled  (" + filter + ")\n";
  if (d.events) r.output += "  SIP Call events tracing is enabled  (" + filter + ")\n";
  std::string counters;
  if (c.hooks && c.hooks->show(ExecHooks::Show::debugging, false, counters)) r.output += counters;
  return r;
}

// The session's shows: true when `what` is one of them (its output, or refusal, in `r`); with
// `json`, the documents of docs/show-json.md (the same facts as the text).
bool session_show(Context& c, const std::string& what, bool json, Result& r) {
  const Session& s = c.session;
  if (what == "terminal") {
    if (json) {
      nlohmann::json j;
      j["length"] = s.terminal_length;
      j["width"] = s.terminal_width;
      j["history_enabled"] = s.history_size != 0;
      j["history_size"] = s.history_size;
      j["monitor"] = s.monitor;
      r.output = j.dump() + "\n";
      return true;
    }
    r.output = "Length: " + std::to_string(s.terminal_length) + " lines, Width: " +
               std::to_string(s.terminal_width) + " columns\n";
    r.output += s.history_size == 0 ? std::string("History is disabled.\n")
                                    : "History is enabled, history size is " +
                                          std::to_string(s.history_size) + ".\n";
    // IOS's line for `terminal monitor`.
    r.output += s.monitor ? "Capabilities: Receives Logging Output\n" : "Capabilities: none\n";
  } else if (what == "history") {
    if (json) {
      r.output = nlohmann::json{{"history", s.history}}.dump() + "\n";
      return true;
    }
    for (const std::string& l : s.history) r.output += "  " + l + "\n";
  } else if (what == "clock") {
    const auto now = std::chrono::system_clock::now();
    r.output =
        json ? render_clock_json(now, clock_synchronized()) : render_clock(now, clock_synchronized()) + "\n";
  } else if (what == "timers" || what == "retry") {  // show sip-ua timers | retry
    r.output = what == "timers" ? render_sip_ua_timers(c.cfg, json) : render_sip_ua_retry(c.cfg, json);
  } else if (what == "version" || what == "users") {
    std::string out;
    if (!c.hooks) {
      r = not_available();
    } else if (!c.hooks->info(what == "version" ? ExecHooks::Info::version : ExecHooks::Info::users, s, json,
                              out)) {
      r = actions::rejected(Status::internal(plain_message(std::move(out), "Command failed")));
    } else {
      r.output = std::move(out);
    }
  } else if (what == "debugging") {
    r = show_debugging(c, json);
  } else {
    return false;
  }
  return true;
}

// Every show command: the last keyword of the command names it (slot "what").
Result h_show(Context& c, const Args& a) {
  LineFilter filter;
  Result err;
  if (!make_filter(a, filter, err)) return err;
  const std::string& what = a.get("what");
  Result r;
  if (what == "running-config") {
    // IOS's header before the configuration; the loader skips it in a saved copy.
    const std::string text = render_running_config(c.cfg);
    r.output = apply_filter(filter, "Building configuration...\n\nCurrent configuration : " +
                                        std::to_string(text.size()) + " bytes\n" + text);
    return r;
  }
  if (what == "summary") {  // show dial-peer voice summary
    r.output = apply_filter(filter, render_dial_peer_summary(c.cfg, a.has("json")));
    return r;
  }
  if (Result own; session_show(c, what, a.has("json"), own)) {
    if (own.ok()) own.output = apply_filter(filter, own.output);
    return own;
  }
  ExecHooks::Show s;
  if (what == "status") {
    s = ExecHooks::Show::register_status;  // show sip-ua register status
  } else if (what == "registrar") {
    s = ExecHooks::Show::registrar_status;  // show sip-ua status registrar
  } else if (what == "registrars") {
    s = ExecHooks::Show::registrars;  // show sip-ua register registrars
  } else if (what == "statistics") {
    s = ExecHooks::Show::statistics;
  } else if (what == "calls") {
    s = ExecHooks::Show::calls;  // show sip-ua calls
  } else if (what == "dataplane") {
    s = ExecHooks::Show::dataplane;
  } else if (what == "control") {
    s = ExecHooks::Show::control;  // show control
  } else if (what == "logging") {
    s = ExecHooks::Show::logging;  // show logging
  } else {
    s = ExecHooks::Show::startup_config;
  }
  if (!c.hooks) return not_available();
  std::string out;
  const bool filtered = s == ExecHooks::Show::register_status && (a.has("registrar") || a.has("number"));
  if (filtered ? !c.hooks->show_register_status(a.has("registrar") ? std::stoi(a.get("registrar")) : 0,
                                                a.has("number") ? a.get("number") : std::string(), a.has("json"), out)
               : !c.hooks->show(s, a.has("json"), out)) {
    return actions::rejected(Status::internal(plain_message(std::move(out), "Command failed")));
  }
  r.output = apply_filter(filter, out);
  return r;
}

// write [memory] | copy running-config startup-config. IOS asks "Destination filename
// [startup-config]?" for copy; the answer is always the default, so we do not ask.
Result h_write(Context& c, const Args&) {
  if (!c.hooks) return not_available();
  std::string message;
  if (!c.hooks->write_memory(c.cfg, message)) {
    return actions::rejected(
        Status::internal(plain_message(std::move(message), "Failed to save the configuration")));
  }
  while (!message.empty() && message.back() == '\n') message.pop_back();
  Result r;
  r.output = "Building configuration...\n" + (message.empty() ? std::string("[OK]") : message) + "\n";
  return r;
}

// A `clear` the daemon carries out (ExecHooks::clear).
Result clear_through_hook(Context& c, ExecHooks::Clear what) {
  if (!c.hooks) return not_available();
  std::string message;
  if (!c.hooks->clear(what, message)) {
    return actions::rejected(Status::internal(plain_message(std::move(message), "Command failed")));
  }
  return Result{};
}
// clear sip-ua statistics
Result h_clear_statistics(Context& c, const Args&) { return clear_through_hook(c, ExecHooks::Clear::statistics); }
// clear logging (IOS asks "Clear logging buffer [confirm]"; a control request cannot be
// answered, so it clears at once)
Result h_clear_logging(Context& c, const Args&) { return clear_through_hook(c, ExecHooks::Clear::logging); }

// clear sip-ua registration [registrar N] [number NUMBER]
Result h_clear_registration(Context& c, const Args& a) {
  if (!c.hooks) return not_available();
  const int registrar = a.has("registrar") ? std::stoi(a.get("registrar")) : 0;
  std::string message;
  if (!c.hooks->reregister(registrar, a.has("number") ? a.get("number") : std::string(), message)) {
    return actions::rejected(Status::invalid_argument(plain_message(std::move(message), "Command failed")));
  }
  Result r;
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (!message.empty()) r.output = message + "\n";  // how many bindings were queued
  return r;
}

// logging buffered [SIZE] [LEVEL] / no logging buffered: a size or level left out keeps the
// one configured, as IOS.
constexpr const char* kLogLevels[] = {"emergencies", "alerts",        "critical",      "errors",
                                      "warnings",    "notifications", "informational", "debugging"};
Result h_logging_buffered(Context& c, const Args& a) {
  Logging l = c.cfg.logging;
  l.buffered = true;
  if (a.has("size")) l.buffered_bytes = static_cast<std::uint32_t>(a.number("size"));
  for (std::uint8_t i = 0; i < 8 && a.has("level"); ++i) {
    if (a.get("level") == kLogLevels[i]) l.buffered_level = i;
  }
  if (l == c.cfg.logging) return actions::ok();
  c.cfg.logging = l;
  Result r;
  r.changed = true;
  return r;
}
Result h_no_logging_buffered(Context& c, const Args&) {
  if (!c.cfg.logging.buffered) return actions::ok();
  c.cfg.logging = Logging{};
  c.cfg.logging.buffered = false;
  Result r;
  r.changed = true;
  return r;
}

// debug ccsip {messages|events} [number NUMBER] [registrar N]: this session's filter (the
// numbers of every debug command add up; one without a number traces every number), as IOS
// answers it. undebug all / no debug all / undebug ccsip KIND turn it off.
Result h_debug_ccsip(Context& c, const Args& a) {
  Session::Debug d = c.session.debug;
  const bool messages = a.get("kind") == "messages";
  if (!d.on()) d = Session::Debug{};
  if (a.has("number")) {
    const std::string& n = a.get("number");
    if (n.size() > Session::Debug::kMaxNumberLength) {
      return actions::rejected(Status::out_of_range("Number too long to trace (at most 31 characters)"));
    }
    const bool every = d.on() && d.numbers.empty();
    if (!every && std::find(d.numbers.begin(), d.numbers.end(), n) == d.numbers.end()) {
      if (d.numbers.size() == Session::Debug::kMaxNumbers) {
        return actions::rejected(
            Status::resource_exhausted("At most 8 numbers are traced at once; undebug all first"));
      }
      d.numbers.push_back(n);
    }
  } else {
    d.numbers.clear();
  }
  if (a.has("registrar")) d.registrar = static_cast<std::uint8_t>(a.number("registrar"));
  (messages ? d.messages : d.events) = true;
  c.session.debug = std::move(d);
  Result r;
  r.output = messages ? "SIP Call messages tracing is enabled\n" : "SIP Call events tracing is enabled\n";
  return r;
}
Result h_undebug_ccsip(Context& c, const Args& a) {
  const bool messages = a.get("kind") == "messages";
  (messages ? c.session.debug.messages : c.session.debug.events) = false;
  if (!c.session.debug.on()) c.session.debug = Session::Debug{};
  Result r;
  r.output = messages ? "SIP Call messages tracing is disabled\n" : "SIP Call events tracing is disabled\n";
  return r;
}
Result h_undebug_all(Context& c, const Args&) {
  c.session.debug = Session::Debug{};
  Result r;
  r.output = "All possible debugging has been turned off\n";
  return r;
}
// ---- handlers: global configuration and mode moves -------------------------------------------

Result h_exit(Context& c, const Args&) {
  if (c.session.mode == Mode::global_config) {
    if (!c.session.loading_file) c.session.mode = Mode::privileged_exec;
  } else if (c.session.mode == Mode::voice_sip || c.session.mode == Mode::voice_trusted) {
    c.session.mode = Mode::voice_service;  // one level up, as IOS
  } else {
    c.session.mode = Mode::global_config;
  }
  return actions::ok();
}
Result h_end(Context& c, const Args&) {
  c.session.mode = c.session.loading_file ? Mode::global_config : Mode::privileged_exec;
  return actions::ok();
}
Result h_hostname(Context& c, const Args& a) { return actions::set_hostname(c.cfg, a.get("name")); }
Result h_no_hostname(Context& c, const Args&) { return actions::set_hostname(c.cfg, "Router"); }
Result h_service_pe(Context& c, const Args&) { return actions::set_password_encryption(c.cfg, true); }
Result h_no_service_pe(Context& c, const Args&) {
  return actions::set_password_encryption(c.cfg, false);
}
Result h_sip_ua(Context& c, const Args&) {
  Result r = actions::sip_ua_enter(c.cfg);
  if (r.ok()) c.session.mode = Mode::sip_ua;
  return r;
}
Result h_no_sip_ua(Context& c, const Args&) { return actions::sip_ua_reset(c.cfg, c.index); }
// dial-peer voice TAG {pots|voip}: one handler per type, so the keyword needs no slot (a
// 100k-peer load parses it 100k times).
Result dial_peer(Context& c, const Args& a, DialPeerType type) {
  auto tag = static_cast<std::uint32_t>(a.number("tag"));
  Result r = actions::dial_peer_enter(c.cfg, tag, type);
  if (r.ok()) {
    c.session.mode = Mode::dial_peer;
    c.session.dial_peer_tag = tag;
    c.session.dial_peer_type = type;
  }
  return r;
}
Result h_dial_peer_pots(Context& c, const Args& a) { return dial_peer(c, a, DialPeerType::pots); }
Result h_dial_peer_voip(Context& c, const Args& a) { return dial_peer(c, a, DialPeerType::voip); }
Result no_dial_peer(Context& c, const Args& a, std::optional<DialPeerType> type) {
  return actions::dial_peer_remove(c.cfg, static_cast<std::uint32_t>(a.number("tag")), c.index,
                                   type);
}
Result h_no_dial_peer(Context& c, const Args& a) { return no_dial_peer(c, a, std::nullopt); }
Result h_no_dial_peer_pots(Context& c, const Args& a) {
  return no_dial_peer(c, a, DialPeerType::pots);
}
Result h_no_dial_peer_voip(Context& c, const Args& a) {
  return no_dial_peer(c, a, DialPeerType::voip);
}

// ---- handlers: interfaces, routes, voice service voip -----------------------------------------

std::string canonical_interface(const Args& a, const char* slot = "ifname") {
  std::uint16_t port = 0, subif = 0;
  parse_interface_name(a.get(slot), port, subif);  // the grammar accepted it
  return interface_name(port, subif);
}

Result h_interface(Context& c, const Args& a) {
  std::string name = canonical_interface(a);
  Result r = actions::interface_enter(c.cfg, name);
  if (r.ok()) {
    c.session.mode = Mode::interface;
    c.session.interface = std::move(name);
  }
  return r;
}
Result h_no_interface(Context& c, const Args& a) {
  return actions::interface_remove(c.cfg, canonical_interface(a));
}

// The interface of the session; another session may have removed a sub-interface meanwhile.
Interface* current_interface(Context& c) {
  auto it = c.cfg.interfaces.find(c.session.interface);
  return it == c.cfg.interfaces.end() ? nullptr : &it->second;
}
Result no_interface(Context& c) {
  return actions::rejected(Status::not_found("Interface " + c.session.interface + " no longer exists"));
}

Result h_description(Context& c, const Args& a) {
  Interface* i = current_interface(c);
  return i ? actions::interface_description_set(*i, a.get("text")) : no_interface(c);
}
Result h_no_description(Context& c, const Args&) {
  Interface* i = current_interface(c);
  return i ? actions::interface_description_set(*i, "") : no_interface(c);
}
Result h_shutdown(Context& c, const Args&) {
  Interface* i = current_interface(c);
  return i ? actions::interface_shutdown_set(*i, true) : no_interface(c);
}
Result h_no_shutdown(Context& c, const Args&) {
  Interface* i = current_interface(c);
  return i ? actions::interface_shutdown_set(*i, false) : no_interface(c);
}
Result h_encapsulation(Context& c, const Args& a) {
  Interface* i = current_interface(c);
  return i ? actions::interface_encapsulation_set(c.cfg, *i,
                                                  static_cast<std::uint16_t>(a.number("vlan")))
           : no_interface(c);
}
Result h_no_encapsulation(Context& c, const Args&) {
  Interface* i = current_interface(c);
  return i ? actions::interface_encapsulation_set(c.cfg, *i, 0) : no_interface(c);
}

std::uint32_t ipv4_of(const Args& a, const char* slot) {
  std::uint32_t v = 0;
  g::parse_ipv4(a.get(slot), v);
  return v;
}
Ipv6Address ipv6_of(const Args& a, const char* slot) {
  Ipv6Address v{};
  g::parse_ipv6(a.get(slot), v);
  return v;
}
Ipv6Prefix prefix_of(const Args& a, const char* slot) {
  Ipv6Prefix p;
  g::parse_ipv6_prefix(a.get(slot), p);
  return p;
}

Result h_ip_address(Context& c, const Args& a) {
  Interface* i = current_interface(c);
  return i ? actions::interface_ipv4_set(c.cfg, *i, ipv4_of(a, "address"), ipv4_of(a, "mask"))
           : no_interface(c);
}
// `no ip address [A M]`: with an address, only when it is the one configured (else nothing).
Result h_no_ip_address(Context& c, const Args& a) {
  Interface* i = current_interface(c);
  if (!i) return no_interface(c);
  if (a.has("address") && i->ipv4 &&
      (i->ipv4->address != ipv4_of(a, "address") ||
       ipv4_mask(i->ipv4->length) != ipv4_of(a, "mask"))) {
    return actions::ok();
  }
  return actions::interface_ipv4_clear(*i);
}
Result h_ipv6_address(Context& c, const Args& a) {
  Interface* i = current_interface(c);
  return i ? actions::interface_ipv6_add(c.cfg, *i, prefix_of(a, "prefix")) : no_interface(c);
}
Result h_no_ipv6_address(Context& c, const Args& a) {
  Interface* i = current_interface(c);
  if (!i) return no_interface(c);
  if (!a.has("prefix")) return actions::interface_ipv6_remove(*i, nullptr);
  Ipv6Prefix p = prefix_of(a, "prefix");
  return actions::interface_ipv6_remove(*i, &p);
}

Result h_ip_route(Context& c, const Args& a) {
  return actions::ipv4_route_add(c.cfg, ipv4_of(a, "network"), ipv4_of(a, "mask"),
                                 ipv4_of(a, "gateway"));
}
Result h_no_ip_route(Context& c, const Args& a) {
  std::uint32_t gw = ipv4_of(a, "gateway");
  return actions::ipv4_route_remove(c.cfg, ipv4_of(a, "network"), ipv4_of(a, "mask"),
                                    a.has("gateway") ? &gw : nullptr);
}
Result h_ipv6_route(Context& c, const Args& a) {
  return actions::ipv6_route_add(c.cfg, prefix_of(a, "prefix"), ipv6_of(a, "gateway"));
}
Result h_no_ipv6_route(Context& c, const Args& a) {
  Ipv6Address gw = ipv6_of(a, "gateway");
  return actions::ipv6_route_remove(c.cfg, prefix_of(a, "prefix"),
                                    a.has("gateway") ? &gw : nullptr);
}

Result h_voice_service(Context& c, const Args&) {
  Result r = actions::voice_service_enter(c.cfg);
  if (r.ok()) c.session.mode = Mode::voice_service;
  return r;
}
Result h_no_voice_service(Context& c, const Args&) { return actions::voice_service_reset(c.cfg); }
Result h_voice_sip(Context& c, const Args&) {
  Result r = actions::voice_sip_enter(c.cfg);
  if (r.ok()) c.session.mode = Mode::voice_sip;
  return r;
}
Result h_no_voice_sip(Context& c, const Args&) { return actions::voice_sip_reset(c.cfg); }
Result h_bind(Context& c, const Args& a) {
  return actions::sip_bind_set(c.cfg, canonical_interface(a));
}
Result h_no_bind(Context& c, const Args&) { return actions::sip_bind_clear(c.cfg); }
Result h_listen_port(Context& c, const Args& a) {
  return actions::sip_listen_port_set(c.cfg, static_cast<std::uint16_t>(a.number("port")));
}
Result h_no_listen_port(Context& c, const Args&) {
  return actions::sip_listen_port_set(c.cfg, kDefaultSipPort);
}

Result h_trusted_list(Context& c, const Args&) {
  Result r = actions::trusted_list_enter(c.cfg);
  if (r.ok()) c.session.mode = Mode::voice_trusted;
  return r;
}
Result h_no_trusted_list(Context& c, const Args&) { return actions::trusted_list_remove(c.cfg); }
// `ipv4 A.B.C.D [M.M.M.M]` or `ipv4 A.B.C.D/LEN`: the address and its mask (a host: /32).
void trusted_of(const Args& a, std::uint32_t& address, std::uint32_t& mask) {
  if (a.has("prefix")) {
    Ipv4Prefix p;
    g::parse_ipv4_prefix(a.get("prefix"), p);  // the grammar accepted it
    address = p.address;
    mask = ipv4_mask(p.length);
    return;
  }
  address = ipv4_of(a, "address");
  mask = a.has("mask") ? ipv4_of(a, "mask") : 0xFFFFFFFFu;
}
Result h_trusted_ipv4(Context& c, const Args& a) {
  std::uint32_t address = 0, mask = 0;
  trusted_of(a, address, mask);
  return actions::trusted_ipv4_add(c.cfg, address, mask);
}
Result h_no_trusted_ipv4(Context& c, const Args& a) {
  std::uint32_t address = 0, mask = 0;
  trusted_of(a, address, mask);
  return actions::trusted_ipv4_remove(c.cfg, address, mask);
}

// voice class sip-options-keepalive TAG, and the profile's sub-commands.
Result h_keepalive(Context& c, const Args& a) {
  const auto tag = static_cast<std::uint32_t>(a.number("tag"));
  Result r = actions::keepalive_enter(c.cfg, tag);
  if (r.ok()) {
    c.session.mode = Mode::keepalive;
    c.session.keepalive_tag = tag;
  }
  return r;
}
Result h_no_keepalive(Context& c, const Args& a) {
  return actions::keepalive_remove(c.cfg, static_cast<std::uint32_t>(a.number("tag")));
}
// The profile being edited with `fn` applied (refused by the action when it is gone).
template <typename Fn>
Result keepalive_edit(Context& c, Fn&& fn) {
  OptionsKeepalive p;
  p.tag = c.session.keepalive_tag;
  if (auto it = c.cfg.keepalive_profiles.find(p.tag); it != c.cfg.keepalive_profiles.end()) p = it->second;
  fn(p);
  return actions::keepalive_update(c.cfg, p);
}
Result h_ka_description(Context& c, const Args& a) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.description = a.get("text"); });
}
Result h_ka_no_description(Context& c, const Args&) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.description.clear(); });
}
Result h_ka_up(Context& c, const Args& a) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.up_interval_s = static_cast<std::uint16_t>(a.number("n")); });
}
Result h_ka_no_up(Context& c, const Args&) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.up_interval_s = kDefaultKeepaliveUp; });
}
Result h_ka_down(Context& c, const Args& a) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.down_interval_s = static_cast<std::uint16_t>(a.number("n")); });
}
Result h_ka_no_down(Context& c, const Args&) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.down_interval_s = kDefaultKeepaliveDown; });
}
Result h_ka_retry(Context& c, const Args& a) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.retry = static_cast<std::uint8_t>(a.number("n")); });
}
Result h_ka_no_retry(Context& c, const Args&) {
  return keepalive_edit(c, [&](OptionsKeepalive& p) { p.retry = kDefaultKeepaliveRetry; });
}
// `transport udp`: regfront speaks UDP only; IOS's tcp and tls are not offered.
Result h_ka_transport(Context&, const Args&) { return actions::ok(); }

// ---- handlers: sip-ua -------------------------------------------------------------------------

void fill_registrar_options(const Args& a, Registrar& r) {
  if (a.has("expires")) {
    r.expires = static_cast<std::uint32_t>(a.number("expires"));
    r.expires_given = true;
  }
  r.auth_realm = a.get("auth-realm");
  if (a.has("refresh-ratio")) {
    r.refresh_ratio = static_cast<std::uint8_t>(a.number("refresh-ratio"));
    r.refresh_ratio_given = true;
  }
  r.tcp = a.has("tcp");
  if (a.has("keepalive")) r.keepalive_profile = static_cast<std::uint32_t>(a.number("keepalive"));
  if (a.has("scheme")) {
    r.scheme = a.get("scheme") == "sips" ? Scheme::sips : Scheme::sip;
    r.scheme_given = true;
  }
}

Result h_registrar_indexed(Context& c, const Args& a) {
  Registrar r;
  r.index = static_cast<int>(a.number("index"));
  g::parse_registrar_address(a.get("address"), r.address);
  fill_registrar_options(a, r);
  if (Result k = actions::registrar_keepalive_check(c.cfg, r); !k.ok()) return k;
  return actions::registrar_set(c.cfg.sip_ua, r);
}
Result h_registrar_legacy(Context& c, const Args& a) {
  Registrar r;
  r.legacy = true;
  r.index = a.has("secondary") ? 2 : 1;
  if (a.has("dhcp")) {
    r.address.kind = AddressKind::dhcp;
  } else {
    g::parse_registrar_address(a.get("address"), r.address);
  }
  fill_registrar_options(a, r);
  return actions::registrar_set(c.cfg.sip_ua, r);
}
Result h_no_registrar_indexed(Context& c, const Args& a) {
  return actions::registrar_remove(c.cfg.sip_ua, static_cast<int>(a.number("index")), false);
}
Result h_no_registrar_legacy(Context& c, const Args& a) {
  return actions::registrar_remove(c.cfg.sip_ua, a.has("secondary") ? 2 : 1, true);
}

Result auth_set(Context& c, std::vector<Authentication>& list, const Args& a) {
  Authentication e;
  e.username = a.get("username");
  e.realm = a.get("realm");
  Result err;
  if (!take_password(c, a, e.password, e.password_encrypted, err)) return err;
  return actions::authentication_set(list, e, c.index);
}
Result h_ua_auth(Context& c, const Args& a) {
  // R5 over each endpoint: a sip-ua realm is one more realm for every endpoint.
  if (Result r = actions::check_endpoint_realms(c.cfg, "", {a.get("realm")}, c.index); !r.ok()) return r;
  return auth_set(c, c.cfg.sip_ua.authentication, a);
}
Result h_ua_no_auth(Context& c, const Args& a) {
  return actions::authentication_remove(c.cfg.sip_ua.authentication, a.get("username"),
                                        a.get("realm"), c.index);
}
Result h_cred(Context& c, const Args& a) {
  Credential e;
  e.number = a.get("number");
  e.username = a.get("username");
  e.realm = a.get("realm");
  Result err;
  std::string password;
  if (!take_password(c, a, password, e.password_encrypted, err)) return err;
  e.password = password;
  // R5 over the endpoint: its dial peers' and the sip-ua realms count with its credentials.
  if (Result r = actions::check_endpoint_realms(c.cfg, e.number, {e.realm}, c.index); !r.ok()) return r;
  return actions::credential_set(c.cfg.sip_ua, e, c.index);
}
Result h_no_cred(Context& c, const Args& a) {
  return actions::credential_remove(c.cfg.sip_ua, a.get("number"), a.get("realm"), c.index);
}
Result h_cred_dhcp(Context& c, const Args& a) {
  Credential e;
  e.realm = a.get("realm");
  Result err;
  std::string password;
  if (!take_password(c, a, password, e.password_encrypted, err)) return err;
  e.password = password;
  return actions::credentials_dhcp_set(c.cfg.sip_ua, e);
}
Result h_no_cred_dhcp(Context& c, const Args&) {
  return actions::credentials_dhcp_remove(c.cfg.sip_ua);
}
Localhost localhost_of(const Args& a) {
  return Localhost{a.get("host").substr(4), a.has("preferred")};
}
Result h_ua_localhost(Context& c, const Args& a) {
  return actions::localhost_set(c.cfg.sip_ua.localhost, localhost_of(a));
}
Result h_ua_no_localhost(Context& c, const Args&) {
  return actions::localhost_clear(c.cfg.sip_ua.localhost);
}
Result h_retry(Context& c, const Args& a) {
  return actions::retry_register_set(c.cfg.sip_ua, static_cast<std::uint8_t>(a.number("n")));
}
Result h_no_retry(Context& c, const Args&) {
  return actions::retry_register_set(c.cfg.sip_ua, kDefaultRetryRegister);
}
Result h_timers(Context& c, const Args& a) {
  return actions::timers_register_set(c.cfg.sip_ua, static_cast<std::uint32_t>(a.number("n")));
}
Result h_no_timers(Context& c, const Args&) {
  return actions::timers_register_set(c.cfg.sip_ua, kDefaultTimersRegisterMs);
}
Result h_rate(Context& c, const Args& a) {
  return actions::registration_rate_set(c.cfg.sip_ua, static_cast<std::uint32_t>(a.number("n")));
}
Result h_no_rate(Context& c, const Args&) {
  return actions::registration_rate_set(c.cfg.sip_ua, kDefaultRegistrationRate);
}
Result h_shard(Context& c, const Args& a) {
  return actions::shard_set(c.cfg.sip_ua, static_cast<std::uint32_t>(a.number("i")),
                            static_cast<std::uint32_t>(a.number("n")));
}
Result h_no_shard(Context& c, const Args&) { return actions::shard_clear(c.cfg.sip_ua); }

// ---- handlers: dial-peer ----------------------------------------------------------------------

Result h_dest(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  if (!dp) return no_peer();
  // A POTS dial peer with realms taking a number adds them to that endpoint's (R5).
  DialPeer would_be = *dp;
  would_be.destination_pattern = a.get("pattern");
  if (!dp->authentication.empty() && dp->destination_pattern != would_be.destination_pattern &&
      is_endpoint_dial_peer(would_be)) {
    std::vector<std::string_view> realms;
    for (const auto& e : dp->authentication) realms.push_back(e.realm);
    if (Result r = actions::check_endpoint_realms(c.cfg, would_be.destination_pattern, realms, c.index); !r.ok()) {
      return r;
    }
  }
  const std::string old = dp->destination_pattern;
  Result r = actions::destination_pattern_set(*dp, a.get("pattern"));
  if (c.index && r.changed) c.index->dial_peer_moved(*dp, old);
  return r;
}
Result h_no_dest(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  if (!dp) return no_peer();
  const std::string old = dp->destination_pattern;
  Result r = actions::destination_pattern_set(*dp, "");
  if (c.index && r.changed) c.index->dial_peer_moved(*dp, old);
  return r;
}
Result h_dp_auth(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  if (!dp) return no_peer();
  Authentication e;
  e.username = a.get("username");
  e.realm = a.get("realm");
  Result err;
  if (!take_password(c, a, e.password, e.password_encrypted, err)) return err;
  // R5 over the endpoint: the dial peer's number's credentials and the sip-ua realms count too.
  if (is_endpoint_dial_peer(*dp)) {
    if (Result r = actions::check_endpoint_realms(c.cfg, dp->destination_pattern, {e.realm}, c.index); !r.ok()) {
      return r;
    }
  }
  return actions::dial_peer_authentication_set(*dp, e, c.index);
}
Result h_dp_no_auth(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::dial_peer_authentication_remove(*dp, a.get("username"), a.get("realm"),
                                                       c.index)
            : no_peer();
}
Result h_dp_localhost(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::localhost_set(dp->localhost, localhost_of(a)) : no_peer();
}
Result h_dp_no_localhost(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::localhost_clear(dp->localhost) : no_peer();
}

// ---- handlers: VoIP dial peers ------------------------------------------------------------------

Result h_session_target(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  if (!dp) return no_peer();
  SessionTarget t;
  if (a.has("registrar")) {
    t.kind = SessionTargetKind::registrar;
  } else {
    g::parse_session_target(a.get("target"), t);  // the grammar accepted it
  }
  return actions::session_target_set(*dp, t);
}
Result h_no_session_target(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::session_target_set(*dp, SessionTarget{}) : no_peer();
}
Result h_preference(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::preference_set(*dp, static_cast<std::uint8_t>(a.number("preference")))
            : no_peer();
}
Result h_no_preference(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::preference_set(*dp, 0) : no_peer();
}
Result h_huntstop(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::huntstop_set(*dp, true) : no_peer();
}
Result h_no_huntstop(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::huntstop_set(*dp, false) : no_peer();
}
Result h_incoming(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::incoming_called_number_set(*dp, a.get("pattern")) : no_peer();
}
Result h_no_incoming(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::incoming_called_number_set(*dp, "") : no_peer();
}
Result h_dp_description(Context& c, const Args& a) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::dial_peer_description_set(*dp, a.get("text")) : no_peer();
}
Result h_dp_no_description(Context& c, const Args&) {
  DialPeer* dp = current_peer(c);
  return dp ? actions::dial_peer_description_set(*dp, "") : no_peer();
}

// ---- tree builder -----------------------------------------------------------------------------

struct Builder {
  explicit Builder(g::Grammar& g) : gr(g) {}
  g::Grammar& gr;

  Node* kw(Node* parent, const char* text, const char* help, const char* slot = "") {
    Node* n = gr.make(Kind::keyword, text, help);
    n->slot = slot;
    if (parent) parent->next.push_back(n);
    return n;
  }
  Node* param(Node* parent, Kind k, const char* text, const char* help, const char* slot) {
    Node* n = gr.make(k, text, help);
    n->slot = slot;
    if (parent) parent->next.push_back(n);
    return n;
  }
  Node* num(Node* parent, std::uint64_t lo, std::uint64_t hi, const char* help, const char* slot) {
    std::string text = "<" + std::to_string(lo) + "-" + std::to_string(hi) + ">";
    Node* n = param(parent, Kind::number, text.c_str(), help, slot);
    n->lo = lo;
    n->hi = hi;
    return n;
  }
  static void end(Node* n, g::Handler h) {
    n->terminal = true;
    n->handler = h;
  }
  // An option: its first keyword and the nodes that complete it.
  struct Opt {
    Node* first;
    std::vector<Node*> lasts;
  };
  // Optional parameters after `from`, in any order, each at most once; the command may end
  // after `from` and after every complete option.
  static void options(Node* from, const std::vector<Opt>& opts, g::Handler h) {
    std::vector<const Node*> heads;
    for (const Opt& o : opts) {
      o.first->once = true;
      heads.push_back(o.first);
    }
    end(from, h);
    from->next.insert(from->next.end(), heads.begin(), heads.end());
    for (const Opt& o : opts) {
      for (Node* last : o.lasts) {
        end(last, h);
        last->next.insert(last->next.end(), heads.begin(), heads.end());
      }
    }
  }
  Opt kw_opt(const char* text, const char* help, const char* slot) {
    Node* k = kw(nullptr, text, help, slot);
    return {k, {k}};
  }
  Opt word_opt(const char* text, const char* help, const char* phelp) {
    Node* key = kw(nullptr, text, help);
    return {key, {param(key, Kind::word, "WORD", phelp, text)}};
  }
  Opt number_opt(const char* text, const char* help, std::uint64_t lo, std::uint64_t hi,
                 const char* nhelp) {
    Node* key = kw(nullptr, text, help);
    return {key, {num(key, lo, hi, nhelp, text)}};
  }
  // `password [0|7] P`; the option completes at P.
  Opt password_opt() {
    Node* p = kw(nullptr, "password", "Password for authentication");
    Node* t0 = kw(p, "0", "Specifies an UNENCRYPTED password will follow", "ptype");
    Node* t7 = kw(p, "7", "Specifies a HIDDEN (type 7) password will follow", "ptype");
    Node* w = param(p, Kind::word, "WORD", "The password", "password");
    t0->next.push_back(w);
    t7->next.push_back(w);
    return {p, {w}};
  }
  // Mandatory `password [0|7] P` after `parent`; returns P.
  Node* password(Node* parent) {
    Opt o = password_opt();
    parent->next.push_back(o.first);
    return o.lasts[0];
  }
  Opt realm_opt() { return word_opt("realm", "Realm the credential answers", "Realm name"); }
  Opt scheme_opt() {
    Node* s = kw(nullptr, "scheme", "URI scheme of the registrar");
    return {s, {kw(s, "sip", "sip: URI", "scheme"), kw(s, "sips", "sips: URI (TLS)", "scheme")}};
  }

  void exit_end(Node* root) {
    end(kw(root, "exit", "Exit from the current mode"), h_exit);
    end(kw(root, "end", "Exit to privileged EXEC mode"), h_end);
  }

  // authentication username U password [0|7] P [realm R]; no authentication username U
  // [password [0|7] P] [realm R] (the entry is named by username and realm, R3).
  void authentication(Node* root, Node* no, g::Handler set, g::Handler remove) {
    Node* a = kw(root, "authentication", "Digest authentication configuration");
    Node* u = kw(a, "username", "Username for authentication");
    Node* uw = param(u, Kind::word, "WORD", "The username", "username");
    options(password(uw), {realm_opt()}, set);

    Node* na = kw(no, "authentication", "Digest authentication configuration");
    Node* nu = kw(na, "username", "Username for authentication");
    Node* nuw = param(nu, Kind::word, "WORD", "The username", "username");
    options(nuw, {password_opt(), realm_opt()}, remove);
  }

  // localhost dns:NAME [preferred]; no localhost [dns:NAME [preferred]].
  void localhost(Node* parent, Node* no_parent, g::Handler set, g::Handler clear) {
    Node* l = kw(parent, "localhost", "Host name for the From header of outgoing requests");
    Node* d = param(l, Kind::dns_addr, "dns:WORD", "Local domain name", "host");
    end(d, set);
    end(kw(d, "preferred", "Use this name as From host even with several registrars",
           "preferred"),
        set);
    Node* nl = kw(no_parent, "localhost", "Host name for the From header of outgoing requests");
    end(nl, clear);
    Node* nd = param(nl, Kind::dns_addr, "dns:WORD", "Local domain name", "host");
    end(nd, clear);
    end(kw(nd, "preferred", "Preferred localhost", "preferred"), clear);
  }

  void indexed_options(Node* addr, g::Handler h) {
    options(addr,
            {number_opt("expires", "Registration expiry time", kExpiresMin, kExpiresMax,
                        "Expiry time in seconds"),
             word_opt("auth-realm", "Realm for preloaded authorization", "Realm"),
             number_opt("refresh-ratio", "Refresh ratio of the granted expiry", 1, 100,
                        "Percentage of the granted expiry"),
             kw_opt("tcp", "Use TCP to reach the registrar", "tcp"), scheme_opt(), keepalive_opt()},
            h);
  }
  // regfront extension: `options-keepalive profile TAG` (voice class sip-options-keepalive).
  Opt keepalive_opt() {
    Node* k = kw(nullptr, "options-keepalive", "OPTIONS keepalive of the registrar (regfront extension)");
    Node* p = kw(k, "profile", "The voice class sip-options-keepalive profile");
    return {k, {num(p, 1, kMaxKeepaliveTag, "Profile tag", "keepalive")}};
  }
  void legacy_options(Node* addr, g::Handler h) {
    options(addr,
            {number_opt("expires", "Registration expiry time", kExpiresMin, kExpiresMax,
                        "Expiry time in seconds"),
             kw_opt("tcp", "Use TCP to reach the registrar", "tcp"),
             kw_opt("secondary", "Secondary registrar", "secondary")},
            h);
  }

  // registrar <1-6> ADDR [options] | registrar ADDR [legacy options] | registrar dhcp […]
  // no registrar <1-6> [the rest of the line] | no registrar {ADDR|dhcp} [… secondary]
  void registrar(Node* ua, Node* no) {
    constexpr const char* kAddrHelp =
        "Registrar address: dns:NAME | ipv4:A.B.C.D | ipv6:[X:X::X], then [:PORT]";
    Node* r = kw(ua, "registrar", "Register E.164 numbers with a SIP registrar");
    r->preferred = true;  // `reg` is registrar, not registration (IOS keyword priority)
    Node* idx = num(r, 1, kMaxRegistrars, "Registrar index (multiple registrars)", "index");
    indexed_options(param(idx, Kind::reg_addr, "dns:|ipv4:|ipv6:", kAddrHelp, "address"),
                    h_registrar_indexed);
    legacy_options(param(r, Kind::reg_addr, "dns:|ipv4:|ipv6:", kAddrHelp, "address"),
                   h_registrar_legacy);
    legacy_options(kw(r, "dhcp", "Registrar address from DHCP (primary/secondary form)", "dhcp"),
                   h_registrar_legacy);

    Node* nr = kw(no, "registrar", "Register E.164 numbers with a SIP registrar");
    nr->preferred = true;
    Node* nidx = num(nr, 1, kMaxRegistrars, "Registrar index", "index");
    end(nidx, h_no_registrar_indexed);
    indexed_options(param(nidx, Kind::reg_addr, "dns:|ipv4:|ipv6:", kAddrHelp, "address"),
                    h_no_registrar_indexed);
    legacy_options(param(nr, Kind::reg_addr, "dns:|ipv4:|ipv6:", kAddrHelp, "address"),
                   h_no_registrar_legacy);
    legacy_options(kw(nr, "dhcp", "Registrar address from DHCP", "dhcp"), h_no_registrar_legacy);
  }

  // credentials number N username U password [0|7] P realm R | credentials dhcp password … realm R
  // no credentials number N [username U password [0|7] P] realm R  (R7: one entry at a time)
  void credentials(Node* ua, Node* no) {
    Node* c = kw(ua, "credentials", "Credentials for registering numbers without a dial peer");
    Node* n = kw(c, "number", "Endpoint number (user part of the To header)");
    Node* nw = param(n, Kind::e164, "WORD", "Endpoint number (digits, optional leading +)",
                     "number");
    Node* u = kw(nw, "username", "Username for authentication");
    Node* uw = param(u, Kind::word, "WORD", "The username", "username");
    Node* r = kw(password(uw), "realm", "Realm the credential answers");
    end(param(r, Kind::word, "WORD", "Realm name", "realm"), h_cred);
    Node* d = kw(c, "dhcp", "Number and username from DHCP (primary/secondary form only)");
    Node* dr = kw(password(d), "realm", "Realm the credential answers");
    end(param(dr, Kind::word, "WORD", "Realm name", "realm"), h_cred_dhcp);

    Node* nc = kw(no, "credentials", "Credentials for registering numbers without a dial peer");
    Node* nn = kw(nc, "number", "Endpoint number");
    Node* nnw = param(nn, Kind::e164, "WORD", "Endpoint number", "number");
    Node* nu = kw(nnw, "username", "Username for authentication");
    Node* nuw = param(nu, Kind::word, "WORD", "The username", "username");
    Node* nr = kw(password(nuw), "realm", "Realm the credential answers");
    end(param(nr, Kind::word, "WORD", "Realm name", "realm"), h_no_cred);
    Node* nr2 = kw(nnw, "realm", "Realm the credential answers");
    end(param(nr2, Kind::word, "WORD", "Realm name", "realm"), h_no_cred);
    Node* nd = kw(nc, "dhcp", "Credentials from DHCP");
    options(nd, {password_opt(), realm_opt()}, h_no_cred_dhcp);
  }

  // KEY SUB <lo-hi> and no KEY SUB [<lo-hi>]
  void tunable(Node* ua, Node* no, const char* key, const char* key_help, const char* sub,
               const char* sub_help, std::uint64_t lo, std::uint64_t hi, const char* nhelp,
               g::Handler set, g::Handler reset) {
    Node* k = kw(ua, key, key_help);
    end(num(kw(k, sub, sub_help), lo, hi, nhelp, "n"), set);
    Node* nk = kw(no, key, key_help);
    Node* ns = kw(nk, sub, sub_help);
    end(ns, reset);
    end(num(ns, lo, hi, nhelp, "n"), reset);
  }

  Node* mode_root() {
    return gr.make(Kind::root, "", "");
  }
  Node* no_of(Node* root) { return kw(root, "no", "Negate a command or set its defaults"); }

  // `| json`, `| include LINE`, `| exclude LINE` after a show (json only where the daemon
  // has a document: not for the configurations, which are text by nature).
  Node* pipe_json = nullptr;
  Node* pipe_text = nullptr;
  void pipes() {
    pipe_text = kw(nullptr, "|", "Output modifiers");
    pipe_json = kw(nullptr, "|", "Output modifiers");
    Node* beg = kw(pipe_text, "begin", "Begin with the line that matches", "begin");
    Node* cnt = kw(pipe_text, "count", "Count number of lines which match regexp", "count");
    Node* exc = kw(pipe_text, "exclude", "Exclude lines that match", "exclude");
    Node* inc = kw(pipe_text, "include", "Include lines that match", "include");
    Node* sec = kw(pipe_text, "section", "Filter a section of output", "section");
    for (Node* n : {beg, cnt, exc, inc, sec}) end(param(n, Kind::rest, "LINE", "Regular expression", "regex"), h_show);
    pipe_json->next = pipe_text->next;
    end(kw(pipe_json, "json", "Output as a JSON document", "json"), h_show);
  }
  Node* show_leaf(Node* parent, const char* text, const char* help, bool json) {
    Node* n = kw(parent, text, help, "what");
    end(n, h_show);
    n->next.push_back(json ? pipe_json : pipe_text);
    return n;
  }
  // The show commands; the configurations only from privileged exec (they hold passwords).
  Node* show(bool privileged) {
    Node* sh = kw(nullptr, "show", "Show running system information");
    if (privileged) {
      show_leaf(sh, "running-config", "Current operating configuration", false);
      show_leaf(sh, "startup-config", "Contents of startup configuration", false);
    }
    Node* ua = kw(sh, "sip-ua", "SIP User Agent (UA)");
    // status [registrar N] [NUMBER]: IOS's filters of the same command.
    Node* reg = kw(ua, "register", "Registration information");
    Node* st = show_leaf(reg, "status", "Registration status of every endpoint and registrar", true);
    show_leaf(reg, "registrars", "The registrars regfront registers with: address, DNS, keepalive", true);
    Node* st_num = param(st, Kind::e164, "WORD", "One number's bindings", "number");
    Node* st_reg = num(kw(st, "registrar", "One registrar's bindings"), 1, kMaxRegistrars, "Registrar index", "registrar");
    st_reg->next.push_back(st_num);
    for (Node* n : {st_num, st_reg}) {
      end(n, h_show);
      n->next.push_back(pipe_json);
    }
    show_leaf(kw(ua, "status", "SIP UA status"), "registrar",
              "Endpoints registered to this router (none: regfront is no registrar)", true);
    show_leaf(ua, "statistics", "REGISTER and call counters per registrar", true);
    show_leaf(ua, "calls", "Calls being set up and active dialogs", true);
    show_leaf(ua, "timers", "SIP UA timer values", true);
    show_leaf(ua, "retry", "SIP UA retry values", true);
    Node* dataplane = show_leaf(sh, "dataplane", "Workers, endpoints owned, packets per worker", true);
    show_leaf(sh, "control", "Control socket sessions and configuration reloads", true);
    for (const auto& w : kSessionShows) show_leaf(sh, w[0], w[1], true);
    show_leaf(sh, "logging", "Show the contents of logging buffers", true);
    show_leaf(sh, "debugging", "State of each debugging option", true);
    // `sh d` stays `show dataplane` (regfront's own command) beside debugging and dial-peer.
    dataplane->preferred = true;
    if (privileged) {
      // IOS: privileged EXEC.
      Node* dp = kw(sh, "dial-peer", "Dial plan mapping table (dial peers)");
      show_leaf(kw(dp, "voice", "Voice dial peers"), "summary", "One line per dial peer", true);
    }
    return sh;
  }
  // terminal length|width <0-512>, terminal history size <0-256>, terminal no … (IOS defaults
  // back), in user and privileged exec; terminal [no] monitor in privileged exec, as IOS.
  Node* terminal(bool privileged) {
    Node* t = kw(nullptr, "terminal", "Set terminal line parameters");
    Node* no = kw(t, "no", "Negate a command or set its defaults", "no");
    const auto setting = [&](Node* parent, const char* text, const char* help, std::uint64_t hi, const char* nhelp) {
      Node* k = kw(parent, text, help, text);
      end(num(k, 0, hi, nhelp, "n"), h_terminal);
      Node* nk = kw(no, text, help, text);
      end(nk, h_terminal);
    };
    setting(t, "length", "Set number of lines on a screen", 512, "Number of lines on screen (0 for no pausing)");
    setting(t, "width", "Set width of the display terminal", 512, "Number of characters on a screen line");
    if (privileged) {
      // Privileged exec, IOS's help; on regfront it brings the log lines (debug output goes to
      // the session that asked for it either way).
      end(kw(t, "monitor", "Copy debug output to the current terminal line", "monitor"), h_terminal);
      end(kw(no, "monitor", "Copy debug output to the current terminal line", "monitor"), h_terminal);
    }
    Node* h = kw(t, "history", "Enable and control the command history function");
    end(num(kw(h, "size", "Set history buffer size"), 0, 256, "Size of history buffer", "n"), h_terminal);
    end(kw(kw(no, "history", "Enable and control the command history function"), "size", "Set history buffer size"),
        h_terminal);
    return t;
  }
  // The privileged exec commands that `do` reaches from configuration modes.
  std::vector<const Node*> exec_commands;
  void exec_subtree() {
    pipes();
    Node* w = kw(nullptr, "write", "Write running configuration to memory");
    end(w, h_write);
    end(kw(w, "memory", "Write to NV memory"), h_write);
    Node* cp = kw(nullptr, "copy", "Copy from one file to another");
    Node* run = kw(cp, "running-config", "Copy from current system configuration");
    end(kw(run, "startup-config", "Copy to startup configuration"), h_write);
    Node* cl = kw(nullptr, "clear", "Reset functions");
    Node* clua = kw(cl, "sip-ua", "SIP User Agent (UA)");
    end(kw(clua, "statistics", "Clear SIP statistics"), h_clear_statistics);
    Node* clnum = kw(nullptr, "number", "One endpoint's bindings");
    options(kw(clua, "registration", "Register again now (at each registrar's rate)"),
            {number_opt("registrar", "One registrar's bindings", 1, kMaxRegistrars, "Registrar index"),
             Opt{clnum, {param(clnum, Kind::e164, "WORD", "Endpoint number (digits, optional leading +)", "number")}}},
            h_clear_registration);
    end(kw(cl, "logging", "Clear logging buffer"), h_clear_logging);
    exec_commands = {show(true), w, cp, cl, terminal(true)};
    debug_commands();
  }
  // debug ccsip {messages|events} [number N] [registrar R], undebug …, no debug …
  void debug_commands() {
    Node* d = kw(nullptr, "debug", "Debugging functions (see also 'undebug')");
    Node* cc = kw(d, "ccsip", "CCSIP SPI: SIP Call debugging");
    for (const char* kind : {"messages", "events"}) {
      Node* k = kw(cc, kind,
                   kind[0] == 'm' ? "SIP messages sent and received (regfront: REGISTER transactions)"
                                  : "SIP binding state changes",
                   "kind");
      options(k,
              {word_opt("number", "Only the bindings of this number", "The number (user part of To)"),
               number_opt("registrar", "Only the bindings at this registrar", 1, 6, "Registrar index")},
              h_debug_ccsip);
    }
    Node* u = kw(nullptr, "undebug", "Disable debugging functions (see also 'debug')");
    Node* nd = kw(nullptr, "no", "Disable debugging functions");
    Node* ndd = kw(nd, "debug", "Disable debugging functions");
    for (Node* p : {u, ndd}) {
      end(kw(p, "all", "Disable all debugging"), h_undebug_all);
      Node* ucc = kw(p, "ccsip", "CCSIP SPI: SIP Call debugging");
      end(kw(ucc, "messages", "SIP messages", "kind"), h_undebug_ccsip);
      end(kw(ucc, "events", "SIP binding state changes", "kind"), h_undebug_ccsip);
    }
    exec_commands.insert(exec_commands.end(), {d, u, nd});
  }
  void do_command(Node* root) {
    Node* d = kw(root, "do", "To run exec commands in config mode");
    d->next = exec_commands;
  }

  Node* user_exec() {
    Node* root = mode_root();
    end(kw(root, "enable", "Turn on privileged commands"), h_enable);
    end(kw(root, "exit", "Exit from the EXEC"), h_exec_exit);
    end(kw(root, "logout", "Exit from the EXEC"), h_exec_exit);
    root->next.push_back(show(false));
    root->next.push_back(terminal(false));
    return root;
  }
  Node* privileged_exec() {
    Node* root = mode_root();
    Node* c = kw(root, "configure", "Enter configuration mode");
    end(c, h_configure);
    end(kw(c, "terminal", "Configure from the terminal"), h_configure);
    end(kw(root, "disable", "Turn off privileged commands"), h_disable);
    end(kw(root, "enable", "Turn on privileged commands"), h_enable);
    end(kw(root, "exit", "Exit from the EXEC"), h_exec_exit);
    end(kw(root, "logout", "Exit from the EXEC"), h_exec_exit);
    root->next.insert(root->next.end(), exec_commands.begin(), exec_commands.end());
    return root;
  }
  Node* global_config() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    Node* h = kw(root, "hostname", "Set system's network name");
    end(param(h, Kind::hostname, "WORD", "This system's network name", "name"), h_hostname);
    Node* nh = kw(no, "hostname", "Set system's network name");
    end(nh, h_no_hostname);
    end(param(nh, Kind::word, "WORD", "This system's network name", "name"), h_no_hostname);
    Node* s = kw(root, "service", "Modify use of network based services");
    end(kw(s, "password-encryption", "Encrypt system passwords"), h_service_pe);
    Node* ns = kw(no, "service", "Modify use of network based services");
    end(kw(ns, "password-encryption", "Encrypt system passwords"), h_no_service_pe);
    end(kw(root, "sip-ua", "SIP User Agent (UA)"), h_sip_ua);
    end(kw(no, "sip-ua", "SIP User Agent (UA)"), h_no_sip_ua);
    Node* d = kw(root, "dial-peer", "Dial Map (Peer) configuration commands");
    Node* v = kw(d, "voice", "Voice type dial peer");
    Node* tag = num(v, 1, kDialPeerTagMax, "Voice dial peer tag", "tag");
    end(kw(tag, "pots", "POTS peer (a registered number)"), h_dial_peer_pots);
    end(kw(tag, "voip", "VoIP peer (calls to and from an IP address)"), h_dial_peer_voip);
    Node* nd = kw(no, "dial-peer", "Dial Map (Peer) configuration commands");
    Node* nv = kw(nd, "voice", "Voice type dial peer");
    Node* ntag = num(nv, 1, kDialPeerTagMax, "Voice dial peer tag", "tag");
    end(ntag, h_no_dial_peer);
    end(kw(ntag, "pots", "POTS peer (a registered number)"), h_no_dial_peer_pots);
    end(kw(ntag, "voip", "VoIP peer (calls to and from an IP address)"), h_no_dial_peer_voip);
    interfaces_and_routes(root, no);
    voice_service(root, no);
    logging(root, no);
    return root;
  }
  // logging buffered [<4096-16777216>] [LEVEL] | no logging buffered
  void logging(Node* root, Node* no) {
    Node* b = kw(kw(root, "logging", "Modify message logging facilities"), "buffered",
                 "Set buffered logging parameters");
    Node* size = num(b, kMinLoggingBuffer, kMaxLoggingBuffer, "Logging buffer size", "size");
    end(b, h_logging_buffered);
    end(size, h_logging_buffered);
    static constexpr const char* kHelp[] = {
        "System is unusable                (severity=0)", "Immediate action needed           (severity=1)",
        "Critical conditions               (severity=2)", "Error conditions                  (severity=3)",
        "Warning conditions                (severity=4)", "Normal but significant conditions (severity=5)",
        "Informational messages            (severity=6)", "Debugging messages                (severity=7)"};
    for (int i = 0; i < 8; ++i) {
      Node* l = kw(b, kLogLevels[i], kHelp[i], "level");
      end(l, h_logging_buffered);
      size->next.push_back(l);
    }
    end(kw(kw(no, "logging", "Modify message logging facilities"), "buffered",
           "Set buffered logging parameters"),
        h_no_logging_buffered);
  }

  // ---- interfaces, static routes, voice service voip ----
  static constexpr const char* kIfHelp = "DPDK port N (dpdkN) or its sub-interface V (dpdkN.V)";
  Node* ifname(Node* parent, const char* help = kIfHelp) {
    return param(parent, Kind::ifname, "dpdk<0-63>[.<1-4094>]", help, "ifname");
  }
  Node* ipv4(Node* parent, const char* help, const char* slot) {
    return param(parent, Kind::ipv4, "A.B.C.D", help, slot);
  }

  // interface dpdkN[.V] | no interface dpdkN.V
  // ip route NET MASK GW | no ip route NET MASK [GW]
  // ipv6 route X:X::X/len GW | no ipv6 route X:X::X/len [GW]
  void interfaces_and_routes(Node* root, Node* no) {
    end(ifname(kw(root, "interface", "Select an interface to configure")), h_interface);
    end(ifname(kw(no, "interface", "Delete a sub-interface")), h_no_interface);

    Node* ip = kw(root, "ip", "Global IP configuration subcommands");
    Node* r = kw(ip, "route", "Establish static routes");
    Node* rm = ipv4(ipv4(r, "Destination prefix", "network"), "Destination prefix mask", "mask");
    end(ipv4(rm, "Forwarding router's address", "gateway"), h_ip_route);
    Node* nip = kw(no, "ip", "Global IP configuration subcommands");
    Node* nr = kw(nip, "route", "Establish static routes");
    Node* nrm = ipv4(ipv4(nr, "Destination prefix", "network"), "Destination prefix mask", "mask");
    end(nrm, h_no_ip_route);
    end(ipv4(nrm, "Forwarding router's address", "gateway"), h_no_ip_route);

    constexpr const char* kPrefixHelp = "IPv6 prefix";
    constexpr const char* kGwHelp = "IPv6 address of next-hop";
    Node* ip6 = kw(root, "ipv6", "Global IPv6 configuration commands");
    Node* r6 = kw(ip6, "route", "Configure static routes");
    Node* p6 = param(r6, Kind::ipv6_prefix, "X:X:X:X::X/<0-128>", kPrefixHelp, "prefix");
    end(param(p6, Kind::ipv6, "X:X:X:X::X", kGwHelp, "gateway"), h_ipv6_route);
    Node* nip6 = kw(no, "ipv6", "Global IPv6 configuration commands");
    Node* nr6 = kw(nip6, "route", "Configure static routes");
    Node* np6 = param(nr6, Kind::ipv6_prefix, "X:X:X:X::X/<0-128>", kPrefixHelp, "prefix");
    end(np6, h_no_ipv6_route);
    end(param(np6, Kind::ipv6, "X:X:X:X::X", kGwHelp, "gateway"), h_no_ipv6_route);
  }

  // voice service voip | no voice service voip
  void voice_service(Node* root, Node* no) {
    Node* v = kw(root, "voice", "Global voice configuration");
    Node* s = kw(v, "service", "Define voice service");
    end(kw(s, "voip", "Voice over IP service"), h_voice_service);
    Node* nv = kw(no, "voice", "Global voice configuration");
    Node* ns = kw(nv, "service", "Define voice service");
    end(kw(ns, "voip", "Voice over IP service"), h_no_voice_service);
    constexpr const char* kClassHelp = "Voice class configuration";
    constexpr const char* kKaHelp = "SIP OPTIONS keepalive profile";
    end(num(kw(kw(v, "class", kClassHelp), "sip-options-keepalive", kKaHelp), 1, kMaxKeepaliveTag,
            "Voice class tag", "tag"),
        h_keepalive);
    end(num(kw(kw(nv, "class", kClassHelp), "sip-options-keepalive", kKaHelp), 1, kMaxKeepaliveTag,
            "Voice class tag", "tag"),
        h_no_keepalive);
  }

  // voice class sip-options-keepalive TAG: description, up-interval, down-interval, retry,
  // transport udp.
  Node* keepalive_mode() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    constexpr const char* kDescHelp = "Voice class specific description";
    end(param(kw(root, "description", kDescHelp), Kind::rest, "LINE", "Up to 64 characters describing this profile",
              "text"),
        h_ka_description);
    Node* nd = kw(no, "description", kDescHelp);
    end(nd, h_ka_no_description);
    end(param(nd, Kind::rest, "LINE", "Description", "text"), h_ka_no_description);
    tunable(root, no, "up-interval", "OPTIONS interval while the peer is up", kKeepaliveIntervalMin,
            kKeepaliveIntervalMax, "Seconds (default 60)", h_ka_up, h_ka_no_up);
    tunable(root, no, "down-interval", "OPTIONS interval while the peer is down", kKeepaliveIntervalMin,
            kKeepaliveIntervalMax, "Seconds (default 30)", h_ka_down, h_ka_no_down);
    tunable(root, no, "retry", "Unanswered OPTIONS before the peer is marked down", 1, 10,
            "Retries (default 5)", h_ka_retry, h_ka_no_retry);
    Node* t = kw(root, "transport", "Transport of the OPTIONS");
    end(kw(t, "udp", "UDP (regfront's only transport)"), h_ka_transport);
    Node* nt = kw(no, "transport", "Transport of the OPTIONS");
    end(nt, h_ka_transport);
    end(kw(nt, "udp", "UDP"), h_ka_transport);
    return root;
  }
  // KEY <lo-hi> and no KEY [<lo-hi>]
  void tunable(Node* root, Node* no, const char* key, const char* key_help, std::uint64_t lo, std::uint64_t hi,
               const char* nhelp, g::Handler set, g::Handler reset) {
    end(num(kw(root, key, key_help), lo, hi, nhelp, "n"), set);
    Node* nk = kw(no, key, key_help);
    end(nk, reset);
    end(num(nk, lo, hi, nhelp, "n"), reset);
  }

  Node* interface() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    Node* d = kw(root, "description", "Interface specific description");
    end(param(d, Kind::rest, "LINE", "Up to 240 characters describing this interface", "text"),
        h_description);
    Node* nd = kw(no, "description", "Interface specific description");
    end(nd, h_no_description);
    end(param(nd, Kind::rest, "LINE", "Description", "text"), h_no_description);
    end(kw(root, "shutdown", "Shutdown the selected interface"), h_shutdown);
    end(kw(no, "shutdown", "Shutdown the selected interface"), h_no_shutdown);

    Node* e = kw(root, "encapsulation", "Set encapsulation type for an interface");
    Node* dq = kw(e, "dot1Q", "IEEE 802.1Q Virtual LAN");
    dq->any_case = true;
    end(num(dq, 1, kMaxVlanId, "IEEE 802.1Q VLAN ID", "vlan"), h_encapsulation);
    Node* ne = kw(no, "encapsulation", "Set encapsulation type for an interface");
    Node* ndq = kw(ne, "dot1Q", "IEEE 802.1Q Virtual LAN");
    ndq->any_case = true;
    end(ndq, h_no_encapsulation);
    end(num(ndq, 1, kMaxVlanId, "IEEE 802.1Q VLAN ID", "vlan"), h_no_encapsulation);

    Node* ip = kw(root, "ip", "Interface Internet Protocol config commands");
    Node* a = kw(ip, "address", "Set the IP address of an interface");
    end(ipv4(ipv4(a, "IP address", "address"), "IP subnet mask", "mask"), h_ip_address);
    Node* nip = kw(no, "ip", "Interface Internet Protocol config commands");
    Node* na = kw(nip, "address", "Set the IP address of an interface");
    end(na, h_no_ip_address);
    end(ipv4(ipv4(na, "IP address", "address"), "IP subnet mask", "mask"), h_no_ip_address);

    constexpr const char* kPrefixHelp = "IPv6 address and prefix length";
    Node* ip6 = kw(root, "ipv6", "IPv6 interface subcommands");
    Node* a6 = kw(ip6, "address", "Configure IPv6 address on interface");
    end(param(a6, Kind::ipv6_prefix, "X:X:X:X::X/<0-128>", kPrefixHelp, "prefix"),
        h_ipv6_address);
    Node* nip6 = kw(no, "ipv6", "IPv6 interface subcommands");
    Node* na6 = kw(nip6, "address", "Configure IPv6 address on interface");
    end(na6, h_no_ipv6_address);
    end(param(na6, Kind::ipv6_prefix, "X:X:X:X::X/<0-128>", kPrefixHelp, "prefix"),
        h_no_ipv6_address);
    return root;
  }

  Node* voice_service_mode() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    end(kw(root, "sip", "SIP configuration"), h_voice_sip);
    end(kw(no, "sip", "SIP configuration"), h_no_voice_sip);
    // ip address trusted list | no ip address trusted list
    for (Node* parent : {root, no}) {
      Node* ip = kw(parent, "ip", "IP settings of the voice service");
      Node* addr = kw(ip, "address", "Addresses VoIP calls may come from");
      Node* trusted = kw(addr, "trusted", "Trusted sources of VoIP calls");
      end(kw(trusted, "list", "The list of trusted IP addresses"),
          parent == root ? h_trusted_list : h_no_trusted_list);
    }
    return root;
  }

  // ipv4 A.B.C.D [M.M.M.M] | ipv4 A.B.C.D/LEN, and their no forms.
  Node* voice_trusted_mode() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    constexpr const char* kHelp = "Trust calls from an IPv4 address or network";
    for (Node* parent : {root, no}) {
      g::Handler h = parent == root ? h_trusted_ipv4 : h_no_trusted_ipv4;
      Node* k = kw(parent, "ipv4", kHelp);
      Node* a = ipv4(k, "IPv4 address (a host, or with a mask a network)", "address");
      end(a, h);
      end(ipv4(a, "Network mask", "mask"), h);
      end(param(k, Kind::ipv4_prefix, "A.B.C.D/<0-32>", "IPv4 network and prefix length",
                "prefix"),
          h);
    }
    return root;
  }

  Node* voice_sip_mode() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    constexpr const char* kBindHelp = "Bind the SIP signaling source address to an interface";
    Node* b = kw(root, "bind", kBindHelp);
    Node* bc = kw(b, "control", "SIP control (signaling) packets");
    end(ifname(kw(bc, "source-interface", "Interface whose address SIP uses"),
               "Interface whose address is the SIP source"),
        h_bind);
    Node* nb = kw(no, "bind", kBindHelp);
    Node* nbc = kw(nb, "control", "SIP control (signaling) packets");
    end(nbc, h_no_bind);
    Node* nbs = kw(nbc, "source-interface", "Interface whose address SIP uses");
    end(nbs, h_no_bind);
    end(ifname(nbs, "Interface whose address is the SIP source"), h_no_bind);

    Node* lp = kw(root, "listen-port", "Port SIP listens on");
    end(num(kw(lp, "non-secure", "UDP/TCP port (not TLS)"), 1, 65535, "Port number", "port"),
        h_listen_port);
    Node* nlp = kw(no, "listen-port", "Port SIP listens on");
    Node* nns = kw(nlp, "non-secure", "UDP/TCP port (not TLS)");
    end(nns, h_no_listen_port);
    end(num(nns, 1, 65535, "Port number", "port"), h_no_listen_port);
    return root;
  }
  Node* sip_ua() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    registrar(root, no);
    authentication(root, no, h_ua_auth, h_ua_no_auth);
    credentials(root, no);
    localhost(root, no, h_ua_localhost, h_ua_no_localhost);
    tunable(root, no, "retry", "Change default retries for SIP requests", "register",
            "REGISTER retries", 1, 10, "Number of retries", h_retry, h_no_retry);
    tunable(root, no, "timers", "SIP signaling timers", "register",
            "Wait for a response to REGISTER (T1)", 100, 10000, "Time in milliseconds",
            h_timers, h_no_timers);
    // regfront extension: per-registrar pacing of REGISTER transactions (DESIGN.md).
    tunable(root, no, "registration", "Registration pacing", "rate",
            "REGISTER requests per second per registrar (retransmissions and retries too)", 1, 1000000,
            "Requests per second", h_rate, h_no_rate);
    // regfront extension: this box registers one shard of the endpoints (docs/scale-out.md).
    {
      Node* s = kw(root, "shard", "Register only one shard of the endpoints (consistent hash of the number)");
      Node* i = num(s, 0, kMaxShards - 1, "This box's shard (0 = the first)", "i");
      end(num(kw(i, "of", "Number of shards"), 1, kMaxShards, "Shards in all", "n"), h_shard);
      Node* ns = kw(no, "shard", "Register every endpoint");
      end(ns, h_no_shard);
      Node* ni = num(ns, 0, kMaxShards - 1, "This box's shard (0 = the first)", "i");
      end(num(kw(ni, "of", "Number of shards"), 1, kMaxShards, "Shards in all", "n"), h_no_shard);
    }
    return root;
  }
  // What POTS and VoIP dial peers share: the mode's root with exit/end/do, `destination-pattern`,
  // `authentication` (refused by the action on a VoIP dial peer, but parsed so that a
  // configuration copied from IOS gets a reason rather than a '^') and `voice-class sip localhost`.
  struct DialPeerRoot {
    Node* root;
    Node* no;
  };
  DialPeerRoot dial_peer_root() {
    Node* root = mode_root();
    Node* no = no_of(root);
    exit_end(root);
    do_command(root);
    constexpr const char* kDestHelp = "A full E.164 telephone number prefix";
    number_pattern(kw(root, "destination-pattern", kDestHelp),
                   kw(no, "destination-pattern", kDestHelp), h_dest, h_no_dest);
    authentication(root, no, h_dp_auth, h_dp_no_auth);
    Node* vc = kw(root, "voice-class", "Voice class configuration");
    Node* vs = kw(vc, "sip", "SIP related configuration");
    Node* nvc = kw(no, "voice-class", "Voice class configuration");
    Node* nvs = kw(nvc, "sip", "SIP related configuration");
    localhost(vs, nvs, h_dp_localhost, h_dp_no_localhost);
    return {root, no};
  }
  // `... PATTERN` after `at`, and its `no` form after `no_at`, with or without the pattern.
  void number_pattern(Node* at, Node* no_at, g::Handler set, g::Handler clear) {
    end(param(at, Kind::pattern, "WORD", "Number or pattern (digits, + . T [ ] …)", "pattern"),
        set);
    end(no_at, clear);
    end(param(no_at, Kind::word, "WORD", "Number or pattern", "pattern"), clear);
  }

  Node* dial_peer() { return dial_peer_root().root; }

  // `dial-peer voice N voip`: the same prompt as a POTS dial peer, its own commands. IOS order
  // of the running-config: description, preference, huntstop, destination-pattern, session
  // target, incoming called-number, voice-class sip (render.cc).
  Node* voip_dial_peer() {
    auto [root, no] = dial_peer_root();
    constexpr const char* kDescHelp = "Dial peer specific description";
    Node* d = kw(root, "description", kDescHelp);
    end(param(d, Kind::rest, "LINE", "Up to 64 characters describing this dial peer", "text"),
        h_dp_description);
    Node* nd = kw(no, "description", kDescHelp);
    end(nd, h_dp_no_description);
    end(param(nd, Kind::rest, "LINE", "Description", "text"), h_dp_no_description);

    constexpr const char* kSessionHelp = "The session settings of this dial peer";
    constexpr const char* kTargetHelp = "Where calls that select this dial peer go";
    constexpr const char* kRegHelp = "The registrars holding a binding for the calling number";
    Node* s = kw(root, "session", kSessionHelp);
    Node* t = kw(s, "target", kTargetHelp);
    end(param(t, Kind::dns_target, "dns:WORD[:PORT]", "A host name (DNS), optionally a port",
              "target"),
        h_session_target);
    end(param(t, Kind::ipv4_target, "ipv4:A.B.C.D[:PORT]", "An IPv4 address, optionally a port",
              "target"),
        h_session_target);
    end(kw(t, "registrar", kRegHelp, "registrar"), h_session_target);
    Node* ns = kw(no, "session", kSessionHelp);
    Node* nt = kw(ns, "target", kTargetHelp);
    end(nt, h_no_session_target);
    end(param(nt, Kind::word, "WORD", "The session target configured", "target"),
        h_no_session_target);
    end(kw(nt, "registrar", kRegHelp), h_no_session_target);

    constexpr const char* kPrefHelp = "Order among dial peers that match equally well";
    constexpr const char* kPrefNum = "Preference (0, the default, is tried first)";
    Node* p = kw(root, "preference", kPrefHelp);
    end(num(p, 0, kMaxDialPeerPreference, kPrefNum, "preference"), h_preference);
    Node* np = kw(no, "preference", kPrefHelp);
    end(np, h_no_preference);
    end(num(np, 0, kMaxDialPeerPreference, kPrefNum, "preference"), h_no_preference);

    constexpr const char* kHuntHelp = "Stop hunting for other dial peers when this one fails";
    end(kw(root, "huntstop", kHuntHelp), h_huntstop);
    end(kw(no, "huntstop", kHuntHelp), h_no_huntstop);

    constexpr const char* kInHelp = "Match inbound calls";
    constexpr const char* kCalledHelp = "The called number (DNIS) of inbound calls";
    number_pattern(kw(kw(root, "incoming", kInHelp), "called-number", kCalledHelp),
                   kw(kw(no, "incoming", kInHelp), "called-number", kCalledHelp), h_incoming,
                   h_no_incoming);
    return root;
  }
};

}  // namespace

namespace grammar {

Grammar::Grammar() {
  Builder b{*this};
  b.exec_subtree();
  roots_[static_cast<int>(Mode::user_exec)] = b.user_exec();
  roots_[static_cast<int>(Mode::privileged_exec)] = b.privileged_exec();
  roots_[static_cast<int>(Mode::global_config)] = b.global_config();
  roots_[static_cast<int>(Mode::sip_ua)] = b.sip_ua();
  roots_[static_cast<int>(Mode::dial_peer)] = b.dial_peer();
  roots_[static_cast<int>(Mode::interface)] = b.interface();
  roots_[static_cast<int>(Mode::voice_service)] = b.voice_service_mode();
  roots_[static_cast<int>(Mode::voice_sip)] = b.voice_sip_mode();
  roots_[static_cast<int>(Mode::voice_trusted)] = b.voice_trusted_mode();
  roots_[static_cast<int>(Mode::keepalive)] = b.keepalive_mode();
  voip_dial_peer_ = b.voip_dial_peer();
}

}  // namespace grammar
}  // namespace regfront::config
