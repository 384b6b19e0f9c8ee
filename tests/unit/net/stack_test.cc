// Unit tests of dataplane/net on crafted frames: every bad frame is counted and dropped, none
// crashes, and the mempool level is the same after each test as before it (no mbuf leak).
#include <algorithm>
#include <numeric>

#include "harness.h"

namespace regfront::net::test {
namespace {

const ::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

const Bytes kOurMac = mac(1), kPeerMac = mac(2), kGwMac = mac(0xfe);
const std::uint32_t kOur = ip4(10, 77, 0, 1), kPeer = ip4(10, 77, 0, 2), kGw = ip4(10, 77, 0, 254);
const std::uint32_t kOurVlan = ip4(10, 78, 0, 1), kPeerVlan = ip4(10, 78, 0, 2);
const Bytes kOur6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Bytes kPeer6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

IpAddr A(const char* s) {
  IpAddr a;
  EXPECT_TRUE(IpAddr::parse(s, a)) << s;
  return a;
}
MacAddr M(const Bytes& b) {
  MacAddr m;
  std::copy(b.begin(), b.end(), m.begin());
  return m;
}

// Our side: dpdk0 (10.77.0.1/24, 2001:db8:77::1/64), dpdk0.100 (10.78.0.1/24), default route.
NetConfig our_config() {
  NetConfig c;
  c.interfaces.push_back({0, 0, M(kOurMac), 1500, {{A("10.77.0.1"), 24}}, {{A("2001:db8:77::1"), 64}}});
  c.interfaces.push_back({0, 100, M(kOurMac), 1500, {{A("10.78.0.1"), 24}}, {}});
  c.routes.push_back({{A("0.0.0.0"), 0}, A("10.77.0.254")});
  c.udp_ports = {5060};
  c.ticks_per_second = 1000;  // now is in milliseconds
  return c;
}
// The peer, to parse back what we build: 10.77.0.2 and 2001:db8:77::2 on the same wire.
NetConfig peer_config() {
  NetConfig c;
  c.interfaces.push_back({0, 0, M(kPeerMac), 1500, {{A("10.77.0.2"), 24}}, {{A("2001:db8:77::2"), 64}}});
  c.udp_ports = {5060};
  c.ticks_per_second = 1000;
  return c;
}

class NetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    level_ = rte_mempool_avail_count(g_pool);
    const Status st = stack_.init();
    ASSERT_TRUE(st.ok()) << st.message();
  }
  void TearDown() override {
    stack_.release();
    drain(stack_);
  }
  // Classifies one frame; returns the datagrams delivered.
  std::size_t rx(const Bytes& frame, std::uint64_t now = 0, std::size_t seg = 2048, NetStack* s = nullptr) {
    rte_mbuf* m = to_mbuf(frame, 0, seg);
    EXPECT_NE(m, nullptr);
    return (s ? *s : stack_).classify(&m, 1, now, out_, 32);
  }
  // Frames the stack queued for transmission on port 0, taken out of the batch.
  static std::vector<rte_mbuf*> take(NetStack& s) {
    TxBatch& b = s.tx(0);
    std::vector<rte_mbuf*> v(b.pkts, b.pkts + b.count);
    b.consumed(b.count);
    for (rte_mbuf* m : v) {  // as if received on port 0 of the other end, flags cleared
      m->port = 0;
      m->ol_flags = 0;
    }
    return v;
  }
  static void drain(NetStack& s) {
    for (rte_mbuf* m : take(s)) rte_pktmbuf_free(m);
  }
  std::uint64_t count(const char* name) const {
    for (std::size_t i = 0; i < kNetCounterCount; ++i)
      if (std::strcmp(kNetCounterInfo[i].name, name) == 0) return net_counter(stack_.counters(), i);
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }
  std::uint64_t drops() const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < kNetCounterCount; ++i)
      if (std::strncmp(kNetCounterInfo[i].name, "drop_", 5) == 0) n += net_counter(stack_.counters(), i);
    return n;
  }
  Bytes udp4_frame(const Bytes& data, std::uint16_t dport = 5060, std::uint16_t vlan = 0, std::uint32_t src = kPeer,
                   std::uint32_t dst = kOur) {
    return [&] {
      Bytes f = eth(kOurMac, kPeerMac, 0x0800, vlan);
      append(f, ipv4(src, dst, 17, udp(v4(src), v4(dst), 5070, dport, data)));
      return f;
    }();
  }

  unsigned level_ = 0;
  NetStack stack_{our_config(), g_pool};
  RxDatagram out_[32];
};

