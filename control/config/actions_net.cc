// control/config/actions_net.cc — interfaces, static routes and `voice service voip` (the DPDK backend's addressing).
// Same rule as actions.cc: every check first, then the change, so a refusal changes nothing.
#include <algorithm>
#include <utility>

#include "actions.h"

namespace regfront::config::actions {

namespace {

constexpr const char* kNeedsDot1Q =
    "Configuring IP routing on a LAN subinterface is only allowed if that subinterface is "
    "already configured as part of an IEEE 802.10, IEEE 802.1Q, or ISL vLAN.";
constexpr std::size_t kMaxDescription = 240;  // IOS
constexpr const char* kOwnNextHop = "Invalid next hop address (it's this router)";

// The refusals shared by several actions.
Result invalid_name() { return rejected(Status::invalid_argument("Invalid interface name")); }
Result needs_dot1q() { return rejected(Status::failed_precondition(kNeedsDot1Q)); }
Result own_next_hop() { return rejected(Status::failed_precondition(kOwnNextHop)); }
Result invalid_next_hop() { return rejected(Status::invalid_argument("Invalid next hop address")); }
Result invalid_host(const std::string& address) {
  return rejected(Status::invalid_argument("Not a valid host address - " + address));
}
Result invalid_prefix_length(unsigned length) {
  return rejected(Status::out_of_range("Invalid prefix length /" + std::to_string(length)));
}
Result inconsistent_mask() {
  return rejected(Status::invalid_argument("Inconsistent address and mask"));
}

std::string hex_mask(std::uint32_t m) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += kDigits[(m >> shift) & 0xF];
  return s;
}

// Length of a contiguous mask, or -1 (255.0.255.0).
int mask_length(std::uint32_t mask) {
  std::uint32_t inverted = ~mask;
  if ((inverted & (inverted + 1)) != 0) return -1;  // the host part must be 0…01…1
  int n = 0;
  while (n < 32 && (mask & (0x80000000u >> n))) ++n;
  return n;
}

// 0.0.0.0/8, 127.0.0.0/8, multicast and class E are nobody's host address (IOS refuses them).
bool valid_ipv4_host(std::uint32_t a) {
  std::uint32_t first = a >> 24;
  return first != 0 && first != 127 && first < 224;
}

bool is_unspecified(const Ipv6Address& a) {
  return std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}
bool is_loopback(const Ipv6Address& a) {
  return std::all_of(a.begin(), a.end() - 1, [](std::uint8_t b) { return b == 0; }) && a[15] == 1;
}
bool is_multicast(const Ipv6Address& a) { return a[0] == 0xFF; }
bool is_link_local(const Ipv6Address& a) { return a[0] == 0xFE && (a[1] & 0xC0) == 0x80; }

std::string prefix_text(const Ipv6Prefix& p) {
  return ipv6_to_string(p.address) + "/" + std::to_string(p.length);
}

// A sub-interface carries IP only once its VLAN is set (IOS).
bool needs_dot1q(const Interface& itf) { return itf.is_subinterface() && itf.vlan == 0; }

bool is_our_ipv4(const Config& cfg, std::uint32_t a) {
  return std::any_of(cfg.interfaces.begin(), cfg.interfaces.end(), [&](const auto& kv) {
    return kv.second.ipv4 && kv.second.ipv4->address == a;
  });
}
bool is_our_ipv6(const Config& cfg, const Ipv6Address& a) {
  for (const auto& [name, itf] : cfg.interfaces)
    for (const Ipv6Prefix& p : itf.ipv6)
      if (p.address == a) return true;
  return false;
}

// Routes keep IPv4 before IPv6 (the order they are rendered in), each family in the order
// configured, so that loading the rendered text gives back the same vector.
void insert_route(std::vector<Route>& routes, const Route& r) {
  if (r.ipv6) {
    routes.push_back(r);
    return;
  }
  auto first_v6 = std::find_if(routes.begin(), routes.end(), [](const Route& e) { return e.ipv6; });
  routes.insert(first_v6, r);
}

}  // namespace

