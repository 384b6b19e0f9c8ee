// regfront/common/check.h — the project's assertions, and when to use which.
//
//   REGFRONT_DCHECK(cond)   debug builds only (compiled out with NDEBUG). For invariants of our
//                           own code that are cheap to state and expensive to check on the hot
//                           path: "this runs on the control thread", "the engine's snapshot is
//                           the one pinned". A failure is a bug in regfront.
//   REGFRONT_CHECK(cond)    every build. For set-up invariants whose violation would corrupt
//                           state if execution went on (a table sized wrong at start-up). Never
//                           in a per-packet path, never on anything read from the network, a
//                           file or an operator: those are errors to report (Status) or
//                           malformed input to count and drop.
//   a counter               for "should not happen" on the data path that an outside party can
//                           make happen (a forged response, a full ring): counted, visible in
//                           `show`, and the packet dropped. See the X-macro counter sets.
//
//   REGFRONT_DCHECK(publisher_thread_ == std::this_thread::get_id());
#pragma once

#include <cstdio>
#include <cstdlib>

namespace regfront::detail {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace regfront::detail

#define REGFRONT_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::regfront::detail::check_failed(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define REGFRONT_DCHECK(cond) static_cast<void>(sizeof(static_cast<bool>(cond)))
#else
#define REGFRONT_DCHECK(cond) REGFRONT_CHECK(cond)
#endif