// Leak check: a stack in an inner scope, destroyed before the level is compared.
#define EXPECT_NO_LEAK(level) EXPECT_EQ(rte_mempool_avail_count(g_pool), (level))

TEST_F(NetTest, UdpV4DeliveredWithSourceAndInterface) {
  const Bytes data = payload(600);
  ASSERT_EQ(rx(udp4_frame(data)), 1u);
  EXPECT_EQ(Bytes(out_[0].payload, out_[0].payload + out_[0].len), data);
  EXPECT_EQ(out_[0].src.addr, IpAddr::v4(kPeer));
  EXPECT_EQ(out_[0].src.port, 5070);
  EXPECT_EQ(out_[0].dst.port, 5060);
  EXPECT_EQ(out_[0].interface, 0);
  stack_.release();
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, EthernetPaddingIsTrimmed) {
  Bytes f = udp4_frame(payload(4));
  f.resize(60, 0);  // short frame padded to the Ethernet minimum
  ASSERT_EQ(rx(f), 1u);
  EXPECT_EQ(out_[0].len, 4u);
}

TEST_F(NetTest, ArpRequestForUsGetsExactReply) {
  Bytes f = eth({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kPeerMac, 0x0806);
  const Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 77, 0, 2, 0, 0, 0, 0, 0, 0, 10, 77, 0, 1};
  append(f, arp);
  EXPECT_EQ(rx(f), 0u);
  auto sent = take(stack_);
  ASSERT_EQ(sent.size(), 1u);
  Bytes want = eth(kPeerMac, kOurMac, 0x0806);
  append(want, {0, 1, 8, 0, 6, 4, 0, 2, 2, 0, 0, 0, 0, 1, 10, 77, 0, 1, 2, 0, 0, 0, 0, 2, 10, 77, 0, 2});
  want.resize(60, 0);
  EXPECT_EQ(from_mbuf(sent[0]), want);
  rte_pktmbuf_free(sent[0]);
  EXPECT_EQ(count("arp_requests_answered"), 1u);
  MacAddr learned;
  EXPECT_TRUE(stack_.neighbour(IpAddr::v4(kPeer), 0, learned));  // RFC 826 merge
  EXPECT_EQ(learned, M(kPeerMac));
  // A request for someone else is absorbed, not answered.
  Bytes other = f;
  other[14 + 27] = 9;
  rx(other);
  EXPECT_TRUE(take(stack_).empty());
  EXPECT_EQ(count("drop_arp_ignored"), 0u);  // the sender is a known neighbour: refreshed
}

