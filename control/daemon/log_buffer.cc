// The logging buffer of `show logging` (see regfront/daemon/log_buffer.h).
#include "regfront/daemon/log_buffer.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace regfront::daemon {

const char* severity_name(int severity) {
  static constexpr const char* kNames[] = {"emergencies", "alerts",        "critical",      "errors",
                                           "warnings",    "notifications", "informational", "debugging"};
  return severity >= 0 && severity <= kDebugging ? kNames[severity] : kNames[kDebugging];
}

void LogBuffer::configure(bool enabled, std::size_t bytes, int level) {
  enabled_ = enabled;
  bytes_ = bytes;
  level_ = level;
  if (!enabled_) {
    lines_.clear();
    used_ = 0;
    return;
  }
  trim(0);
}

void LogBuffer::trim(std::size_t room) {
  while (!lines_.empty() && used_ + room > bytes_) {
    used_ -= lines_.front().size() + 1;
    lines_.pop_front();
    ++counters_.overwritten;
  }
}

void LogBuffer::add(int severity, std::string_view line) {
  if (!enabled_ || bytes_ == 0) return;
  if (severity > level_) {
    ++counters_.filtered;
    return;
  }
  line = line.substr(0, std::min(line.size(), bytes_ - 1));
  trim(line.size() + 1);
  lines_.emplace_back(line);
  used_ += line.size() + 1;
  ++counters_.logged;
}

void LogBuffer::clear() {
  lines_.clear();
  used_ = 0;
}

std::string LogBuffer::render() const {
  // IOS's first lines, with what regfront does not have (console, monitor, trap) said so.
  std::string out = "Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, " +
                    std::to_string(counters_.overwritten) +
                    " overruns, xml disabled, filtering disabled)\n\n";
  out += "No Active Message Discriminator.\n\n\n";
  out += "    Console logging: disabled\n";
  // Every event goes to the sessions that asked with `terminal monitor` (IOS's default
  // `logging monitor debugging`).
  out += "    Monitor logging: level debugging, " + std::to_string(counters_.monitor_lines) +
         " messages logged, xml disabled,\n" + "                     filtering disabled\n";
  if (enabled_) {
    out += "    Buffer logging:  level " + std::string(severity_name(level_)) + ", " +
           std::to_string(counters_.logged) + " messages logged, xml disabled,\n" +
           "                     filtering disabled\n";
  } else {
    out += "    Buffer logging:  disabled\n";
  }
  out += "    Exception Logging: disabled\n";
  out += "    Trap logging: disabled\n";
  // regfront: standard error is the journal's copy of every line; what the buffer dropped.
  out += "    Standard error logging: every level, " + std::to_string(counters_.stderr_lines) +
         " messages logged\n";
  out += "    Buffer overwritten: " + std::to_string(counters_.overwritten) +
         " messages dropped (oldest first), " + std::to_string(counters_.filtered) +
         " above the buffer's level\n";
  if (!enabled_) return out;
  out += "\nLog Buffer (" + std::to_string(bytes_) + " bytes):\n\n";
  for (const std::string& l : lines_) {
    out += l;
    out += '\n';
  }
  return out;
}

std::string LogBuffer::render_json() const {
  nlohmann::json j;
  j["buffer_enabled"] = enabled_;
  j["buffer_level"] = severity_name(level_);
  j["buffer_bytes"] = bytes_;
  j["buffer_used"] = used_;
  j["logged"] = counters_.logged;
  j["overruns"] = counters_.overwritten;
  j["filtered"] = counters_.filtered;
  j["stderr_logged"] = counters_.stderr_lines;
  j["monitor_level"] = severity_name(kDebugging);
  j["monitor_logged"] = counters_.monitor_lines;
  j["lines"] = nlohmann::json::array();
  for (const std::string& l : lines_) j["lines"].push_back(l);
  return j.dump() + "\n";
}

}  // namespace regfront::daemon
