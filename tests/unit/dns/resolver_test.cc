// regfront/dns/resolver.h through the poll interface, without the network: `localhost` comes
// from /etc/hosts, and a name that is not there goes to a loopback port where no name server
// listens, instead of the machine's DNS. Every wait is bounded: a test can fail, never hang.
#include "regfront/dns/resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>

#include <chrono>
#include <optional>

namespace regfront::dns {
namespace {

using Clock = std::chrono::steady_clock;

// Runs the control loop's poll cycle until `done` or `limit` passed; true when done.
template <class Done>
bool run_until(Resolver& r, Done done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::vector<pollfd> fds = r.pollfds();
    ::poll(fds.data(), fds.size(), r.timeout_ms(50));
    r.process(fds);
  }
  return true;
}

// A name server nobody listens on: the query is refused (ICMP port unreachable) or, where
// that ICMP is not delivered (some sandboxes), times out after one try of 200 ms.
ResolverOptions refusing_server() {
  ResolverOptions o;
  o.servers = "127.0.0.1:1";
  o.timeout_ms = 200;
  o.tries = 1;
  return o;
}

TEST(Resolver, LocalhostFromTheHostsFile) {
  auto made = Resolver::create(refusing_server());  // the hosts file answers; DNS is not asked
  ASSERT_TRUE(made.ok()) << made.status().message();
  Resolver& r = **made;
  std::optional<Resolver::Result> got;
  r.lookup("localhost", 5060, [&](const Resolver::Result& res) { got = res; });
  ASSERT_TRUE(run_until(r, [&] { return got.has_value(); }, std::chrono::seconds(5)));
  ASSERT_TRUE(got->status.ok()) << got->status.message();
  ASSERT_FALSE(got->addresses.empty());
  ASSERT_EQ(got->addresses.size(), got->lengths.size());
  // IPv4 first; the port is filled in.
  const sockaddr_storage& first = got->addresses.front();
  if (first.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(first);
    EXPECT_EQ(ntohs(in.sin_port), 5060);
    EXPECT_EQ(ntohl(in.sin_addr.s_addr) >> 24, 127u);
    EXPECT_EQ(got->lengths.front(), sizeof(sockaddr_in));
  } else {
    ASSERT_EQ(first.ss_family, AF_INET6);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6&>(first).sin6_port), 5060);
  }
  EXPECT_EQ(r.timeout_ms(1000), 1000);  // nothing pending: the loop's own timeout
}

TEST(Resolver, UnknownNameIsAFailedStatus) {
  auto made = Resolver::create(refusing_server());
  ASSERT_TRUE(made.ok()) << made.status().message();
  Resolver& r = **made;
  std::optional<Resolver::Result> got;
  r.lookup("nonexistent.invalid", 5060, [&](const Resolver::Result& res) { got = res; });
  ASSERT_TRUE(run_until(r, [&] { return got.has_value(); }, std::chrono::seconds(10)));
  EXPECT_FALSE(got->status.ok());
  EXPECT_NE(got->status.code(), StatusCode::internal) << got->status.message();
  EXPECT_FALSE(got->status.message().empty());
  EXPECT_TRUE(got->addresses.empty());
}

TEST(Resolver, PendingLookupsAreAnsweredWhenTheResolverGoes) {
  ResolverOptions o = refusing_server();
  o.timeout_ms = 5000;  // still in flight when the resolver is destroyed
  auto made = Resolver::create(o);
  ASSERT_TRUE(made.ok()) << made.status().message();
  std::optional<Resolver::Result> got;
  (*made)->lookup("nonexistent.invalid", 5060, [&](const Resolver::Result& res) { got = res; });
  made->reset();
  ASSERT_TRUE(got.has_value());  // c-ares answers what is pending when its channel goes
  EXPECT_FALSE(got->status.ok());
  EXPECT_FALSE(got->status.message().empty());
}

TEST(Resolver, BadServerListIsRefusedAtCreation) {
  ResolverOptions o;
  o.servers = "not an address";
  auto made = Resolver::create(o);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace regfront::dns
