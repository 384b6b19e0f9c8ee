// control/config/interfaces.cc — interface names, address text, and the daemon-side checks of
// the interface configuration (model.h).
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "regfront/config/model.h"

namespace regfront::config {

namespace {

bool parse_decimal(std::string_view s, std::uint64_t max, std::uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  std::uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v > max) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool parse_interface_name(std::string_view text, std::uint16_t& port, std::uint16_t& subif) {
  constexpr std::string_view kType = "dpdk";
  std::size_t i = 0;
  while (i < text.size() && i < kType.size() && lower(text[i]) == kType[i]) ++i;
  if (i == 0) return false;  // `d`, `dp`, `dpd`, `dpdk` (any case): IOS abbreviates types
  std::string_view rest = text.substr(i);
  auto dot = rest.find('.');
  std::uint16_t p = 0, v = 0;
  if (!parse_decimal(rest.substr(0, dot), kMaxDpdkPorts - 1, p)) return false;
  if (dot != std::string_view::npos) {
    if (!parse_decimal(rest.substr(dot + 1), kMaxVlanId, v) || v == 0) return false;
  }
  port = p;
  subif = v;
  return true;
}

std::string interface_name(std::uint16_t port, std::uint16_t subif) {
  std::string n = "dpdk" + std::to_string(port);
  if (subif != 0) n += "." + std::to_string(subif);
  return n;
}

std::vector<const Interface*> interfaces_in_order(const Config& cfg) {
  std::vector<const Interface*> out;
  out.reserve(cfg.interfaces.size());
  for (const auto& [name, itf] : cfg.interfaces) out.push_back(&itf);
  std::sort(out.begin(), out.end(), [](const Interface* a, const Interface* b) {
    return a->port != b->port ? a->port < b->port : a->subif < b->subif;
  });
  return out;
}

std::uint32_t ipv4_mask(std::uint8_t length) {
  return length == 0 ? 0 : length >= 32 ? 0xFFFFFFFFu : ~((1u << (32 - length)) - 1);
}

std::string ipv4_to_string(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xFF) + "." +
         std::to_string((a >> 8) & 0xFF) + "." + std::to_string(a & 0xFF);
}

std::string ipv6_to_string(const Ipv6Address& a) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, a.data(), buf, sizeof buf)) return "::";
  return buf;  // glibc follows RFC 5952: lower case, the longest zero run as "::"
}

Ipv6Address ipv6_network(const Ipv6Address& a, std::uint8_t length) {
  Ipv6Address n{};
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(static_cast<int>(length) - 8 * i, 0, 8);
    n[i] = static_cast<std::uint8_t>(a[i] & (bits == 0 ? 0 : 0xFF << (8 - bits)));
  }
  return n;
}

std::vector<std::string> validate_interfaces(const Config& cfg, int port_count) {
  std::vector<std::string> errors;
  auto ports_text = [&] {
    if (port_count <= 0) return std::string("the EAL found no DPDK port");
    std::string t = "the EAL found " + std::to_string(port_count) + " DPDK port" +
                    (port_count == 1 ? "" : "s") + " (dpdk0";
    if (port_count > 1) t += "-" + interface_name(static_cast<std::uint16_t>(port_count - 1));
    return t + ")";
  };
  auto missing = [&](const std::string& name) {
    errors.push_back("Interface " + name + " does not exist: " + ports_text());
  };
  for (const Interface* itf : interfaces_in_order(cfg)) {
    if (itf->port >= port_count) missing(itf->name);
  }
  const std::string& bind = cfg.voice.sip.bind_control_interface;
  if (!bind.empty()) {
    auto it = cfg.interfaces.find(bind);
    std::uint16_t port = 0, subif = 0;
    parse_interface_name(bind, port, subif);
    const std::string what = "bind control source-interface " + bind + ": ";
    if (it == cfg.interfaces.end()) {
      if (port >= port_count) {
        missing(bind);
      } else {
        errors.push_back(what + "the interface has no IP address");
      }
    } else {
      if (!it->second.ipv4 && it->second.ipv6.empty())
        errors.push_back(what + "the interface has no IP address");
      if (it->second.shutdown) errors.push_back(what + "the interface is shut down");
    }
  }
  for (const Route& r : cfg.routes) {
    bool connected = false;
    for (const auto& [name, itf] : cfg.interfaces) {
      if (!r.ipv6 && itf.ipv4) {
        std::uint32_t m = ipv4_mask(itf.ipv4->length);
        connected |= (itf.ipv4->address & m) == (r.gateway4 & m);
      }
      if (r.ipv6) {
        // A link-local gateway (fe80::/10) is on the link of every interface with IPv6.
        bool link_local = r.gateway6[0] == 0xFE && (r.gateway6[1] & 0xC0) == 0x80;
        connected |= link_local && !itf.ipv6.empty();
        for (const Ipv6Prefix& p : itf.ipv6) {
          connected |= ipv6_network(p.address, p.length) == ipv6_network(r.gateway6, p.length);
        }
      }
    }
    if (connected) continue;
    std::string text = r.ipv6 ? "ipv6 route " + ipv6_to_string(r.network6.address) + "/" +
                                    std::to_string(r.network6.length) + " " +
                                    ipv6_to_string(r.gateway6)
                              : "ip route " + ipv4_to_string(r.network4.address) + " " +
                                    ipv4_to_string(ipv4_mask(r.network4.length)) + " " +
                                    ipv4_to_string(r.gateway4);
    errors.push_back(text + ": the gateway is not in a connected subnet");
  }
  return errors;
}

}  // namespace regfront::config