TEST_F(NetTest, BadFramesAreCountedAndDropped) {
  const Bytes good = udp4_frame(payload(100));
  struct Case {
    const char* name;
    Bytes frame;
    const char* counter;
  };
  std::vector<Case> cases;
  {
    Bytes f = good;
    f[14 + 10] ^= 0x55;  // IPv4 header checksum
    cases.push_back({"ip checksum", f, "drop_ipv4_bad_checksum"});
  }
  {
    Bytes f = good;
    put16(f, 14 + 2, std::uint16_t(f.size() - 14 + 10));  // total length beyond the frame
    put16(f, 14 + 10, 0);
    Bytes h(f.begin() + 14, f.begin() + 34);
    put16(f, 14 + 10, inet_sum(h));
    cases.push_back({"total length", f, "drop_ipv4_bad_header"});
  }
  {
    Bytes f = good;
    f[14] = 0x44;  // IHL 4
    cases.push_back({"ihl", f, "drop_ipv4_bad_header"});
  }
  {
    Bytes f = good;
    f[14] = 0x55;  // version 5
    cases.push_back({"version", f, "drop_ipv4_bad_header"});
  }
  {
    Bytes f = eth(kOurMac, kPeerMac, 0x0800);
    append(f, ipv4(kPeer, kOur, 17, udp(v4(kPeer), v4(kOur), 5070, 5060, payload(10)), 7, 0, 0));  // TTL 0
    cases.push_back({"ttl", f, "drop_ipv4_bad_header"});
  }
  {
    Bytes u = udp(v4(kPeer), v4(kOur), 5070, 5060, payload(100));
    put16(u, 4, 100);  // UDP length shorter than the IP payload
    Bytes f = eth(kOurMac, kPeerMac, 0x0800);
    append(f, ipv4(kPeer, kOur, 17, u));
    cases.push_back({"udp length", f, "drop_udp_bad_length"});
  }
  {
    Bytes f = good;
    f.back() ^= 1;
    cases.push_back({"udp checksum v4", f, "drop_udp_bad_checksum"});
  }
  {
    Bytes f = eth(kOurMac, kPeerMac, 0x86dd);
    Bytes u = udp(kPeer6, kOur6, 5070, 5060, payload(50));
    u.back() ^= 1;
    append(f, ipv6(kPeer6, kOur6, 17, u));
    cases.push_back({"udp checksum v6", f, "drop_udp_bad_checksum"});
  }
  {
    Bytes f = eth(kOurMac, kPeerMac, 0x86dd);
    Bytes u = udp(kPeer6, kOur6, 5070, 5060, payload(50));
    u[6] = u[7] = 0;  // zero checksum: forbidden over IPv6
    append(f, ipv6(kPeer6, kOur6, 17, u));
    cases.push_back({"udp zero checksum v6", f, "drop_udp_bad_checksum"});
  }
  {
    Bytes f = eth(kOurMac, kPeerMac, 0x86dd);
    append(f, ipv6(kPeer6, kOur6, 17, udp(kPeer6, kOur6, 5070, 5060, payload(50))));
    put16(f, 14 + 4, 200);  // payload length beyond the frame
    cases.push_back({"ipv6 payload length", f, "drop_ipv6_bad_header"});
  }
  cases.push_back({"vlan unknown", udp4_frame(payload(10), 5060, 200), "drop_vlan_unknown"});
  cases.push_back({"udp port", udp4_frame(payload(10), 5061), "drop_udp_no_listener"});
  cases.push_back({"not our ip", udp4_frame(payload(10), 5060, 0, kPeer, ip4(10, 77, 0, 9)), "drop_ip_not_ours"});
  {
    Bytes f = good;
    f[0] = 0x04;  // unicast MAC of someone else
    cases.push_back({"mac", f, "drop_eth_not_ours"});
  }
  for (const Case& c : cases) {
    const std::uint64_t before = count(c.counter), all = drops();
    EXPECT_EQ(rx(c.frame), 0u) << c.name;
    EXPECT_EQ(count(c.counter), before + 1) << c.name;
    EXPECT_EQ(drops(), all + 1) << c.name;
  }
  EXPECT_TRUE(take(stack_).empty());
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, EveryTruncatedPrefixIsDroppedWithoutCrash) {
  for (const Bytes& full : {udp4_frame(payload(40)), [] {
         Bytes f = eth(kOurMac, kPeerMac, 0x86dd);
         append(f, ipv6(kPeer6, kOur6, 17, udp(kPeer6, kOur6, 5070, 5060, payload(40))));
         return f;
       }()}) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      const std::uint64_t all = drops();
      for (std::size_t seg : {std::size_t(2048), std::size_t(7)}) {  // single and many segments
        EXPECT_EQ(rx(Bytes(full.begin(), full.begin() + n), 0, seg), 0u) << n;
      }
      EXPECT_EQ(drops(), all + 2) << n;
    }
  }
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, VlanInterfaceHasItsOwnAddresses) {
  ASSERT_EQ(rx(udp4_frame(payload(20), 5060, 100, kPeerVlan, kOurVlan)), 1u);
  EXPECT_EQ(out_[0].interface, 1);
  // 10.77.0.1 belongs to the untagged interface, not to VLAN 100.
  EXPECT_EQ(rx(udp4_frame(payload(20), 5060, 100, kPeerVlan, kOur)), 0u);
  EXPECT_EQ(count("drop_ip_not_ours"), 1u);
}

TEST_F(NetTest, MultiSegmentPayloadIsLinearised) {
  const Bytes data = payload(1400, 3);
  ASSERT_EQ(rx(udp4_frame(data), 0, 128), 1u);
  EXPECT_EQ(Bytes(out_[0].payload, out_[0].payload + out_[0].len), data);
  EXPECT_EQ(count("rx_linearised"), 1u);
  stack_.release();
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, OffloadFlagsAreHonoured) {
  Bytes f = udp4_frame(payload(30));
  f.back() ^= 1;  // wrong sum, but the NIC says good
  rte_mbuf* m = to_mbuf(f);
  m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  EXPECT_EQ(stack_.classify(&m, 1, 0, out_, 32), 1u);
  m = to_mbuf(udp4_frame(payload(30)));  // right sum, NIC says bad
  m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
  EXPECT_EQ(stack_.classify(&m, 1, 0, out_, 32), 0u);
  EXPECT_EQ(count("drop_udp_bad_checksum"), 1u);
}