// ---- interfaces ---------------------------------------------------------------------------------

Result interface_enter(Config& cfg, std::string_view name) {
  std::uint16_t port = 0, subif = 0;
  if (!parse_interface_name(name, port, subif)) return invalid_name();
  std::string key = interface_name(port, subif);
  if (cfg.interfaces.contains(key)) return ok();
  Interface itf;
  itf.name = key;
  itf.port = port;
  itf.subif = subif;
  cfg.interfaces.emplace(std::move(key), std::move(itf));
  return changed();
}

Result interface_remove(Config& cfg, std::string_view name) {
  std::uint16_t port = 0, subif = 0;
  if (!parse_interface_name(name, port, subif)) return invalid_name();
  if (subif == 0) {
    return rejected(Status::failed_precondition("Removal of physical interfaces is not permitted"));
  }
  std::string key = interface_name(port, subif);
  auto it = cfg.interfaces.find(key);
  if (it == cfg.interfaces.end()) return ok();  // IOS: removing an absent one is silent
  if (cfg.voice.sip.bind_control_interface == key) {
    // regfront: a bind to a missing interface would leave SIP without a source address.
    return rejected(Status::failed_precondition(
        "Interface " + key + " is in use by bind control source-interface; remove the bind first"));
  }
  cfg.interfaces.erase(it);
  return changed();
}

Result interface_description_set(Interface& itf, std::string_view text) {
  if (text.size() > kMaxDescription) {
    return rejected(Status::out_of_range("Description too long (240 characters at most)"));
  }
  if (itf.description == text) return ok();
  itf.description = std::string(text);
  return changed();
}

Result interface_shutdown_set(Interface& itf, bool shutdown) {
  if (itf.shutdown == shutdown) return ok();
  itf.shutdown = shutdown;
  return changed();
}

Result interface_encapsulation_set(Config& cfg, Interface& itf, std::uint16_t vlan) {
  if (!itf.is_subinterface()) {
    return rejected(Status::failed_precondition(
        "encapsulation dot1Q is configured on a sub-interface (" + itf.name + ".V)"));
  }
  if (vlan > kMaxVlanId) return rejected(Status::out_of_range("VLAN ID out of range"));
  if (vlan == 0) {
    if (itf.vlan == 0) return ok();
    // regfront: IOS drops the addresses with the encapsulation; we ask for it to be explicit.
    if (itf.ipv4 || !itf.ipv6.empty()) {
      return rejected(Status::failed_precondition("Remove the IP addresses of " + itf.name +
                                                  " before its encapsulation"));
    }
    itf.vlan = 0;
    return changed();
  }
  if (itf.vlan == vlan) return ok();
  for (const auto& [name, other] : cfg.interfaces) {
    if (&other != &itf && other.port == itf.port && other.vlan == vlan) {
      return rejected(Status::already_exists(
          "Configuration of multiple subinterfaces of the same main interface with the same VID (" +
          std::to_string(vlan) + ") is not permitted. This VID is already configured on " +
          other.name + "."));
    }
  }
  itf.vlan = vlan;
  return changed();
}

Result interface_ipv4_set(Config& cfg, Interface& itf, std::uint32_t address, std::uint32_t mask) {
  if (needs_dot1q(itf)) return needs_dot1q();
  const std::string text = ipv4_to_string(address);
  int len = mask_length(mask);
  if (len < 0) {
    return rejected(Status::invalid_argument("Bad mask " + hex_mask(mask) + " for address " + text));
  }
  if (!valid_ipv4_host(address)) return invalid_host(text);
  // The subnet's own address and its broadcast are no host's (RFC 3021: /31 has neither).
  std::uint32_t host = address & ~mask;
  if (len == 0 || (len <= 30 && (host == 0 || host == ~mask))) {
    return rejected(
        Status::invalid_argument("Bad mask /" + std::to_string(len) + " for address " + text));
  }
  for (const auto& [name, other] : cfg.interfaces) {
    if (&other == &itf || !other.ipv4) continue;
    std::uint32_t common = ipv4_mask(static_cast<std::uint8_t>(std::min<int>(len, other.ipv4->length)));
    if ((other.ipv4->address & common) == (address & common)) {
      return rejected(Status::failed_precondition(ipv4_to_string(address & mask) +
                                                  " overlaps with " + other.name));
    }
  }
  Ipv4Prefix p{address, static_cast<std::uint8_t>(len)};
  if (itf.ipv4 == p) return ok();
  itf.ipv4 = p;
  return changed();
}

