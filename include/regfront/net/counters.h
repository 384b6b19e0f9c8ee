// regfront/net/counters.h — the per-worker counters of the DPDK network stack (dataplane/net).
//
// Declared once (X-macro) so the enum-like struct, the names in `show dataplane` and the metrics
// agree. One NetCounters per NetStack (per worker), written by that worker only (plain relaxed
// increments, see common/counter.h), summed by the control plane.
//
//   const NetCounters& c = stack.counters();
//   for (std::size_t i = 0; i < kNetCounterCount; ++i)
//     print(kNetCounterInfo[i].name, net_counter(c, i));
#pragma once

#include <cstddef>
#include <cstdint>

#include "regfront/common/counter.h"

namespace regfront::net {

// Every "drop_*" counter is a packet freed by the stack; everything else is informational.
#define REGFRONT_NET_COUNTERS(X)                                                              \
  X(rx_packets, "frames handed to classify()")                                                \
  X(rx_udp_delivered, "UDP datagrams for our address/port set delivered to the engine")       \
  X(rx_linearised, "delivered datagrams copied out of a multi-segment mbuf into scratch")     \
  X(drop_eth_short, "frames shorter than an Ethernet (+802.1Q) header")                       \
  X(drop_eth_not_ours, "frames for another unicast MAC address")                              \
  X(drop_vlan_unknown, "frames on a port/VLAN pair that is no interface of ours")             \
  X(drop_ethertype, "frames with an ethertype we do not handle (incl. QinQ)")                 \
  X(arp_requests_answered, "ARP requests for one of our addresses answered")                  \
  X(arp_learned, "neighbour entries created or refreshed from ARP")                           \
  X(drop_arp_bad, "malformed ARP packets")                                                    \
  X(drop_arp_ignored, "ARP packets neither for us nor about a neighbour we track")            \
  X(drop_ipv4_bad_header, "IPv4 frames: short, version, IHL, total length or TTL invalid")    \
  X(drop_ipv4_bad_checksum, "IPv4 headers with a bad checksum")                               \
  X(drop_ipv4_martian_source, "IPv4 packets from a multicast/broadcast/zero source")          \
  X(drop_ip_not_ours, "IP packets for an address that is not ours on that interface")         \
  X(drop_ip_proto, "IP packets of a protocol other than UDP and ICMP(v6)")                    \
  X(frag_received, "IPv4/IPv6 fragments handed to reassembly")                                \
  X(frag_reassembled, "datagrams reassembled from fragments")                                 \
  X(drop_frag_bad, "fragments with invalid offset/length (oversized, not multiple of 8)")     \
  X(drop_frag_reassembly, "fragment mbufs dropped by reassembly (overlap, too many, timeout)") \
  X(drop_ipv6_bad_header, "IPv6 frames: short, version or payload length invalid")            \
  X(drop_ipv6_ext, "IPv6 packets with an extension header chain we do not follow")          \
  X(drop_udp_bad_length, "UDP headers whose length disagrees with the IP payload")            \
  X(drop_udp_bad_checksum, "UDP datagrams with a bad (or, over IPv6, zero) checksum")         \
  X(drop_udp_no_listener, "UDP datagrams for a port we do not listen on")                     \
  X(drop_scratch_full, "multi-segment datagrams dropped: per-burst scratch buffer full")      \
  X(drop_rx_overflow, "datagrams dropped: more than the caller's output array holds")        \
  X(icmp_echo_answered, "ICMP/ICMPv6 echo requests answered")                                 \
  X(icmp_unreachable, "ICMP/ICMPv6 unreachable quoting our UDP datagram (event raised)")      \
  X(drop_icmp_bad, "ICMP/ICMPv6 messages with a bad checksum or length")                      \
  X(drop_icmp_ignored, "ICMP/ICMPv6 types we absorb (redirect, time exceeded, ...)")          \
  X(drop_event_overflow, "unreachable events lost: per-burst event array full")               \
  X(nd_solicitations_answered, "neighbour solicitations for our addresses answered")          \
  X(nd_learned, "neighbour entries created or refreshed from NDP")                            \
  X(drop_nd_bad, "NDP messages failing RFC 4861 validation (hop limit, length, options)")     \
  X(tx_udp, "UDP datagrams built for sending")                                                \
  X(tx_fragments, "IP fragments produced by TX fragmentation")                                \
  X(tx_arp_requests, "ARP requests sent (resolution and retries)")                            \
  X(tx_nd_solicitations, "neighbour solicitations sent (resolution and retries)")             \
  X(tx_queued_unresolved, "frames queued waiting for next-hop resolution")                   \
  X(drop_tx_no_route, "datagrams with no route to the destination")                           \
  X(drop_tx_no_mbuf, "datagrams or replies lost: mempool empty")                              \
  X(drop_tx_too_big, "datagrams larger than 65535 bytes or than the fragment limit")          \
  X(drop_tx_unresolved, "queued frames dropped: next hop never resolved or queue full")       \
  X(drop_tx_neigh_full, "datagrams dropped: neighbour table full")                            \
  X(drop_tx_batch_full, "frames dropped: per-port TX batch full and no flush hook")

struct alignas(64) NetCounters {
  REGFRONT_NET_COUNTERS(REGFRONT_COUNTER_FIELD)
};

extern const CounterInfo kNetCounterInfo[];
extern const std::size_t kNetCounterCount;
// Reads counter i in declaration order (for show and metrics).
std::uint64_t net_counter(const NetCounters& c, std::size_t i);

}  // namespace regfront::net
