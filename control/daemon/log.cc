// regfrontd's log (see regfront/daemon/log.h).
#include "regfront/daemon/log.h"

#include <time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace regfront::daemon {

void log(const char* fmt, ...) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &t);
  std::fprintf(stderr, "%s.%03ldZ regfrontd: ", stamp, ts.tv_nsec / 1000000);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

}  // namespace regfront::daemon