Result interface_ipv4_clear(Interface& itf) {
  if (!itf.ipv4) return ok();
  itf.ipv4.reset();
  return changed();
}

Result interface_ipv6_add(Config& cfg, Interface& itf, const Ipv6Prefix& p) {
  if (needs_dot1q(itf)) return needs_dot1q();
  const std::string text = ipv6_to_string(p.address);
  if (p.length > 128) return invalid_prefix_length(p.length);
  if (is_unspecified(p.address) || is_loopback(p.address) || is_multicast(p.address)) {
    return invalid_host(text);
  }
  if (is_link_local(p.address)) {
    return rejected(Status::invalid_argument(text + " is link-local: a dpdk interface derives "
                                             "its link-local address from its MAC (EUI-64)"));
  }
  if (p.length == 0) {
    return rejected(Status::invalid_argument("Bad prefix length /0 for address " + text));
  }
  for (const auto& [name, other] : cfg.interfaces) {
    if (&other == &itf) continue;
    for (const Ipv6Prefix& q : other.ipv6) {
      auto common = static_cast<std::uint8_t>(std::min(p.length, q.length));
      if (ipv6_network(q.address, common) == ipv6_network(p.address, common)) {
        return rejected(Status::failed_precondition(
            prefix_text({ipv6_network(p.address, p.length), p.length}) + " is overlapping with " +
            other.name));
      }
    }
  }
  auto same = std::find_if(itf.ipv6.begin(), itf.ipv6.end(),
                           [&](const Ipv6Prefix& q) { return q.address == p.address; });
  if (same != itf.ipv6.end()) {  // one address, one prefix length: the new length replaces
    if (same->length == p.length) return ok();
    same->length = p.length;
    return changed();
  }
  itf.ipv6.push_back(p);
  return changed();
}

Result interface_ipv6_remove(Interface& itf, const Ipv6Prefix* p) {
  std::size_t n = p ? std::erase(itf.ipv6, *p) : std::exchange(itf.ipv6, {}).size();
  return changed_if(n != 0);
}

// ---- static routes ------------------------------------------------------------------------------

Result ipv4_route_add(Config& cfg, std::uint32_t network, std::uint32_t mask,
                      std::uint32_t gateway) {
  int len = mask_length(mask);
  if (len < 0 || (network & ~mask) != 0) return inconsistent_mask();
  if (!valid_ipv4_host(gateway)) return invalid_next_hop();
  if (is_our_ipv4(cfg, gateway)) return own_next_hop();
  Route r;
  r.network4 = {network, static_cast<std::uint8_t>(len)};
  r.gateway4 = gateway;
  if (std::find(cfg.routes.begin(), cfg.routes.end(), r) != cfg.routes.end()) return ok();
  insert_route(cfg.routes, r);
  return changed();
}

Result ipv4_route_remove(Config& cfg, std::uint32_t network, std::uint32_t mask,
                         const std::uint32_t* gateway) {
  int len = mask_length(mask);
  if (len < 0 || (network & ~mask) != 0) return inconsistent_mask();
  std::size_t n = std::erase_if(cfg.routes, [&](const Route& r) {
    return !r.ipv6 && r.network4.address == network && r.network4.length == len &&
           (!gateway || r.gateway4 == *gateway);
  });
  return changed_if(n != 0);
}

