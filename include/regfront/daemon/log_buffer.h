// regfront/daemon/log_buffer.h — the logging buffer behind `show logging`, as IOS keeps it:
// the event lines (`%FACILITY-SEVERITY-MNEMONIC: text`, time-stamped), at most `bytes` of them;
// when a new line does not fit, the oldest lines go and are counted. Lines above the buffer's
// severity level are not kept (they still reach standard error). Control thread only.
//
//   LogBuffer b;                                  // 4096 bytes, level debugging, as IOS's default
//   b.add(5, "*Dec  7 18:35:02.123: %SYS-5-CONFIG_I: Configured from console by vty0");
//   std::string text = b.render();                // what `show logging` prints
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace regfront::daemon {

// Syslog severities (RFC 5424), IOS's logging levels.
enum Severity : int {
  kEmergencies = 0,
  kAlerts = 1,
  kCritical = 2,
  kErrors = 3,
  kWarnings = 4,
  kNotifications = 5,
  kInformational = 6,
  kDebugging = 7,
};
// "warnings" for 4; "debugging" for anything out of range.
const char* severity_name(int severity);

class LogBuffer {
 public:
  static constexpr std::size_t kDefaultBytes = 4096;

  struct Counters {
    std::uint64_t logged = 0;        // lines kept (at or below the level)
    std::uint64_t overwritten = 0;   // kept lines dropped, oldest first, to make room
    std::uint64_t filtered = 0;      // lines above the level, not kept
    std::uint64_t stderr_lines = 0;  // lines written to standard error (the journal)
    std::uint64_t monitor_lines = 0;  // lines queued to at least one `terminal monitor` session
  };

  // Buffered logging on or off, its size in bytes (each line counts its length plus one) and
  // level. Shrinking drops the oldest lines (counted); turning it off empties it.
  void configure(bool enabled, std::size_t bytes, int level);
  // One line, without its newline; longer than the buffer, it is cut to fit.
  void add(int severity, std::string_view line);
  void count_stderr() { ++counters_.stderr_lines; }
  void count_monitor() { ++counters_.monitor_lines; }
  // clear logging: the lines go; the counters stay.
  void clear();

  bool enabled() const { return enabled_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t used() const { return used_; }
  int level() const { return level_; }
  std::size_t lines() const { return lines_.size(); }
  const Counters& counters() const { return counters_; }
  // show logging: IOS's header, then "Log Buffer (N bytes):" and the lines, oldest first.
  std::string render() const;
  // show logging | json: the same facts as render(), one line (docs/show-json.md).
  std::string render_json() const;

 private:
  void trim(std::size_t room);

  bool enabled_ = true;
  std::size_t bytes_ = kDefaultBytes;
  int level_ = kDebugging;
  std::size_t used_ = 0;
  std::deque<std::string> lines_;
  Counters counters_;
};

}  // namespace regfront::daemon
