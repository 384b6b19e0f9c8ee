// regfront/daemon/log.h — regfrontd's log: one line per event on standard error, with a UTC
// timestamp ("2026-12-07T09:00:00.123Z regfrontd: …"). Control thread and start-up only: workers
// never log (they count).
//
//   daemon::log("registrar %d: %s resolved to %s", index, host, ip);
//
// The events an operator looks for in `show logging` are logged with event(): the same line on
// standard error (the journal keeps every one), prefixed with IOS's `%FACILITY-SEVERITY-MNEMONIC:`,
// and into the logging buffer (log_buffer()) as IOS prints it,
// "*Dec  7 18:35:02.123: %SYS-5-CONFIG_I: Configured from console by vty0 (uid 0)".
//
//   daemon::event(kNotifications, "SIP", "REGISTRAR_STATUS", "Registrar %d is down", 1);
#pragma once

#include <functional>
#include <string_view>

#include "regfront/daemon/log_buffer.h"

namespace regfront::daemon {

void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

void event(int severity, const char* facility, const char* mnemonic, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// The process's logging buffer (`show logging`, `logging buffered`, `clear logging`).
LogBuffer& log_buffer();

// Where event() also hands each line, as the buffer holds it (without its newline), with its
// severity: the daemon streams it to its `terminal monitor` sessions. Empty: nowhere. Control
// thread only, as event().
void set_monitor_sink(std::function<void(int severity, std::string_view line)> sink);

}  // namespace regfront::daemon
