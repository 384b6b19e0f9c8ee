// regfront/daemon/memory.h — how regfrontd's control plane gives memory back (jemalloc).
//
// A snapshot build frees about as much as it keeps (the previous snapshot; at start-up the
// loader's text and indexes). jemalloc keeps such pages dirty until its decay time has passed
// *and* the arena allocates again, which on a control thread that sits idle between commands
// means indefinitely (~200 MiB at 600k bindings). So: purge after each publication, and a
// background thread that returns pages freed elsewhere (workers' set-up, CLI sessions, the
// resolver) as they age.
//
//   start_page_decay_thread();     // once, at start-up
//   publisher.publish(…); purge_freed_pages();
#pragma once

namespace regfront::daemon {

// Returns the pages of freed memory to the kernel now (a few ms of madvise). Control thread.
void purge_freed_pages();

// Starts jemalloc's background thread, which returns dirty pages as they age (dirty_decay_ms,
// 10 s by default) whether or not the arena allocates again.
void start_page_decay_thread();

}  // namespace regfront::daemon
