// The socket workers' request hand-off: a request pushed to a sleeping worker wakes it through
// its eventfd, a worker that is awake is not signalled, and no wake-up is ever lost between a
// worker deciding to sleep and a request arriving.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <time.h>

#include <atomic>
#include <string>
#include <thread>

#include "regfront/worker/request_handoff.h"

namespace regfront::worker {
namespace {

sockaddr_storage source() {
  sockaddr_storage ss{};
  auto& in = reinterpret_cast<sockaddr_in&>(ss);
  in.sin_family = AF_INET;
  in.sin_port = htons(5070);
  in.sin_addr.s_addr = htonl(0x7f000001);
  return ss;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

std::size_t drain(RequestHandoff& h, std::uint32_t to, std::string* last = nullptr) {
  return h.drain(to, [&](std::string_view d, const sockaddr_storage&, socklen_t) {
    if (last != nullptr) *last = std::string(d);
  });
}

TEST(RequestHandoff, AnAwakeWorkerIsNotSignalled) {
  RequestHandoff h(2);
  ASSERT_GE(h.wake_fd(1), 0);
  bool woke = false;
  ASSERT_TRUE(h.push(0, 1, "INVITE a", source(), &woke));
  EXPECT_FALSE(woke);
  EXPECT_FALSE(readable(h.wake_fd(1))) << "no system call for a worker that will drain anyway";
  std::string got;
  EXPECT_EQ(drain(h, 1, &got), 1u);
  EXPECT_EQ(got, "INVITE a");
}

TEST(RequestHandoff, ASleepingWorkerIsWokenAndTheWakeUpConsumed) {
  RequestHandoff h(3);
  EXPECT_FALSE(h.sleep_begin(2)) << "nothing waits: it may sleep";
  bool woke = false;
  ASSERT_TRUE(h.push(1, 2, "INVITE b", source(), &woke));
  EXPECT_TRUE(woke);
  EXPECT_TRUE(readable(h.wake_fd(2)));
  EXPECT_FALSE(readable(h.wake_fd(0))) << "only the owner is woken";
  h.sleep_end(2, true);
  EXPECT_FALSE(readable(h.wake_fd(2))) << "consumed: the next sleep is not cut short";
  EXPECT_EQ(drain(h, 2), 1u);
  woke = false;
  ASSERT_TRUE(h.push(1, 2, "INVITE c", source(), &woke));
  EXPECT_FALSE(woke) << "awake again after sleep_end";
}

TEST(RequestHandoff, ARequestAlreadyWaitingKeepsTheWorkerAwake) {
  RequestHandoff h(2);
  ASSERT_TRUE(h.push(0, 1, "INVITE d", source()));
  EXPECT_TRUE(h.sleep_begin(1));
  h.sleep_end(1, false);
  EXPECT_EQ(drain(h, 1), 1u);
  EXPECT_FALSE(h.sleep_begin(1));
  h.sleep_end(1, false);
}

// One sender, one owner that sleeps whenever it finds nothing, with a timeout far longer than the
// test: a lost wake-up shows as a sleep that ended by its timeout (and a slow test), not as a
// flaky timing.
TEST(RequestHandoff, NoWakeUpIsLostBetweenTheDecisionToSleepAndAPush) {
  constexpr int kRequests = 20000;
  RequestHandoff h(2);
  std::atomic<int> received{0};
  std::atomic<bool> lost{false};
  int sleeps = 0;
  std::thread owner([&] {
    pollfd p{h.wake_fd(1), POLLIN, 0};
    while (received.load(std::memory_order_relaxed) < kRequests) {
      received.fetch_add(static_cast<int>(drain(h, 1)), std::memory_order_relaxed);
      if (received.load(std::memory_order_relaxed) >= kRequests) break;
      if (!h.sleep_begin(1)) {
        ++sleeps;
        const timespec ts{5, 0};
        p.revents = 0;
        if (::ppoll(&p, 1, &ts, nullptr) == 0 && drain(h, 1) != 0) {
          lost.store(true);  // the timeout ended the sleep while a request waited
          return;
        }
      }
      h.sleep_end(1, (p.revents & POLLIN) != 0);
      p.revents = 0;
    }
  });
  for (int i = 0; i < kRequests; ++i) {
    while (!h.push(0, 1, "INVITE e", source()) && !lost.load()) std::this_thread::yield();  // full: the owner drains
    if (lost.load()) break;
    if (i % 64 == 0) std::this_thread::yield();
  }
  owner.join();
  EXPECT_FALSE(lost.load()) << "a request waited through a whole sleep with nobody woken (" << sleeps << " sleeps)";
  EXPECT_EQ(received.load(), kRequests);
  EXPECT_GT(sleeps, 0) << "the owner never slept: nothing was tested";
}

}  // namespace
}  // namespace regfront::worker