// ---- fragments ----
std::vector<Bytes> fragments4(const Bytes& l4, std::size_t chunk, std::uint16_t id, std::uint32_t src = kPeer) {
  std::vector<Bytes> v;
  for (std::size_t off = 0; off < l4.size(); off += chunk) {
    const std::size_t n = std::min(chunk, l4.size() - off);
    const bool more = off + n < l4.size();
    Bytes f = eth(kOurMac, kPeerMac, 0x0800);
    append(f, ipv4(src, kOur, 17, Bytes(l4.begin() + off, l4.begin() + off + n), id,
                   std::uint16_t((more ? 0x2000 : 0) | (off / 8))));
    v.push_back(f);
  }
  return v;
}

TEST_F(NetTest, FragmentsReassembleInAndOutOfOrder) {
  const Bytes data = payload(3000, 5);
  const Bytes l4 = udp(v4(kPeer), v4(kOur), 5070, 5060, data);
  auto frags = fragments4(l4, 1000, 41);
  ASSERT_EQ(frags.size(), 4u);
  EXPECT_EQ(rx(frags[0]), 0u);
  EXPECT_EQ(rx(frags[1]), 0u);
  EXPECT_EQ(rx(frags[2]), 0u);
  ASSERT_EQ(rx(frags[3]), 1u);
  EXPECT_EQ(Bytes(out_[0].payload, out_[0].payload + out_[0].len), data);
  stack_.release();

  frags = fragments4(l4, 1000, 42);
  for (int i : {3, 1, 0}) EXPECT_EQ(rx(frags[i]), 0u);
  ASSERT_EQ(rx(frags[2]), 1u);
  EXPECT_EQ(Bytes(out_[0].payload, out_[0].payload + out_[0].len), data);
  EXPECT_EQ(count("frag_reassembled"), 2u);
  stack_.release();
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, OverlappingFragmentsAreDropped) {
  const Bytes l4 = udp(v4(kPeer), v4(kOur), 5070, 5060, payload(2000));
  auto a = fragments4(l4, 1000, 43);  // [0,1000) [1000,2000) [2000,2008)
  // An extra middle fragment overlapping both: [504,1504).
  Bytes mid = eth(kOurMac, kPeerMac, 0x0800);
  append(mid, ipv4(kPeer, kOur, 17, Bytes(l4.begin() + 504, l4.begin() + 1504), 43, 0x2000 | (504 / 8)));
  std::size_t delivered = rx(a[0]) + rx(mid) + rx(a[1]) + rx(a[2]);
  stack_.poll(10000);  // past the timeout: whatever is still held goes
  EXPECT_EQ(delivered, 0u);
  EXPECT_GT(count("drop_frag_reassembly"), 0u);
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, BadAndTooManyFragmentsAreDropped) {
  // Oversized: offset + length beyond 65535.
  Bytes big = eth(kOurMac, kPeerMac, 0x0800);
  append(big, ipv4(kPeer, kOur, 17, payload(1000), 44, 0x2000 | (65000 / 8)));
  EXPECT_EQ(rx(big), 0u);
  // A non-final fragment whose length is not a multiple of 8.
  Bytes odd = eth(kOurMac, kPeerMac, 0x0800);
  append(odd, ipv4(kPeer, kOur, 17, payload(1001), 45, 0x2000));
  EXPECT_EQ(rx(odd), 0u);
  EXPECT_EQ(count("drop_frag_bad"), 2u);
  // More fragments than rte_ip_frag keeps per datagram (RTE_LIBRTE_IP_FRAG_MAX_FRAG = 8).
  const Bytes l4 = udp(v4(kPeer), v4(kOur), 5070, 5060, payload(1200));
  auto many = fragments4(l4, 96, 46);
  ASSERT_GT(many.size(), 8u);
  std::size_t delivered = 0;
  for (const Bytes& f : many) delivered += rx(f);
  stack_.poll(10000);
  EXPECT_EQ(delivered, 0u);
  EXPECT_GT(count("drop_frag_reassembly"), 0u);
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, Ipv6FragmentsReassemble) {
  const Bytes data = payload(2500, 9);
  const Bytes l4 = udp(kPeer6, kOur6, 5070, 5060, data);
  std::vector<Bytes> frags;
  for (std::size_t off = 0; off < l4.size(); off += 1232) {
    const std::size_t n = std::min<std::size_t>(1232, l4.size() - off);
    const bool more = off + n < l4.size();
    Bytes fh = {17, 0, 0, 0, 0, 0, 0x12, 0x34};
    put16(fh, 2, std::uint16_t(off | (more ? 1 : 0)));
    append(fh, Bytes(l4.begin() + off, l4.begin() + off + n));
    Bytes f = eth(kOurMac, kPeerMac, 0x86dd);
    append(f, ipv6(kPeer6, kOur6, 44, fh));
    frags.push_back(f);
  }
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_EQ(rx(frags[2]) + rx(frags[0]), 0u);
  ASSERT_EQ(rx(frags[1]), 1u);
  EXPECT_EQ(Bytes(out_[0].payload, out_[0].payload + out_[0].len), data);
  EXPECT_EQ(out_[0].src.addr.family, 6);
  stack_.release();
  EXPECT_NO_LEAK(level_);
}

