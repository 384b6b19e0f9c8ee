// control/config/loader.cc — applies a startup-config, all or nothing.
#include <string>

#include "actions.h"
#include "grammar.h"
#include "regfront/config/commands.h"

namespace regfront::config {

std::string LoadError::format(const std::string& file) const {
  std::string out = file.empty() ? std::to_string(line) : file + ":" + std::to_string(line);
  out += ": % " + status.message() + "\n  " + text;
  if (column >= 0) {
    out += "\n  ";
    out.append(static_cast<std::size_t>(column), ' ');
    out += '^';
  }
  return out;
}

namespace {

// The lines `show running-config` prints before the configuration ("Building configuration...",
// a blank line, "Current configuration : N bytes"): a file saved from it loads as it is, as a
// copy of IOS's output pasted into a file does on a router's TFTP load. Only as lines 1 to 3.
bool show_header_line(std::string_view line, int number) {
  if (number == 1) return line == "Building configuration...";
  if (number == 2) return line.empty();
  constexpr std::string_view kCurrent = "Current configuration : ";
  if (number != 3 || !line.starts_with(kCurrent) || !line.ends_with(" bytes")) return false;
  const std::string_view n = line.substr(kCurrent.size(), line.size() - kCurrent.size() - 6);
  return !n.empty() && n.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

LoadResult load_startup_config(std::string_view text, Config& cfg) {
  LoadResult result;
  Config work = cfg;  // applied to a copy, committed only when every line was accepted
  // The loader is the only writer of `work`, so the actions may keep hash tables over its
  // keyed lists (actions::Index): each duplicate check is O(1) instead of a scan.
  actions::Index index;
  Session s;
  s.mode = Mode::global_config;
  s.loading_file = true;
  int number = 0;
  bool header = true;  // still in what may be show running-config's header
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // The header only as a whole, from its first line on.
    if (number <= 3 && header && show_header_line(line, number)) continue;
    header = false;
    if (line.size() > kMaxConfigLineLength) {
      // Not parsed, and not quoted whole in the error (it ends up in logs).
      LoadError e;
      e.line = number;
      e.status = Status::out_of_range("Line too long (" + std::to_string(kMaxConfigLineLength) +
                                      " characters at most)");
      e.text = redact_passwords(line.substr(0, 80)) + "...";
      result.errors.push_back(std::move(e));
      continue;
    }
    Result r = grammar::execute(work, nullptr, &index, line, s);
    if (!r.ok()) {
      LoadError e;
      e.line = number;
      e.status = r.status;
      if (r.syntax == SyntaxError::invalid_input) e.column = static_cast<long>(r.marker);
      // Load errors end up in logs: never with a password in them.
      e.text = redact_passwords(line, e.column >= 0 ? &e.column : nullptr);
      result.errors.push_back(std::move(e));
    }
  }
  if (result.ok()) {
    cfg = std::move(work);
    // The lists grew by doubling: at 600k credentials the slack is ~100 bytes per entry.
    cfg.sip_ua.credentials.shrink_to_fit();
    cfg.sip_ua.authentication.shrink_to_fit();
  }
  return result;
}

}  // namespace regfront::config
