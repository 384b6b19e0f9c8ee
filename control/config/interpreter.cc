// control/config/interpreter.cc — runs lines through the mode trees (grammar.h, tree.cc).
#include <algorithm>
#include <cctype>

#include "actions.h"
#include "grammar.h"
#include "regfront/config/commands.h"

namespace regfront::config {

namespace g = grammar;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The values whose kind has no syntax of its own to bound them (any WORD): their maxima, checked
// before the handler runs so that no action ever sees a longer one (docs/config-limits.md).
// The message never quotes the value (it may be a password).
Result check_lengths(const g::Args& a) {
  struct Limit {
    std::string_view slot;
    std::string_view what;
    std::size_t max;
  };
  static constexpr Limit kLimits[] = {
      {"username", "Username", kMaxUsernameLength},
      {"realm", "Realm", kMaxRealmLength},
      {"auth-realm", "Realm", kMaxRealmLength},
      {"password", "Password", kMaxPasswordLength},
  };
  for (const Limit& l : kLimits) {
    const auto it = a.values.find(l.slot);
    if (it == a.values.end()) continue;
    // A type 7 password is the encoding of at most kMaxPasswordLength characters.
    const bool type7 = l.slot == "password" && a.get("ptype") == "7";
    const std::size_t max = type7 ? kMaxType7Length : l.max;
    if (it->second.text.size() > max) {
      return Result::rejected(Status::out_of_range(std::string(l.what) + " too long (" + std::to_string(max) +
                                                   (type7 ? " characters at most in type 7 form)"
                                                          : " characters at most)")));
    }
  }
  return Result{};
}

Result error_of(const g::Walk& w, std::string_view line) {
  switch (w.error) {
    case SyntaxError::invalid_input:
      return Result::invalid_input(w.marker);
    case SyntaxError::incomplete:
      return Result::incomplete();
    case SyntaxError::ambiguous:
      // IOS quotes the line; a password in it is masked, since messages go to logs.
      return Result::ambiguous(redact_passwords(trim(line)));
    case SyntaxError::none:
      break;
  }
  return Result{};
}

}  // namespace

std::string prompt(const Config& cfg, const Session& s) {
  switch (s.mode) {
    case Mode::user_exec:
      return cfg.hostname + ">";
    case Mode::privileged_exec:
      return cfg.hostname + "#";
    case Mode::global_config:
      return cfg.hostname + "(config)#";
    case Mode::sip_ua:
      return cfg.hostname + "(config-sip-ua)#";
    case Mode::dial_peer:
      return cfg.hostname + "(config-dial-peer)#";
    case Mode::interface:
      return cfg.hostname +
             (s.interface.find('.') == std::string::npos ? "(config-if)#" : "(config-subif)#");
    case Mode::voice_service:
      return cfg.hostname + "(conf-voi-serv)#";
    case Mode::voice_sip:
      return cfg.hostname + "(conf-serv-sip)#";
    case Mode::voice_trusted:
      return cfg.hostname + "(cfg-iptrust-list)#";
    case Mode::keepalive:
      return cfg.hostname + "(config-class)#";
  }
  return cfg.hostname + "#";
}

Result Result::invalid_input(std::size_t marker) {
  Result r;
  r.status = Status::invalid_argument("Invalid input detected at '^' marker.");
  r.syntax = SyntaxError::invalid_input;
  r.marker = marker;
  return r;
}

Result Result::incomplete() {
  Result r;
  r.status = Status::invalid_argument("Incomplete command.");
  r.syntax = SyntaxError::incomplete;
  return r;
}

Result Result::ambiguous(std::string_view line) {
  Result r;
  // Two spaces after the colon, as IOS prints it.
  r.status = Status::invalid_argument("Ambiguous command:  \"" + std::string(line) + "\"");
  r.syntax = SyntaxError::ambiguous;
  return r;
}

Result Result::rejected(Status why) {
  Result r;
  r.status = why.ok() ? Status::internal("refused without a reason") : std::move(why);
  return r;
}

std::string format_error(std::string_view line, const Result& r) {
  if (r.ok()) return {};
  // IOS's error lines: "% " and the reason.
  std::string shown = "% " + r.status.message();
  if (r.syntax != SyntaxError::invalid_input) return shown;
  std::string out(line);
  out += '\n';
  out.append(r.marker, ' ');
  out += "^\n";
  out += shown;
  return out;
}

std::string redact_passwords(std::string_view line, long* column) {
  constexpr std::string_view kMask = "*****";
  constexpr std::string_view kKeyword = "password";
  auto tokens = g::tokenize(line);
  // Every word that may be a password is masked, each decided on its own: a username that is
  // itself an abbreviation of `password` ("pa") then hides the keyword after it, and the
  // keyword still hides the real password (masking too much is harmless; too little is not).
  std::vector<bool> mask(tokens.size(), false);
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (!kKeyword.starts_with(tokens[i].text)) continue;
    std::size_t j = i + 1;
    // `password 0 P` / `password 7 P`: the type is not the password (`password 7` alone is).
    // Any other IOS type (5, 6, 8, 9: hashes regfront does not take) is skipped the same way,
    // so that the word after it, refused, is not echoed in clear.
    if (tokens[j].text.size() == 1 && std::isdigit(static_cast<unsigned char>(tokens[j].text[0])) &&
        j + 1 < tokens.size()) {
      ++j;
    }
    mask[j] = true;
  }
  std::string out;
  std::size_t copied = 0;
  long shift = 0;  // how far `column` moves
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    if (!mask[k]) continue;
    const g::Token& p = tokens[k];
    out.append(line.substr(copied, p.offset - copied));
    out.append(kMask);
    copied = p.offset + p.text.size();
    if (column && *column >= 0) {
      auto col = static_cast<std::size_t>(*column);
      if (col >= copied) {
        shift += static_cast<long>(kMask.size()) - static_cast<long>(p.text.size());
      } else if (col > p.offset) {
        shift += static_cast<long>(p.offset) - *column;  // inside the password: its start
      }
    }
  }
  out.append(line.substr(copied));
  if (column && *column >= 0) *column += shift;
  return out;
}

