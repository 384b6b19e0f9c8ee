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
//   std::string err;
//   if (!regfront::config::save_startup_config("/etc/regfront/startup-config",
//                                              regfront::config::render_running_config(cfg), err))
//     message = "% " + err;
#pragma once

#include <string>

namespace regfront::config {

// Replaces the file at `path` with `text` crash-safely (see above). The new file keeps the mode
// of the one it replaces, 0600 when there was none (it holds passwords). Returns false and a
// reason in `err` (the old file then stays as it was and the temporary file is removed).
bool save_startup_config(const std::string& path, const std::string& text, std::string& err);

}  // namespace regfront::config
