// Giving memory back (see regfront/daemon/memory.h).
#include "regfront/daemon/memory.h"

#include <jemalloc/jemalloc.h>

#include <cstdio>

namespace regfront::daemon {

void purge_freed_pages() {
  char name[32];
  std::snprintf(name, sizeof name, "arena.%u.purge", static_cast<unsigned>(MALLCTL_ARENAS_ALL));
  mallctl(name, nullptr, nullptr, nullptr, 0);
}

void start_page_decay_thread() {
  bool on = true;
  mallctl("background_thread", nullptr, nullptr, &on, sizeof on);
}

}  // namespace regfront::daemon