Result ipv6_route_add(Config& cfg, const Ipv6Prefix& network, const Ipv6Address& gateway) {
  if (network.length > 128) return invalid_prefix_length(network.length);
  if (is_unspecified(gateway) || is_multicast(gateway) || is_loopback(gateway))
    return invalid_next_hop();
  if (is_our_ipv6(cfg, gateway)) return own_next_hop();
  Route r;
  r.ipv6 = true;
  // IOS keeps the network of the prefix: 2001:db8::1/64 is 2001:db8::/64.
  r.network6 = {ipv6_network(network.address, network.length), network.length};
  r.gateway6 = gateway;
  if (std::find(cfg.routes.begin(), cfg.routes.end(), r) != cfg.routes.end()) return ok();
  insert_route(cfg.routes, r);
  return changed();
}

Result ipv6_route_remove(Config& cfg, const Ipv6Prefix& network, const Ipv6Address* gateway) {
  Ipv6Address net = ipv6_network(network.address, network.length);
  std::size_t n = std::erase_if(cfg.routes, [&](const Route& r) {
    return r.ipv6 && r.network6.address == net && r.network6.length == network.length &&
           (!gateway || r.gateway6 == *gateway);
  });
  return changed_if(n != 0);
}

// ---- voice service voip -------------------------------------------------------------------------

Result voice_service_enter(Config& cfg) {
  if (cfg.voice.present) return ok();
  cfg.voice.present = true;  // rendered from now on, even when empty
  return changed();
}

Result voice_service_reset(Config& cfg) {
  if (cfg.voice == VoiceService{}) return ok();
  cfg.voice = VoiceService{};
  return changed();
}

Result voice_sip_enter(Config& cfg) {
  bool was = cfg.voice.present && cfg.voice.sip.present;
  cfg.voice.present = true;
  cfg.voice.sip.present = true;
  return changed_if(!was);
}

Result voice_sip_reset(Config& cfg) {
  if (cfg.voice.sip == VoiceSip{}) return ok();
  cfg.voice.sip = VoiceSip{};
  return changed();
}

Result sip_bind_set(Config& cfg, std::string_view name) {
  std::uint16_t port = 0, subif = 0;
  if (!parse_interface_name(name, port, subif)) return invalid_name();
  std::string key = interface_name(port, subif);
  // A physical dpdkN exists when its port does (validate_interfaces() checks that at start);
  // a sub-interface exists once configured.
  if (subif != 0 && !cfg.interfaces.contains(key))
    return rejected(Status::not_found("Interface " + key + " does not exist"));
  if (cfg.voice.sip.bind_control_interface == key) return ok();
  cfg.voice.sip.bind_control_interface = std::move(key);
  return changed();
}

Result sip_bind_clear(Config& cfg) {
  if (cfg.voice.sip.bind_control_interface.empty()) return ok();
  cfg.voice.sip.bind_control_interface.clear();
  return changed();
}

Result sip_listen_port_set(Config& cfg, std::uint16_t port) {
  if (port == 0) return rejected(Status::out_of_range("Invalid port"));
  if (cfg.voice.sip.listen_port == port) return ok();
  cfg.voice.sip.listen_port = port;
  return changed();
}

// ---- voice service voip → ip address trusted list ----------------------------------------------

Result trusted_list_enter(Config& cfg) {
  bool was = cfg.voice.present && cfg.voice.trusted.present;
  cfg.voice.present = true;
  cfg.voice.trusted.present = true;
  return changed_if(!was);
}

Result keepalive_enter(Config& cfg, std::uint32_t tag) {
  if (tag < 1 || tag > kMaxKeepaliveTag) return rejected(Status::invalid_argument("Tag out of range"));
  if (cfg.keepalive_profiles.count(tag) != 0) return ok();
  OptionsKeepalive p;
  p.tag = tag;
  cfg.keepalive_profiles.emplace(tag, p);
  return changed();
}

