// regfront/config/persist.h — writing the startup-config so that a crash never leaves half a
// file.
//
// `write memory` / `copy running-config startup-config` replace the startup-config. The new
// text goes to a temporary file in the same directory, which is flushed to disk and then
// renamed over the old file (rename(2) replaces a name atomically); the directory is flushed
// last so that the rename itself survives a power cut. A process killed at any moment leaves
// the file with the old or the new content, whole; at worst a stale "PATH.tmp.PID" stays
// beside it (never read, overwritten by the next save of the same process id).
//
//   regfront::Status s = regfront::config::save_startup_config(
//       "/etc/regfront/startup-config", regfront::config::render_running_config(cfg));
//   if (!s.ok()) log("write memory failed: %s", s.message().c_str());
//                                    // "cannot create /etc/regfront/startup-config.tmp.42: …"
#pragma once

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

}  // namespace regfront::config
