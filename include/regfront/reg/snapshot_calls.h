// regfront/reg/snapshot_calls.h — the part of a worker snapshot the call relay reads: the voip
// dial peers with their resolved session targets, the compiled dial-peer matchers, the trusted
// sources, and the From host of outgoing INVITEs (docs/rules.md, F6).
//
// Built by the control plane (control/snapshot) with the rest of the snapshot and published
// with it; workers only read it, through a SnapshotPin.
//
//   const SnapCalls& c = snap.calls;
//   std::uint32_t ids[8];
//   std::size_t n = c.outbound->match(called, *c.outbound_scratch[worker], ids, 8);  // best first
//   const SnapDialPeer& dp = c.dial_peers[ids[0]];
//
// The matchers are held by pointer to incomplete types: this module reads the other fields,
// the relay (regfront/call) uses the matchers, and the builder makes them.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace regfront::call {
class DialPeerMatcher;
class MatchScratch;
}  // namespace regfront::call

namespace regfront::reg {

// One voip dial peer (`dial-peer voice N voip`).
struct SnapDialPeer {
  enum class Target : std::uint8_t {
    none,       // no session target: matched, but nowhere to send (skipped when hunting)
    address,    // session target ipv4:… or dns:… (resolved by the control plane)
    registrar,  // session target registrar: the registrars with a live binding, in index order
  };
  std::uint32_t tag = 0;
  std::uint8_t preference = 0;
  bool huntstop = false;
  Target target = Target::none;
  sockaddr_storage addr{};     // Target::address; addr_len 0 = not resolved yet (skipped)
  socklen_t addr_len = 0;
  std::string target_host;     // Request-URI host[:port] of Target::address ("192.0.2.5:5070")
  std::string local_ip;        // our address towards the target ("[v6]" bracketed)
  std::string from_host;       // F6: `voice-class sip localhost dns:NAME preferred` → NAME
};

// One `ip address trusted list` entry (`ipv4 A.B.C.D [MASK]`).
struct TrustedNet {
  std::uint32_t address = 0;  // host order
  std::uint8_t length = 32;
};

struct SnapCalls {
  std::vector<SnapDialPeer> dial_peers;  // the matchers return indices into this
  // Compiled `destination-pattern`s (outbound: the called number of a call from the core) and
  // `incoming called-number`s (inbound: the called number of a call from a provider), with one
  // scratch per worker (a worker never allocates). nullptr when no dial peer has one.
  std::shared_ptr<const call::DialPeerMatcher> outbound, inbound;
  std::vector<std::shared_ptr<call::MatchScratch>> outbound_scratch, inbound_scratch;  // per worker
  std::vector<TrustedNet> trusted;
  std::string ua_from_host;  // F6: sip-ua `localhost dns:NAME preferred` → NAME; "" = none
};

}  // namespace regfront::reg
