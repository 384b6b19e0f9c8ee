// regfront/daemon/log.h — regfrontd's log: one line per event on standard error, with a UTC
// timestamp ("2026-12-07T09:00:00.123Z regfrontd: …"). Control thread and start-up only: workers
// never log (they count).
//
//   daemon::log("registrar %d: %s resolved to %s", index, host, ip);
#pragma once

namespace regfront::daemon {

void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace regfront::daemon