// ---- ICMP ----
TEST_F(NetTest, IcmpEchoIsAnswered) {
  const Bytes body = {0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
  Bytes f = eth(kOurMac, kPeerMac, 0x0800);
  append(f, ipv4(kPeer, kOur, 1, icmp4(8, 0, body)));
  EXPECT_EQ(rx(f), 0u);
  auto sent = take(stack_);
  ASSERT_EQ(sent.size(), 1u);
  const Bytes r = from_mbuf(sent[0]);
  rte_pktmbuf_free(sent[0]);
  ASSERT_EQ(r.size(), 14u + 20 + 12);
  EXPECT_EQ(Bytes(r.begin(), r.begin() + 6), kPeerMac);
  EXPECT_EQ(inet_sum(Bytes(r.begin() + 14, r.begin() + 34)), 0);  // header checksum verifies
  EXPECT_EQ(Bytes(r.begin() + 26, r.begin() + 30), v4(kOur));
  EXPECT_EQ(Bytes(r.begin() + 30, r.begin() + 34), v4(kPeer));
  EXPECT_EQ(r[34], 0);  // echo reply
  EXPECT_EQ(inet_sum(Bytes(r.begin() + 34, r.end())), 0);
  EXPECT_EQ(Bytes(r.begin() + 38, r.end()), body);
  // ICMPv6 echo too.
  Bytes f6 = eth(kOurMac, kPeerMac, 0x86dd);
  append(f6, ipv6(kPeer6, kOur6, 58, icmp6(kPeer6, kOur6, 128, 0, body)));
  EXPECT_EQ(rx(f6), 0u);
  sent = take(stack_);
  ASSERT_EQ(sent.size(), 1u);
  const Bytes r6 = from_mbuf(sent[0]);
  rte_pktmbuf_free(sent[0]);
  EXPECT_EQ(r6[54], 129);
  EXPECT_EQ(inet_sum(Bytes(r6.begin() + 54, r6.end()), pseudo(kOur6, kPeer6, 58, std::uint32_t(r6.size() - 54))), 0);
  EXPECT_EQ(count("icmp_echo_answered"), 2u);
  EXPECT_NO_LEAK(level_);
}

TEST_F(NetTest, PortUnreachableBecomesEvent) {
  // The registrar 192.0.2.10:5060 (reached via the gateway) refused our REGISTER.
  const std::uint32_t registrar = ip4(192, 0, 2, 10);
  const Bytes ours = ipv4(kOur, registrar, 17, udp(v4(kOur), v4(registrar), 5060, 5080, payload(200)));
  Bytes quote(ours.begin(), ours.begin() + 28);
  Bytes body = {0, 0, 0, 0};
  append(body, quote);
  Bytes f = eth(kOurMac, kGwMac, 0x0800);
  append(f, ipv4(registrar, kOur, 1, icmp4(3, 3, body)));
  EXPECT_EQ(rx(f), 0u);
  auto ev = stack_.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].dst.addr, IpAddr::v4(registrar));
  EXPECT_EQ(ev[0].dst.port, 5080);
  EXPECT_EQ(ev[0].src.port, 5060);
  EXPECT_EQ(ev[0].kind, UnreachableKind::port);
  EXPECT_EQ(ev[0].quoted_len, 0u);  // RFC 792's minimum quote: the UDP header, no payload
  stack_.release();
  // A router quoting more (RFC 1812 §4.3.2.3: up to 576 bytes): the start of the payload comes
  // with the event, for the engine to match against what it sent; at most kMaxQuoted of it.
  for (const std::size_t quoted : {std::size_t{100}, std::size_t{200}}) {
    const Bytes big_ours =
        ipv4(kOur, registrar, 17, udp(v4(kOur), v4(registrar), 5060, 5080, payload(UnreachableEvent::kMaxQuoted + 300)));
    Bytes big_body = {0, 0, 0, 0};
    big_body.insert(big_body.end(), big_ours.begin(), big_ours.begin() + 28 + std::ptrdiff_t(quoted) * 4);
    Bytes fb = eth(kOurMac, kGwMac, 0x0800);
    append(fb, ipv4(registrar, kOur, 1, icmp4(3, 3, big_body)));
    EXPECT_EQ(rx(fb), 0u);
    ev = stack_.events();
    ASSERT_EQ(ev.size(), 1u);
    const std::size_t want = std::min(quoted * 4, UnreachableEvent::kMaxQuoted);
    ASSERT_EQ(ev[0].quoted_len, want);
    EXPECT_EQ(Bytes(ev[0].quoted, ev[0].quoted + want), Bytes(big_ours.begin() + 28, big_ours.begin() + 28 + std::ptrdiff_t(want)));
    stack_.release();
  }
  // ICMPv6 address unreachable quoting a datagram to 2001:db8:77::2 port 5062.
  Bytes q6 = ipv6(kOur6, kPeer6, 17, udp(kOur6, kPeer6, 5060, 5062, payload(100)));
  q6.resize(48 + 60);  // and 60 bytes of its payload
  Bytes b6 = {0, 0, 0, 0};
  append(b6, q6);
  Bytes f6 = eth(kOurMac, kPeerMac, 0x86dd);
  append(f6, ipv6(kPeer6, kOur6, 58, icmp6(kPeer6, kOur6, 1, 3, b6)));
  EXPECT_EQ(rx(f6), 0u);
  ev = stack_.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].dst.addr, A("2001:db8:77::2"));
  EXPECT_EQ(ev[0].dst.port, 5062);
  EXPECT_EQ(ev[0].kind, UnreachableKind::host);
  const Bytes p6 = payload(100);
  EXPECT_EQ(Bytes(ev[0].quoted, ev[0].quoted + ev[0].quoted_len), Bytes(p6.begin(), p6.begin() + 60));
  stack_.release();
  EXPECT_TRUE(stack_.events().empty());
  EXPECT_NO_LEAK(level_);
}

