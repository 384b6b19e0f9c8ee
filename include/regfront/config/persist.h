// regfront/config/persist.h — writing the startup-config so that a crash never leaves half a
// file.
//
// `write memory` / `copy running-config startup-config` replace the startup-config. The new
// text goes to a temporary file in the same directory, which is flushed to disk and then
// renamed over the old file (rename(2) replaces a name atomically); the directory is flushed
// last so that the rename itself survives a power cut. A process killed at any moment leaves
// the file with the old or the new content, whole; at worst a stale "PATH.tmp.PID" stays
// beside it (never read; remove_stale_temporaries() removes it at the next start or save).
//
// Reading is as strict as writing: read_startup_config() takes only a regular file it can read
// to the end, and says why not otherwise (a directory is not an empty configuration, and a read
// error part-way is not an end of file).
//
//   regfront::Status s = regfront::config::save_startup_config(
//       "/etc/regfront/startup-config", regfront::config::render_running_config(cfg));
//   if (!s.ok()) log("write memory failed: %s", s.message().c_str());
//                                    // "cannot create /etc/regfront/startup-config.tmp.42: …"
#pragma once

#include <cstddef>
#include <string>

#include "regfront/common/status.h"

namespace regfront::config {

// Replaces the file at `path` with `text` crash-safely (see above). The new file keeps the mode
// of the one it replaces, 0600 when there was none (it holds passwords). On failure the
// Status says which step failed and the system's reason ("cannot replace PATH: Is a
// directory"): not_found when the directory is missing, resource_exhausted when the disk or
// quota is full, failed_precondition when permission is denied, internal otherwise. The old
// file then stays as it was and the temporary file is removed; only when flushing the
// directory fails is the new file already in place (not yet known to be durable).
Status save_startup_config(const std::string& path, const std::string& text);

// The whole text of the startup-config at `path`. Refused, with "PATH: reason", when `path` is
// not a regular file ("is a directory", "is a FIFO", "is a character device", …), cannot be
// opened ("Permission denied"), fails to read part-way (the system's reason, e.g.
// "Input/output error"), or is larger than kMaxStartupConfigBytes. Never blocks on a FIFO.
// Codes: not_found (no such file), failed_precondition (not a regular file, permission),
// resource_exhausted (too large), internal (read errors).
inline constexpr std::size_t kMaxStartupConfigBytes = std::size_t{1} << 30;  // 1 GiB
StatusOr<std::string> read_startup_config(const std::string& path);

// Removes the temporary files a save killed part-way left beside `path` ("PATH.tmp.PID" whose
// process is gone; never this process's, never one whose process still runs). Returns how many
// it removed. Called at start-up and before every save.
std::size_t remove_stale_temporaries(const std::string& path);

}  // namespace regfront::config
