// regfront/dns/sip_srv.h — RFC 3263 §4 target selection for a SIP server name over UDP, the
// parts that are pure functions of the DNS answers (the lookups are the DnsRegistry's):
//
//   1. NAPTR NAME: the records with flags "s" and service "SIP+D2U" (UDP, the only transport
//      carried), lowest order, then lowest preference; their replacement is the SRV name.
//      No NAPTR answer, or none for UDP: the SRV name is "_sip._udp.NAME" (§4.1).
//   2. SRV: ordered by priority, and within one priority by RFC 2782's weighted random
//      selection (a record of weight w is chosen first with probability w / sum; weight 0 only
//      rarely first). A record whose target is "." says the service is not there: left out.
//      No SRV answer: NAME's A/AAAA records on port 5060 (§4.2).
//   3. Each SRV target's A/AAAA addresses, in order.
//
//   std::string srv = dns::udp_srv_name(naptr.records);  // "" without a UDP record: then
//   if (srv.empty()) srv = dns::default_srv_name("example.com");  // "_sip._udp.example.com"
//   std::vector<dns::SrvRecord> order = dns::order_srv(srv.records, [&](std::uint32_t n) {
//     return std::uniform_int_distribution<std::uint32_t>(0, n)(rng);   // uniform in [0, n]
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "regfront/dns/resolver.h"

namespace regfront::dns {

// The SRV name to query for UDP: the best "SIP+D2U" NAPTR record's replacement, or "" when no
// record offers UDP (then "_sip._udp." + name, default_srv_name()).
std::string udp_srv_name(const std::vector<NaptrRecord>& naptr);
inline std::string default_srv_name(const std::string& name) { return "_sip._udp." + name; }

// RFC 2782 order of `records`: priority ascending; within a priority, repeated weighted random
// selection, `uniform(n)` returning a number in [0, n]. Records with target "." are dropped.
std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records,
                                 const std::function<std::uint32_t(std::uint32_t)>& uniform);

}  // namespace regfront::dns
