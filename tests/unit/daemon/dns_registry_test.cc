// Registrar addresses (daemon::DnsRegistry): literals at once and once, a re-addressed or
// removed registrar forgets its address, a `dns:` name resolved through c-ares (from the hosts
// file: no network needed), and our local address asked for each.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <chrono>
#include <string>
#include <thread>

#include "regfront/config/commands.h"
#include "regfront/daemon/addresses.h"
#include "regfront/daemon/dns_registry.h"

namespace regfront::daemon {
namespace {

config::Config load(const std::string& text) {
  config::Config cfg;
  const auto r = config::load_startup_config(text, cfg);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().format());
  return cfg;
}

struct Fixture {
  int local_ip_calls = 0;
  DnsRegistry dns{std::move(*dns::Resolver::create()), [this](const sockaddr_storage& dst, socklen_t) {
    ++local_ip_calls;
    return dst.ss_family == AF_INET ? std::string("192.0.2.99") : std::string("[2001:db8::99]");
  }};
};

TEST(DnsRegistry, LiteralsAreKnownAtOnceAndOnce) {
  Fixture f;
  const config::Config cfg = load("sip-ua\n registrar 1 ipv4:192.0.2.10:5070\n registrar 3 ipv6:[2001:db8::10]\n");
  EXPECT_TRUE(f.dns.update(cfg, 1000));
  ASSERT_TRUE(f.dns.addresses()[0].has_value());
  EXPECT_EQ(ip_text(f.dns.addresses()[0]->addr), "192.0.2.10");
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in&>(f.dns.addresses()[0]->addr).sin_port), 5070);
  EXPECT_EQ(f.dns.addresses()[0]->local_ip, "192.0.2.99");
  ASSERT_TRUE(f.dns.addresses()[2].has_value());
  EXPECT_EQ(ip_text(f.dns.addresses()[2]->addr), "[2001:db8::10]");
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6&>(f.dns.addresses()[2]->addr).sin6_port), 5060);
  EXPECT_EQ(f.dns.addresses()[2]->local_ip, "[2001:db8::99]");
  EXPECT_FALSE(f.dns.addresses()[1].has_value());
  EXPECT_EQ(f.local_ip_calls, 2);
  EXPECT_FALSE(f.dns.update(cfg, 2000)) << "nothing changed";
  EXPECT_EQ(f.local_ip_calls, 2);
}

TEST(DnsRegistry, ReaddressedAndRemovedRegistrarsForgetTheirAddress) {
  Fixture f;
  EXPECT_TRUE(f.dns.update(load("sip-ua\n registrar 1 ipv4:192.0.2.10\n registrar 2 ipv4:192.0.2.20\n"), 0));
  EXPECT_TRUE(f.dns.update(load("sip-ua\n registrar 1 ipv4:192.0.2.11\n registrar 2 ipv4:192.0.2.20\n"), 0));
  EXPECT_EQ(ip_text(f.dns.addresses()[0]->addr), "192.0.2.11");
  EXPECT_TRUE(f.dns.update(load("sip-ua\n registrar 1 ipv4:192.0.2.11\n"), 0));
  EXPECT_FALSE(f.dns.addresses()[1].has_value());
  EXPECT_EQ(f.dns.entry(1).host, "");
}

TEST(DnsRegistry, NamesAreResolvedThroughTheResolver) {
  Fixture f;
  const config::Config cfg = load("sip-ua\n registrar 2 dns:localhost:5080\n");
  EXPECT_FALSE(f.dns.update(cfg, 0)) << "a name is reported through take_changed(), when the resolver answers";
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool changed = false;
  while (!changed && std::chrono::steady_clock::now() < until) {
    std::vector<pollfd> fds = f.dns.pollfds();
    ::poll(fds.data(), fds.size(), f.dns.timeout_ms(50));
    f.dns.process(fds);
    changed = f.dns.take_changed();
  }
  ASSERT_TRUE(changed) << "localhost resolved from the hosts file";
  ASSERT_TRUE(f.dns.addresses()[1].has_value());
  const std::string ip = ip_text(f.dns.addresses()[1]->addr);
  EXPECT_TRUE(ip == "127.0.0.1" || ip == "[::1]") << ip;
  EXPECT_FALSE(f.dns.entry(1).in_progress);
  EXPECT_TRUE(f.dns.entry(1).last_error.empty());
  EXPECT_GT(f.dns.entry(1).refresh_at_ms, 0u) << "looked up again when the TTL runs out";
  EXPECT_FALSE(f.dns.take_changed()) << "reported once";
}

}  // namespace
}  // namespace regfront::daemon

namespace regfront::daemon {
namespace {

config::Config with_target(config::SessionTargetKind kind, const std::string& host, std::uint16_t port) {
  config::Config cfg;
  config::DialPeer dp;
  dp.tag = 200;
  dp.type = config::DialPeerType::voip;
  dp.voip.emplace().session_target = {kind, host, port};
  cfg.dial_peers[200] = dp;
  return cfg;
}

TEST(DnsRegistry, SessionTargetsAreResolvedLikeRegistrars) {
  Fixture f;
  EXPECT_TRUE(f.dns.update(with_target(config::SessionTargetKind::ipv4, "192.0.2.9", 5070), 0));
  ASSERT_EQ(f.dns.target_addresses().count("192.0.2.9:5070"), 1u);
  EXPECT_EQ(f.dns.target_addresses().at("192.0.2.9:5070").local_ip, "192.0.2.99");
  EXPECT_FALSE(f.dns.update(with_target(config::SessionTargetKind::ipv4, "192.0.2.9", 5070), 0));
  EXPECT_TRUE(f.dns.update(config::Config{}, 0)) << "no dial peer names it: forgotten";
  EXPECT_TRUE(f.dns.target_addresses().empty());
  // A name: through the resolver (the hosts file).
  f.dns.update(with_target(config::SessionTargetKind::dns, "localhost", 0), 0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (f.dns.target_addresses().empty() && std::chrono::steady_clock::now() < until) {
    std::vector<pollfd> fds = f.dns.pollfds();
    ::poll(fds.data(), fds.size(), f.dns.timeout_ms(50));
    f.dns.process(fds);
  }
  ASSERT_EQ(f.dns.target_addresses().count("localhost:5060"), 1u);
}

}  // namespace
}  // namespace regfront::daemon
