// regfront/dns/resolver.h — asynchronous DNS for registrar names, on the control thread.
//
// A thin owner of a c-ares channel that fits the control loop's poll(): the loop asks for the
// descriptors to watch and a timeout, and hands back readiness. Results carry the smallest TTL
// of the answer so the caller re-resolves when it runs out.
//
//   Resolver r;
//   r.lookup("registrar.example.com", 5060, [](const Resolver::Result& res) { ... });
//   for (;;) { auto fds = r.pollfds(); poll(fds…, r.timeout_ms(1000)); r.process(fds); }
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace regfront::dns {

class Resolver {
 public:
  struct Result {
    bool ok = false;
    std::string error;                       // c-ares' message when !ok
    std::vector<sockaddr_storage> addresses; // IPv4 first, then IPv6, port filled in
    std::vector<socklen_t> lengths;
    std::uint32_t ttl_s = 0;                 // smallest TTL of the answer (0 = none given)
  };
  using Callback = std::function<void(const Result&)>;

  Resolver();
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  void lookup(const std::string& host, std::uint16_t port, Callback cb);
  std::vector<pollfd> pollfds() const;
  int timeout_ms(int max_ms) const;
  void process(const std::vector<pollfd>& fds);

 private:
  void* channel_ = nullptr;
  int pending_ = 0;
  friend struct ResolverAccess;
};

}  // namespace regfront::dns