namespace grammar {

Result execute(Config& cfg, ExecHooks* hooks, actions::Index* index, std::string_view line,
               Session& s) {
  std::string_view body = trim(line);
  if (body.empty() || body.front() == '!') return Result{};
  const auto& gr = Grammar::instance();
  auto tokens = tokenize(line);

  // The modes to try, in order: the current one; from a sub-mode, its parent modes up to
  // global configuration; and, while loading a file, the exec modes (`enable`,
  // `configure terminal` are no-ops there).
  Mode tries[5];
  int n = 0;
  tries[n++] = s.mode;
  if (s.mode == Mode::voice_sip || s.mode == Mode::voice_trusted) tries[n++] = Mode::voice_service;
  if (s.mode == Mode::sip_ua || s.mode == Mode::dial_peer || s.mode == Mode::interface ||
      s.mode == Mode::voice_service || s.mode == Mode::voice_sip ||
      s.mode == Mode::voice_trusted || s.mode == Mode::keepalive) {
    tries[n++] = Mode::global_config;
  }
  if (s.loading_file && s.mode != Mode::privileged_exec && s.mode != Mode::user_exec) {
    tries[n++] = Mode::privileged_exec;
  }

  Walk best;
  bool have_best = false;
  for (int i = 0; i < n; ++i) {
    Walk w = walk(gr.root(tries[i], s.dial_peer_type), tokens);
    if (w.error == SyntaxError::none) {
      if (!w.handler) return Result{};
      if (Result r = check_lengths(w.args); !r.ok()) return r;
      Session before = s;
      // Leaving a sub-mode for a parent mode happens before the command runs there.
      if (tries[i] == Mode::global_config || tries[i] == Mode::voice_service) s.mode = tries[i];
      Context ctx{cfg, s, hooks, index};
      Result r = w.handler(ctx, w.args);
      if (!r.ok()) {
        r.changed = false;  // actions check before they modify: a refusal changed nothing
        r.end_session = false;
      }
      // A refused command changes nothing, the session included; exec lines met in a file
      // keep the file in configuration mode.
      if (!r.ok() || (tries[i] == Mode::privileged_exec && s.loading_file)) s = before;
      return r;
    }
    if (!have_best || w.matched > best.matched) {
      best = std::move(w);
      have_best = true;
    }
  }
  return error_of(best, line);
}

}  // namespace grammar

ConfigIndex::ConfigIndex() : index_(std::make_unique<actions::Index>()) {}
ConfigIndex::~ConfigIndex() = default;
void ConfigIndex::clear() { index_->clear(); }

Result Interpreter::execute(std::string_view line, Session& s) {
  // An operator's command history (show history), as IOS keeps it: every line entered, refused
  // ones included, the oldest dropped beyond the size; passwords masked.
  if (!s.loading_file && s.history_size > 0 && !trim(line).empty()) {
    if (s.history.size() >= s.history_size) s.history.erase(s.history.begin(), s.history.end() - (s.history_size - 1));
    s.history.push_back(redact_passwords(trim(line)));
  }
  return g::execute(cfg_, hooks_, index_ != nullptr ? &index_->tables() : nullptr, line, s);
}

std::vector<Interpreter::HelpItem> Interpreter::help(std::string_view line,
                                                     const Session& s) const {
  auto tokens = g::tokenize(line);
  std::string_view partial;
  if (!tokens.empty() && !line.empty() && !std::isspace(static_cast<unsigned char>(line.back()))) {
    partial = tokens.back().text;
    tokens.pop_back();
  }
  auto c = g::candidates(g::Grammar::instance().root(s.mode, s.dial_peer_type), tokens,
                         partial);
  std::vector<HelpItem> out;
  std::vector<const g::Node*> nodes = c.nodes;
  std::stable_sort(nodes.begin(), nodes.end(), [](const g::Node* a, const g::Node* b) {
    bool ak = a->kind == g::Kind::keyword, bk = b->kind == g::Kind::keyword;
    if (ak != bk) return !ak;  // parameters first, as IOS lists them
    return ak && a->text < b->text;
  });
  for (const g::Node* n : nodes) out.push_back({n->text, n->help});
  if (c.cr) out.push_back({"<cr>", ""});
  return out;
}

std::string Interpreter::complete(std::string_view line, const Session& s) const {
  auto tokens = g::tokenize(line);
  if (tokens.empty() || std::isspace(static_cast<unsigned char>(line.back()))) {
    return std::string(line);
  }
  g::Token last = tokens.back();
  tokens.pop_back();
  auto c = g::candidates(g::Grammar::instance().root(s.mode, s.dial_peer_type), tokens,
                         last.text);
  const g::Node* only = nullptr;
  int keywords = 0;
  for (const g::Node* n : c.nodes) {
    if (n->kind == g::Kind::keyword) {
      ++keywords;
      only = n;
    }
  }
  if (keywords != 1 || c.nodes.size() != 1) return std::string(line);
  return std::string(line.substr(0, last.offset)) + only->text + " ";
}

}  // namespace regfront::config
