// The DPDK backend's plan (see regfront/io/dpdk_plan.h).
#include "regfront/io/dpdk_plan.h"

#include <netinet/in.h>

#include <cstring>

namespace regfront::io {

std::string DpdkPlan::local_ip(int family) const {
  if (family == AF_INET) return source4.family ? source4.to_string() : std::string();
  return source6.family ? "[" + source6.to_string() + "]" : std::string();
}

const net::IpAddr* DpdkPlan::source(int family) const {
  const net::IpAddr& a = family == AF_INET ? source4 : source6;
  return a.family ? &a : nullptr;
}

net::Endpoint to_endpoint(const sockaddr_storage& ss) {
  net::Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto& s4 = reinterpret_cast<const sockaddr_in&>(ss);
    e.addr.family = 4;
    std::memcpy(e.addr.b.data(), &s4.sin_addr, 4);
    e.port = ntohs(s4.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& s6 = reinterpret_cast<const sockaddr_in6&>(ss);
    e.addr.family = 6;
    std::memcpy(e.addr.b.data(), &s6.sin6_addr, 16);
    e.port = ntohs(s6.sin6_port);
  }
  return e;
}

socklen_t to_sockaddr(const net::Endpoint& e, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (e.addr.family == 4) {
    auto& s4 = reinterpret_cast<sockaddr_in&>(ss);
    s4.sin_family = AF_INET;
    std::memcpy(&s4.sin_addr, e.addr.b.data(), 4);
    s4.sin_port = htons(e.port);
    return sizeof(sockaddr_in);
  }
  auto& s6 = reinterpret_cast<sockaddr_in6&>(ss);
  s6.sin6_family = AF_INET6;
  std::memcpy(&s6.sin6_addr, e.addr.b.data(), 16);
  s6.sin6_port = htons(e.port);
  return sizeof(sockaddr_in6);
}

}  // namespace regfront::io
