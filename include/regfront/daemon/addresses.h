// regfront/daemon/addresses.h — socket-address helpers of the control plane: literal IP parsing,
// text forms, and the source address the kernel would use towards a destination.
//
//   sockaddr_storage ss; socklen_t len;
//   if (literal_address("192.0.2.1", 5060, ss, len)) log("%s", ip_text(ss).c_str());
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace regfront::daemon {

// Parses a literal IPv4 or IPv6 address into `ss` with `port`; false when it is not a literal.
bool literal_address(const std::string& host, std::uint16_t port, sockaddr_storage& ss, socklen_t& len);

// "192.0.2.1", or "[2001:db8::1]" for IPv6 (bracketed, as SIP URIs write it).
std::string ip_text(const sockaddr_storage& ss);
// The port of an IPv4 or IPv6 address, host order.
std::uint16_t port_of(const sockaddr_storage& ss);

// Our source address towards `dst` as the kernel's routing would pick it (a connected UDP
// socket, nothing sent); empty when there is no route.
std::string source_ip_towards(const sockaddr_storage& dst, socklen_t len);

}  // namespace regfront::daemon
