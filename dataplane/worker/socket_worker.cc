// A worker thread over the socket backend.
//
// Loop order, and why:
//   1. open the read section: pick up the current snapshot (one acquire load) — a new one is
//      adopted before any packet is looked at, so responses are matched against the plan the
//      control plane published;
//   2. RX burst → engine;
//   3. timers and paced starts, then one flush of TX — answers to challenges leave within the
//      same iteration as the paced starts, in one sendmmsg;
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
// Coalescing, the way NAPI defers a NIC's interrupts while packets flow: a registrar answers
// one datagram at a time, and a worker that woke for each paid a wake-up, a ppoll, a recvmmsg
// and a sendmmsg per datagram (perf/scenarios/compare_uac.py). While traffic flows — this
// iteration sent something (requests and challenge answers whose replies are due), read more
// than one datagram, or is a coalesced wake-up that found any — the next sleep watches the
// socket for errors only and lasts the coalescing interval (--socket-coalesce, not shortened by the
// engine's deadline: paced starts and timers wait for the wake-up); it then reads everything
// that arrived in one recvmmsg. A coalesced
// wake-up that finds nothing and sends nothing goes back to sleeping on the socket, so a lone
// datagram after a quiet spell is read at once. The cost is latency while busy: a reply waits
// up to the interval in the socket before it is read (the engine's challenge-answer time
// starts when it is read). A full burst never sleeps, so the interval never meets a full
// receive buffer at rates the buffer does not absorb.
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
    : Worker(o, qs, current, &io::SocketIo::flush_hook, &io_), handoff_(handoff),
      coalesce_ns_(static_cast<long>(o.socket_coalesce_us) * 1000L) {}

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
  out.emplace_back("recvmmsg_calls", io_.rx_calls.get());
  out.emplace_back("recvmmsg_datagrams", io_.rx_datagrams.get());
  out.emplace_back("sendmmsg_calls", io_.tx_calls.get());
  out.emplace_back("sendmmsg_datagrams", io_.tx_datagrams.get());
  out.emplace_back("sleeps_on_socket", sleeps_on_socket_.get());
  out.emplace_back("sleeps_coalesced", sleeps_coalesced_.get());
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
  bool coalesced = false;        // the last sleep was a coalescing one (socket not watched for input)
  std::uint64_t errors_checked_ms = 0;
  std::uint64_t now = 0;
  for (;;) {
    now = monotonic_ms();
    std::size_t n;
    std::uint64_t wake_at = now;
    const std::uint64_t sent_before = io_.tx_datagrams.get();  // flush-hook sends included
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
      advance(pin, now);
      io_.flush(tx_);
      serve_dump(pin, now);
      if (n < io::SocketIo::kBurst) wake_at = next_deadline_ms(pin);
    }
    after_section();
    if (finished(now)) break;
    const std::uint64_t wait = wake_at > now ? std::min<std::uint64_t>(wake_at - now, 5) : 0;
    // Traffic flows: replies are due to what was just sent, or datagrams came together.
    coalesced = coalesce_ns_ > 0 && (io_.tx_datagrams.get() != sent_before || n > 1 || (coalesced && n > 0));
    if (wait > 0 && !dump_pending()) {
      // Not when a request was handed over since the drain above (sleep_begin sees it).
      if (handoff_ == nullptr || !handoff_->sleep_begin(id_)) {
        SnapshotReader::Offline sleeping(reader_);
        long ns = static_cast<long>(wait) * 1000000L;
        // Coalescing sleeps the whole interval even when the engine's next deadline is sooner
        // (the next paced start, a timer): the pacer's bucket holds 20 ms of tokens, so the starts
        // of the interval go out together at the wake-up, and a timer is at most the interval late.
        if (coalesced) ns = coalesce_ns_;
        // Coalescing: POLLERR (always reported) still ends the sleep, input does not.
        pfd[0].events = coalesced ? 0 : POLLIN;
        (coalesced ? sleeps_coalesced_ : sleeps_on_socket_).inc();
        const timespec ts{ns / 1000000000L, ns % 1000000000L};
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
