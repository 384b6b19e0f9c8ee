// regfrontd's log (see regfront/daemon/log.h).
#include "regfront/daemon/log.h"

#include <time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace regfront::daemon {
namespace {

void vlog(const timespec& ts, const char* prefix, const char* fmt, va_list ap) {
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &t);
  std::fprintf(stderr, "%s.%03ldZ regfrontd: %s", stamp, ts.tv_nsec / 1000000, prefix);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
}

}  // namespace

LogBuffer& log_buffer() {
  static LogBuffer buffer;
  return buffer;
}

namespace {
std::function<void(int, std::string_view)>& monitor_sink() {
  static std::function<void(int, std::string_view)> sink;
  return sink;
}
}  // namespace

void set_monitor_sink(std::function<void(int severity, std::string_view line)> sink) {
  monitor_sink() = std::move(sink);
}

void log(const char* fmt, ...) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  va_list ap;
  va_start(ap, fmt);
  vlog(ts, "", fmt, ap);
  va_end(ap);
}

void event(int severity, const char* facility, const char* mnemonic, const char* fmt, ...) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char tag[96];
  std::snprintf(tag, sizeof tag, "%%%s-%d-%s: ", facility, severity, mnemonic);
  va_list ap;
  va_start(ap, fmt);
  va_list copy;
  va_copy(copy, ap);
  vlog(ts, tag, fmt, ap);
  va_end(ap);
  log_buffer().count_stderr();
  // IOS's buffer stamp: "*Dec  7 18:35:02.123: " (service timestamps log datetime msec; the
  // '*' as IOS marks a clock it does not call authoritative: regfront does not know whether
  // the host's clock is synchronised). UTC, as the journal line.
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char line[1024];
  std::size_t n = std::strftime(line, sizeof line, "*%b %e %H:%M:%S", &t);
  n += static_cast<std::size_t>(
      std::snprintf(line + n, sizeof line - n, ".%03ld: %s", ts.tv_nsec / 1000000, tag));
  if (n < sizeof line) std::vsnprintf(line + n, sizeof line - n, fmt, copy);
  va_end(copy);
  log_buffer().add(severity, line);
  if (monitor_sink()) monitor_sink()(severity, line);  // NUL-terminated by the formatting above
}

}  // namespace regfront::daemon
