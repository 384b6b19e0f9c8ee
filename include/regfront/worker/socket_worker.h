// regfront/worker/socket_worker.h — a worker over the kernel-socket backend (the embedded
// default): one thread, one UDP socket (listen port + worker id), its poll loop.
//
//   SocketWorker w(opts, publisher.qsbr(), publisher.current_ptr());
//   if (Status s = w.open(local, len); !s.ok()) refuse(s);
//   w.start();  …  w.request_shutdown(); w.join();
#pragma once

#include <sys/socket.h>

#include <thread>

#include "regfront/common/status.h"
#include "regfront/io/socket_io.h"
#include "regfront/worker/request_handoff.h"
#include "regfront/worker/worker.h"

namespace regfront::worker {

class SocketWorker : public Worker {
 public:
  // `handoff`: the rings between the workers (nullptr with one worker).
  SocketWorker(const WorkerOptions& o, rte_rcu_qsbr* qs, const std::atomic<const reg::Snapshot*>& current,
               RequestHandoff* handoff = nullptr);
  ~SocketWorker() override;
  // Set-up, control thread: binds the worker's UDP socket to `local`.
  Status open(const sockaddr_storage& local, socklen_t len) { return io_.open(local, len); }
  void start() override;
  void join() override;
  std::uint64_t io_errors() const override { return io_.tx_errors.get() + handoff_drops_.get(); }
  void io_counters(std::vector<std::pair<std::string, std::uint64_t>>& out) const override;
  const io::SocketIo& io() const { return io_; }

 private:
  void run();
  bool hand_off_request(std::uint32_t to, std::string_view datagram, const sockaddr_storage& src) override;

  io::SocketIo io_;
  RequestHandoff* handoff_;
  Counter handoff_out_, handoff_in_, handoff_drops_, handoff_wakeups_;
  Counter sleeps_on_socket_, sleeps_coalesced_;
  long coalesce_ns_;  // --socket-coalesce in ns; 0: every sleep watches the socket
  std::thread thread_;
};

}  // namespace regfront::worker