// ---- NDP ----
TEST_F(NetTest, NeighbourSolicitationGetsAdvertisement) {
  const Bytes sn = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1};  // solicited-node of ::1
  Bytes body = {0, 0, 0, 0};
  append(body, kOur6);
  body.insert(body.end(), {1, 1});
  append(body, kPeerMac);
  Bytes f = eth({0x33, 0x33, 0xff, 0, 0, 1}, kPeerMac, 0x86dd);
  append(f, ipv6(kPeer6, sn, 58, icmp6(kPeer6, sn, 135, 0, body), 255));
  EXPECT_EQ(rx(f), 0u);
  auto sent = take(stack_);
  ASSERT_EQ(sent.size(), 1u);
  const Bytes r = from_mbuf(sent[0]);
  rte_pktmbuf_free(sent[0]);
  EXPECT_EQ(Bytes(r.begin(), r.begin() + 6), kPeerMac);
  EXPECT_EQ(r[14 + 7], 255);                                      // hop limit
  EXPECT_EQ(Bytes(r.begin() + 22, r.begin() + 38), kOur6);        // from the target
  EXPECT_EQ(Bytes(r.begin() + 38, r.begin() + 54), kPeer6);       // to the solicitor
  EXPECT_EQ(r[54], 136);
  EXPECT_EQ(r[58], 0x60);                                         // solicited + override
  EXPECT_EQ(Bytes(r.begin() + 62, r.begin() + 78), kOur6);
  EXPECT_EQ(r[78], 2);                                            // target link-layer address
  EXPECT_EQ(Bytes(r.begin() + 80, r.begin() + 86), kOurMac);
  EXPECT_EQ(inet_sum(Bytes(r.begin() + 54, r.end()), pseudo(kOur6, kPeer6, 58, 32)), 0);
  MacAddr learned;
  EXPECT_TRUE(stack_.neighbour(IpAddr::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}), 0, learned));
  // Hop limit other than 255: not from the link, dropped (RFC 4861 §7.1.1).
  Bytes bad = eth({0x33, 0x33, 0xff, 0, 0, 1}, kPeerMac, 0x86dd);
  append(bad, ipv6(kPeer6, sn, 58, icmp6(kPeer6, sn, 135, 0, body), 64));
  EXPECT_EQ(rx(bad), 0u);
  EXPECT_EQ(count("drop_nd_bad"), 1u);
  EXPECT_TRUE(take(stack_).empty());
  EXPECT_NO_LEAK(level_);
}