Result keepalive_remove(Config& cfg, std::uint32_t tag) {
  if (cfg.keepalive_profiles.count(tag) == 0) return ok();
  for (const auto& [index, r] : cfg.sip_ua.registrars) {
    if (r.keepalive_profile == tag) {
      return rejected(Status::failed_precondition("voice class sip-options-keepalive " + std::to_string(tag) +
                                                  " is in use by registrar " + std::to_string(index)));
    }
  }
  cfg.keepalive_profiles.erase(tag);
  return changed();
}

Result keepalive_update(Config& cfg, const OptionsKeepalive& p) {
  auto it = cfg.keepalive_profiles.find(p.tag);
  if (it == cfg.keepalive_profiles.end()) {
    return rejected(Status::failed_precondition("No voice class sip-options-keepalive is being configured"));
  }
  if (p.description.size() > kMaxKeepaliveDescription) {
    return rejected(Status::invalid_argument("Description longer than " + std::to_string(kMaxKeepaliveDescription) +
                                             " characters"));
  }
  if (p.up_interval_s < kKeepaliveIntervalMin || p.up_interval_s > kKeepaliveIntervalMax ||
      p.down_interval_s < kKeepaliveIntervalMin || p.down_interval_s > kKeepaliveIntervalMax || p.retry < 1 ||
      p.retry > 10) {
    return rejected(Status::invalid_argument("Value out of range"));
  }
  if (it->second == p) return ok();
  it->second = p;
  return changed();
}

Result registrar_keepalive_check(const Config& cfg, const Registrar& r) {
  if (r.keepalive_profile == 0 || cfg.keepalive_profiles.count(r.keepalive_profile) != 0) return ok();
  return rejected(Status::failed_precondition("voice class sip-options-keepalive " +
                                              std::to_string(r.keepalive_profile) + " is not configured"));
}

Result trusted_list_remove(Config& cfg) {
  if (cfg.voice.trusted == TrustedList{}) return ok();
  cfg.voice.trusted = TrustedList{};
  return changed();
}

namespace {

// The entry `ipv4 address mask` stands for, or the refusal.
bool trusted_entry(std::uint32_t address, std::uint32_t mask, Ipv4Prefix& out, Result& err) {
  int len = mask_length(mask);
  if (len < 0) {
    err = rejected(Status::invalid_argument("Bad mask " + hex_mask(mask) + " for address " +
                                            ipv4_to_string(address)));
    return false;
  }
  // The network of the address: `ipv4 10.1.2.3 255.255.0.0` trusts 10.1.0.0/16, as written.
  out = Ipv4Prefix{address & mask, static_cast<std::uint8_t>(len)};
  return true;
}

}  // namespace

Result trusted_ipv4_add(Config& cfg, std::uint32_t address, std::uint32_t mask) {
  Ipv4Prefix p;
  Result err;
  if (!trusted_entry(address, mask, p, err)) return err;
  std::vector<Ipv4Prefix>& list = cfg.voice.trusted.ipv4;
  if (std::find(list.begin(), list.end(), p) != list.end()) return ok();
  if (list.size() >= kMaxTrustedEntries) {
    return rejected(Status::resource_exhausted("A maximum of " + std::to_string(kMaxTrustedEntries) +
                                               " IPv4 entries can be configured in the trusted list"));
  }
  // Entering the list's mode set these already; an API caller may add an entry directly.
  cfg.voice.present = true;
  cfg.voice.trusted.present = true;
  list.push_back(p);
  return changed();
}

Result trusted_ipv4_remove(Config& cfg, std::uint32_t address, std::uint32_t mask) {
  Ipv4Prefix p;
  Result err;
  if (!trusted_entry(address, mask, p, err)) return err;
  return changed_if(std::erase(cfg.voice.trusted.ipv4, p) != 0);
}

}  // namespace regfront::config::actions
