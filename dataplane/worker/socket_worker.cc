// A worker thread over the socket backend.
//
// Loop order, and why:
//   1. open the read section: pick up the current snapshot (one acquire load) — a new one is
//      adopted before any packet is looked at, so responses are matched against the plan the
//      control plane published;
//   2. RX burst → engine, then flush TX — answers to challenges leave within the same iteration;
//   3. timers and paced starts → flush TX;
//   4. serve a pending status dump (chunked, so a large dump never stalls the loop);
//   5. when the burst was not full, the time the engine next has work — read from the snapshot,
//      so computed here, inside the section;
//   6. close the section: the quiescent report (rte_rcu_qsbr) — after it the previous snapshot
//      may be freed, and nothing below can reach it (no pin);
//   7. idle: when the burst was not full, go offline for QSBR and sleep in ppoll until the
//      socket is readable or the engine's deadline (bounded to 5 ms), so an idle box does not
//      spin. A partial burst means the socket was drained: asking it again with recvmmsg would
//      only cost a system call that returns nothing (ppoll returns at once if more arrived).
//      A request another worker hands over wakes it through the hand-off's eventfd.
// System calls per wake-up are what a socket worker pays per registration when the registrar
// answers one datagram at a time (perf/scenarios/compare_uac.py): ppoll, recvmmsg, sendmmsg.
// The ICMP error queue is read only when ppoll reports POLLERR, or once per millisecond while
// busy (ppoll is then skipped), instead of with one failing recvmsg per iteration.
#include "regfront/worker/socket_worker.h"

#include <poll.h>
#include <time.h>

#include <algorithm>

#include "regfront/common/clock.h"

namespace regfront::worker {

SocketWorker::SocketWorker(const WorkerOptions& o, rte_rcu_qsbr* qs, const std::atomic<const reg::Snapshot*>& current,
                           RequestHandoff* handoff)
    : Worker(o, qs, current, &io::SocketIo::flush_hook, &io_), handoff_(handoff) {}

bool SocketWorker::hand_off_request(std::uint32_t to, std::string_view datagram, const sockaddr_storage& src) {
  if (handoff_ == nullptr) return false;
  bool woke = false;
  if (!handoff_->push(id_, to, datagram, src, &woke)) {
    handoff_drops_.inc();  // handled here instead
    return false;
  }
  handoff_out_.inc();
  if (woke) handoff_wakeups_.inc();
  return true;
}

void SocketWorker::io_counters(std::vector<std::pair<std::string, std::uint64_t>>& out) const {
  if (handoff_ == nullptr) return;
  out.emplace_back("handoff_out", handoff_out_.get());
  out.emplace_back("handoff_in", handoff_in_.get());
  out.emplace_back("handoff_drop", handoff_drops_.get());
  out.emplace_back("handoff_wakeups", handoff_wakeups_.get());
}

SocketWorker::~SocketWorker() { join(); }

void SocketWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void SocketWorker::join() {
  if (thread_.joinable()) thread_.join();
}

void SocketWorker::run() {
  begin_thread();
  // The socket, and the eventfd through which a request handed to this worker wakes it.
  pollfd pfd[2] = {{io_.fd(), POLLIN, 0}, {handoff_ != nullptr ? handoff_->wake_fd(id_) : -1, POLLIN, 0}};
  bool errors_signalled = true;  // look once at start
  bool polled = false;           // the last iteration slept in ppoll: its revents are current
  std::uint64_t errors_checked_ms = 0;
  std::uint64_t now = 0;
  for (;;) {
    now = monotonic_ms();
    std::size_t n;
    std::uint64_t wake_at = now;
    {
      ReadSection pin(reader_);
      pick_up(pin, now);
      n = io_.rx_burst([&](std::string_view d, const sockaddr_storage& src, socklen_t len) {
        on_datagram(pin, d, src, len, now);
      });
      if (handoff_ != nullptr) {
        handoff_in_.inc(handoff_->drain(id_, [&](std::string_view d, const sockaddr_storage& src, socklen_t len) {
          on_datagram(pin, d, src, len, now);
        }));
      }
      // After a ppoll, POLLERR says whether the queue holds anything; without one (busy), look
      // once per millisecond.
      if (errors_signalled || (!polled && now != errors_checked_ms)) {
        io_.drain_errors([&](const sockaddr_storage& dst, std::string_view quoted) {
          engine_.on_unreachable(pin, dst, quoted, now);
        });
        errors_signalled = false;
        errors_checked_ms = now;
      }
      polled = false;
      io_.flush(tx_);
      advance(pin, now);
      io_.flush(tx_);
      serve_dump(pin, now);
      if (n < io::SocketIo::kBurst) wake_at = next_deadline_ms(pin);
    }
    after_section();
    if (finished(now)) break;
    const std::uint64_t wait = wake_at > now ? std::min<std::uint64_t>(wake_at - now, 5) : 0;
    if (wait > 0 && !dump_pending()) {
      // Not when a request was handed over since the drain above (sleep_begin sees it).
      if (handoff_ == nullptr || !handoff_->sleep_begin(id_)) {
        SnapshotReader::Offline sleeping(reader_);
        const timespec ts{0, static_cast<long>(wait) * 1000000L};
        pfd[0].revents = pfd[1].revents = 0;
        ::ppoll(pfd, 2, &ts, nullptr);
        if (pfd[0].revents & POLLERR) errors_signalled = true;
        polled = true;
      }
      if (handoff_ != nullptr) handoff_->sleep_end(id_, (pfd[1].revents & POLLIN) != 0);
      pfd[1].revents = 0;
    }
  }
  end_thread(now);
}

}  // namespace regfront::worker