// ---- transmit ----
class NetTxTest : public NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    const Status st = peer_.init();
    ASSERT_TRUE(st.ok()) << st.message();
  }
  void TearDown() override {
    peer_.release();
    drain(peer_);
    NetTest::TearDown();
  }
  // Hands everything `from` queued to `to` as received frames; returns datagrams delivered.
  std::size_t wire(NetStack& from, NetStack& to, std::uint64_t now, RxDatagram* out) {
    auto v = take(from);
    std::size_t got = 0;
    for (std::size_t i = 0; i < v.size(); i += 32) {
      const std::size_t n = std::min<std::size_t>(32, v.size() - i);
      got += to.classify(v.data() + i, n, now, out + got, 32 - got);
    }
    return got;
  }
  NetStack peer_{peer_config(), g_pool};
  RxDatagram peer_out_[32];
};

TEST_F(NetTxTest, ArpResolutionQueuesThenSends) {
  const Bytes data = payload(600);
  EXPECT_EQ(stack_.send_udp(5060, {IpAddr::v4(kPeer), 5060}, data.data(), data.size(), 0), SendResult::queued);
  // The ARP request goes to the peer, whose reply releases the queued datagram.
  EXPECT_EQ(wire(stack_, peer_, 0, peer_out_), 0u);
  EXPECT_EQ(wire(peer_, stack_, 1, out_), 0u);
  ASSERT_EQ(wire(stack_, peer_, 2, peer_out_), 1u);
  EXPECT_EQ(Bytes(peer_out_[0].payload, peer_out_[0].payload + peer_out_[0].len), data);
  EXPECT_EQ(peer_out_[0].src.addr, IpAddr::v4(kOur));
  EXPECT_EQ(peer_out_[0].src.port, 5060);
  // Now resolved: straight to the batch.
  EXPECT_EQ(stack_.send_udp(5060, {IpAddr::v4(kPeer), 5060}, data.data(), data.size(), 3), SendResult::sent);
  EXPECT_EQ(wire(stack_, peer_, 3, peer_out_), 1u);
}

TEST_F(NetTxTest, UnresolvedNextHopRetriesThenGivesUp) {
  const Bytes data = payload(100);
  // Off-link destination: the next hop is the gateway, which never answers.
  for (int i = 0; i < 10; ++i)
    stack_.send_udp(5060, {A("192.0.2.10"), 5060}, data.data(), data.size(), 0);
  EXPECT_EQ(count("tx_queued_unresolved"), 8u);  // the per-neighbour queue bound
  EXPECT_EQ(count("drop_tx_unresolved"), 2u);
  for (std::uint64_t t = 1000; t <= 4000; t += 1000) stack_.poll(t);
  EXPECT_EQ(count("tx_arp_requests"), 3u);  // the first request and two retries
  EXPECT_EQ(count("drop_tx_unresolved"), 10u);
  EXPECT_EQ(stack_.send_udp(5060, {A("192.0.2.10"), 5060}, data.data(), data.size(), 4500),
            SendResult::unresolved);  // held down after failing
  auto arps = take(stack_);
  ASSERT_EQ(arps.size(), 3u);
  const Bytes a = from_mbuf(arps[0]);
  EXPECT_EQ(Bytes(a.begin() + 38, a.begin() + 42), v4(kGw));  // ARP target: the gateway
  for (rte_mbuf* m : arps) rte_pktmbuf_free(m);
  EXPECT_EQ(stack_.send_udp(5060, {A("2001:db8:99::1"), 5060}, data.data(), data.size(), 0), SendResult::no_route);
}

