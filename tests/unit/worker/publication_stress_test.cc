// Publication under load: real socket workers register a few thousand bindings with two
// registrars on loopback (an in-process responder answering REGISTER with 200) while the test,
// as the control thread, rebuilds and publishes snapshots in a tight loop — registrar 2 added
// and removed, so bindings start and unregister — and asks the workers for status dumps. Run
// under ASan (a snapshot read after its grace period is a use-after-free) and TSan (a race
// between publication, dumps and the loops is reported), as well as in the release build, where
// it also checks that the loops did not allocate.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "regfront/common/clock.h"
#include "regfront/config/commands.h"
#include "regfront/snapshot/builder.h"
#include "regfront/sip/message.h"
#include "regfront/snapshot/publisher.h"
#include "regfront/worker/socket_worker.h"

namespace regfront::worker {
namespace {

constexpr int kEndpoints = 2000;
constexpr int kWorkers = 2;

// A UDP socket on 127.0.0.1, any port.
int udp_socket(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int size = 8 << 20;  // the storm arrives in bursts: hold them rather than drop them
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) return -1;
  socklen_t len = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  port = ntohs(sin.sin_port);
  return fd;
}

// Two registrars that accept every REGISTER (200, the Contact echoed with its expiry).
class Responder {
 public:
  Responder() {
    for (int i = 0; i < 2; ++i) fds_[i] = udp_socket(ports_[i]);
    thread_ = std::thread([this] { run(); });
  }
  ~Responder() {
    stop_.store(true);
    thread_.join();
    for (int fd : fds_) ::close(fd);
  }
  std::uint16_t port(int i) const { return ports_[i]; }
  std::uint64_t answered() const { return answered_.load(); }