TEST_F(NetTxTest, FragmentedDatagramReassemblesToTheOriginal) {
  // Resolve first, so the fragments leave at once.
  Bytes f = eth({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kPeerMac, 0x0806);
  append(f, {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 77, 0, 2, 0, 0, 0, 0, 0, 0, 10, 77, 0, 1});
  rx(f);
  drain(stack_);
  const Bytes data = payload(4000, 11);
  ASSERT_EQ(stack_.send_udp(5060, {IpAddr::v4(kPeer), 5060}, data.data(), data.size(), 0), SendResult::sent);
  auto frames = take(stack_);
  ASSERT_EQ(frames.size(), 3u);
  for (rte_mbuf* m : frames) {
    const Bytes b = from_mbuf(m);
    EXPECT_LE(b.size() - 14, 1500u);
    EXPECT_EQ(inet_sum(Bytes(b.begin() + 14, b.begin() + 34)), 0);
  }
  // Out of order on the wire.
  std::swap(frames[0], frames[2]);
  std::size_t got = 0;
  for (rte_mbuf* m : frames) got += peer_.classify(&m, 1, 1, peer_out_ + got, 32 - got);
  ASSERT_EQ(got, 1u);
  EXPECT_EQ(Bytes(peer_out_[0].payload, peer_out_[0].payload + peer_out_[0].len), data);
  EXPECT_EQ(count("tx_fragments"), 3u);
}

TEST_F(NetTxTest, Ipv6SendResolvesWithNdpAndFragments) {
  const Bytes data = payload(3000, 13);
  EXPECT_EQ(stack_.send_udp(5060, {A("2001:db8:77::2"), 5060}, data.data(), data.size(), 0), SendResult::queued);
  EXPECT_EQ(wire(stack_, peer_, 0, peer_out_), 0u);  // NS → peer answers NA
  EXPECT_EQ(wire(peer_, stack_, 1, out_), 0u);       // NA → queued fragments released
  ASSERT_EQ(wire(stack_, peer_, 2, peer_out_), 1u);
  EXPECT_EQ(Bytes(peer_out_[0].payload, peer_out_[0].payload + peer_out_[0].len), data);
  EXPECT_EQ(peer_out_[0].src.addr, A("2001:db8:77::1"));
}

TEST_F(NetTxTest, VlanFramesAndOffloadFlags) {
  NetConfig c = our_config();
  c.port_caps = {PortCaps{true, true}};
  NetStack s(c, g_pool);
  const Status st = s.init();
  ASSERT_TRUE(st.ok()) << st.message();
  const Bytes data = payload(50);
  EXPECT_EQ(s.send_udp(5060, {IpAddr::v4(kPeerVlan), 5060}, data.data(), data.size(), 0), SendResult::queued);
  auto arp = take(s);
  ASSERT_EQ(arp.size(), 1u);
  const Bytes a = from_mbuf(arp[0]);
  rte_pktmbuf_free(arp[0]);
  EXPECT_EQ(get16(&a[12]), 0x8100);
  EXPECT_EQ(get16(&a[14]), 100);
  // Reply on VLAN 100 releases the datagram with the offload flags set.
  Bytes r = eth(kOurMac, kPeerMac, 0x0806, 100);
  append(r, {0, 1, 8, 0, 6, 4, 0, 2, 2, 0, 0, 0, 0, 2, 10, 78, 0, 2, 2, 0, 0, 0, 0, 1, 10, 78, 0, 1});
  rte_mbuf* m = to_mbuf(r);
  s.classify(&m, 1, 1, out_, 32);
  TxBatch& b = s.tx(0);  // read in place: take() clears the flags
  ASSERT_EQ(b.count, 1u);
  std::vector<rte_mbuf*> sent(b.pkts, b.pkts + 1);
  b.consumed(1);
  EXPECT_TRUE(sent[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
  EXPECT_TRUE(sent[0]->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(sent[0]->l2_len, 18u);
  EXPECT_EQ(sent[0]->l3_len, 20u);
  rte_pktmbuf_free(sent[0]);
}

TEST(NetCounters, NamesAreUniqueAndComplete) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < kNetCounterCount; ++i) names.push_back(kNetCounterInfo[i].name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace regfront::net::test

namespace regfront::net::test {
namespace {
// Frames waiting for resolution, held fragments and unflushed TX batches all go back to the
// pool when the stack is destroyed.
TEST(NetLifetime, DestructionReturnsEveryMbuf) {
  const unsigned level = rte_mempool_avail_count(g_pool);
  {
    NetStack s(our_config(), g_pool);
    const Status st = s.init();
    ASSERT_TRUE(st.ok()) << st.message();
    const Bytes data = payload(3000);
    s.send_udp(5060, {A("10.77.0.2"), 5060}, data.data(), data.size(), 0);  // queued + ARP in batch
    const Bytes l4 = udp(v4(kPeer), v4(kOur), 5070, 5060, payload(2000));
    Bytes f = eth(kOurMac, kPeerMac, 0x0800);
    append(f, ipv4(kPeer, kOur, 17, Bytes(l4.begin(), l4.begin() + 1000), 50, 0x2000));
    rte_mbuf* m = to_mbuf(f);
    RxDatagram out[4];
    s.classify(&m, 1, 0, out, 4);  // first fragment held by reassembly
    EXPECT_LT(rte_mempool_avail_count(g_pool), level);
  }
  EXPECT_EQ(rte_mempool_avail_count(g_pool), level);
}
}  // namespace
}  // namespace regfront::net::test