 private:
  void run() {
    char buf[4096];
    pollfd p[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
    while (!stop_.load()) {
      ::poll(p, 2, 10);
      for (int i = 0; i < 2; ++i) {
        for (;;) {
          sockaddr_storage from{};
          socklen_t flen = sizeof from;
          const ssize_t n = ::recvfrom(fds_[i], buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
          if (n <= 0) break;
          const std::string r = answer(std::string_view(buf, std::size_t(n)));
          if (r.empty()) continue;
          ::sendto(fds_[i], r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
          answered_.fetch_add(1);
        }
      }
    }
  }
  static std::string answer(std::string_view req) {
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    if (sip::parse(req, m, hs) != sip::ParseStatus::ok || !m.is_request) return {};
    const auto h = [&](sip::HeaderId id) {
      const sip::Header* x = m.first(id);
      return x ? std::string(x->value) : std::string();
    };
    const std::string expires = h(sip::HeaderId::expires) == "0" ? "0" : "300";
    return "SIP/2.0 200 OK\r\nVia: " + h(sip::HeaderId::via) + "\r\nFrom: " + h(sip::HeaderId::from) +
           "\r\nTo: " + h(sip::HeaderId::to) + ";tag=r\r\nCall-ID: " + h(sip::HeaderId::call_id) +
           "\r\nCSeq: " + h(sip::HeaderId::cseq) + "\r\nContact: " + h(sip::HeaderId::contact) +
           ";expires=" + expires + "\r\nContent-Length: 0\r\n\r\n";
  }

  int fds_[2] = {-1, -1};
  std::uint16_t ports_[2] = {};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> answered_{0};
  std::thread thread_;
};

std::string config_text(const Responder& r, bool second_registrar) {
  std::string t = "sip-ua\n registrar 1 ipv4:127.0.0.1:" + std::to_string(r.port(0)) + " expires 300\n";
  if (second_registrar) t += " registrar 2 ipv4:127.0.0.1:" + std::to_string(r.port(1)) + " expires 300\n";
  t += " registration rate 20000\n";
  for (int i = 0; i < kEndpoints; ++i) {
    t += " credentials number 7" + std::to_string(100000 + i) + " username u" + std::to_string(i) +
         " password 0 p realm stress.test\n";
  }
  return t;
}

snapshot::RegistrarAddresses addresses(const Responder& r) {
  snapshot::RegistrarAddresses a;
  for (int i = 0; i < 2; ++i) {
    snapshot::ResolvedRegistrar rr;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(r.port(i));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::memcpy(&rr.addr, &sin, sizeof sin);
    rr.addr_len = sizeof sin;
    rr.local_ip = "127.0.0.1";
    a[std::size_t(i)] = rr;
  }
  return a;
}

TEST(PublicationStress, PublishingInATightLoopWhileWorkersRegister) {
  Responder responder;
  config::Config with2, with1;
  ASSERT_TRUE(config::load_startup_config(config_text(responder, true), with2).ok());
  ASSERT_TRUE(config::load_startup_config(config_text(responder, false), with1).ok());
  const snapshot::RegistrarAddresses addrs = addresses(responder);

  // Workers on two consecutive free ports (worker i speaks from listen port + i).
  snapshot::Publisher pub(kWorkers);
  snapshot::Builder builder(kWorkers);
  std::vector<std::unique_ptr<SocketWorker>> workers;
  std::uint16_t listen = 0;
  for (int attempt = 0; attempt < 50 && workers.size() < kWorkers; ++attempt) {
    workers.clear();
    listen = std::uint16_t(20000 + (::getpid() * 7 + attempt * 131) % 40000);
    for (std::uint32_t i = 0; i < kWorkers; ++i) {
      WorkerOptions o;
      o.id = i;
      o.shutdown_timeout_s = 5;
      o.engine.worker = i;
      o.engine.capacity = 8192;
      o.engine.seed = 1 + i;
      o.engine.key = SipKey{3, 4};
      o.engine.via_port = std::uint16_t(listen + i);
      auto w = std::make_unique<SocketWorker>(o, pub.qsbr(), pub.current_ptr());
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = htons(std::uint16_t(listen + i));
      sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sockaddr_storage ss{};
      std::memcpy(&ss, &sin, sizeof sin);
      if (!w->open(ss, sizeof sin).ok()) break;
      workers.push_back(std::move(w));
    }
  }
  ASSERT_EQ(workers.size(), std::size_t{kWorkers}) << "no two free consecutive ports";

  pub.publish(builder.build(with2, addrs, listen, {}, nullptr, 0, {}));
  for (auto& w : workers) w->start();

  // The control thread: publish as fast as snapshots build, toggling registrar 2 every 20
  // publications, with a status dump of one worker every 10.
  std::uint64_t published = 1, dumps_ok = 0;
  std::vector<reg::BindingStatus> rows;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  for (int i = 0; i < 400 && std::chrono::steady_clock::now() < deadline; ++i) {
    const bool second = (i / 20) % 2 == 0;
    pub.publish(builder.build(second ? with2 : with1, addrs, listen, {}, pub.current(), monotonic_ms(), {}));
    ++published;
    pub.reclaim();
    if (i % 10 == 0) {
      SocketWorker& w = *workers[std::size_t(i / 10) % kWorkers];
      std::uint64_t version = 0;
      if (w.dump(rows, version, pub.current()->plans[w.id()].size()) && !rows.empty()) ++dumps_ok;
    }
  }
  // Settle on both registrars, then let the workers finish what they started.
  pub.publish(builder.build(with2, addrs, listen, {}, pub.current(), monotonic_ms(), {}));
  ++published;
  const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::uint64_t accepted = 0;
  while (std::chrono::steady_clock::now() < settle) {
    pub.reclaim();
    std::uint32_t registered = 0;
    for (auto& w : workers) {
      std::uint64_t version = 0;
      if (!w->dump(rows, version, pub.current()->plans[w->id()].size())) continue;
      for (const reg::BindingStatus& b : rows) registered += b.state == reg::BindingState::registered;
    }
    if (registered == 2u * kEndpoints) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& w : workers) w->request_shutdown();
  for (auto& w : workers) w->join();
  pub.drain();

  for (auto& w : workers) {
    for (const auto& r : w->counters().registrar) accepted += r.accepted.get();
    EXPECT_GT(w->quiescent_reports(), published) << "a report per loop iteration";
    // (forged may count responses to transactions a toggle superseded: their slot moved on.)
    EXPECT_EQ(w->counters().parse_errors.get(), 0u);
    if (w->heap_tracked()) {
      EXPECT_EQ(w->heap_allocated(), 0u) << "worker " << w->id() << " allocated";
    }
  }
  EXPECT_GE(published, 50u);
  EXPECT_EQ(pub.reclaimed(), published - 1) << "every replaced snapshot freed, none twice";
  EXPECT_GT(dumps_ok, 0u);
  EXPECT_GE(accepted, 2u * kEndpoints) << "the bindings registered while snapshots changed under them";
  EXPECT_GT(responder.answered(), 2u * kEndpoints);
}

}  // namespace
}  // namespace regfront::worker
