// control/config/render.cc — `show running-config`: the configuration as the commands that
// rebuild it. Layout as IOS: '!' between sections, one space of indentation in sub-modes,
// settings at their default omitted; order is fixed (interfaces by port and sub-interface, ip
// and ipv6 routes, voice service voip, dial peers by tag — POTS and VoIP interleaved, as IOS —
// then sip-ua), and lists keep the order in which they were configured, so
// load(render(cfg)) == cfg.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <string>

#include "regfront/config/commands.h"

namespace regfront::config {

namespace {

// Passwords always carry their type so that a password such as "7" reads back unchanged:
// type 7 with `service password-encryption` or when it was encrypted (entered as type 7, or
// encrypted by the service before a `no service password-encryption`), type 0 otherwise.
std::string password(const Config& cfg, std::string_view clear, bool encrypted) {
  if (cfg.service_password_encryption || encrypted) return "password 7 " + type7_encode(clear);
  return "password 0 " + std::string(clear);
}

std::string address(const RegistrarAddress& a) {
  std::string out;
  switch (a.kind) {
    case AddressKind::dns:
      out = "dns:" + a.host;
      break;
    case AddressKind::ipv4:
      out = "ipv4:" + a.host;
      break;
    case AddressKind::ipv6:
      out = "ipv6:[" + a.host + "]";
      break;
    case AddressKind::dhcp:
      return "dhcp";
  }
  if (a.port != 0) out += ":" + std::to_string(a.port);
  return out;
}

std::string registrar(const Registrar& r) {
  std::string out = " registrar ";
  if (!r.legacy) out += std::to_string(r.index) + " ";
  out += address(r.address);
  if (r.expires_given) out += " expires " + std::to_string(r.expires);
  if (!r.legacy) {
    if (!r.auth_realm.empty()) out += " auth-realm " + r.auth_realm;
    if (r.refresh_ratio_given) out += " refresh-ratio " + std::to_string(r.refresh_ratio);
  }
  if (r.tcp) out += " tcp";
  if (!r.legacy && r.scheme_given) out += r.scheme == Scheme::sips ? " scheme sips" : " scheme sip";
  if (!r.legacy && r.keepalive_profile != 0) out += " options-keepalive profile " + std::to_string(r.keepalive_profile);
  if (r.legacy && r.index == 2) out += " secondary";
  return out + "\n";
}

std::string authentication(const Config& cfg, const Authentication& a) {
  std::string out = " authentication username " + a.username + " " + password(cfg, a.password, a.password_encrypted);
  if (!a.realm.empty()) out += " realm " + a.realm;
  return out + "\n";
}

std::string localhost(const Localhost& l) {
  return "localhost dns:" + l.dns_name + (l.preferred ? " preferred" : "") + "\n";
}

// interface blocks in IOS order: description, encapsulation, ip address, shutdown, ipv6.
std::string interface(const Interface& i) {
  std::string out = "interface " + i.name + "\n";
  if (!i.description.empty()) out += " description " + i.description + "\n";
  if (i.vlan != 0) out += " encapsulation dot1Q " + std::to_string(i.vlan) + "\n";
  if (i.ipv4) {
    out += " ip address " + ipv4_to_string(i.ipv4->address) + " " +
           ipv4_to_string(ipv4_mask(i.ipv4->length)) + "\n";
  } else {
    out += " no ip address\n";
  }
  if (i.shutdown) out += " shutdown\n";
  for (const Ipv6Prefix& p : i.ipv6) {
    out += " ipv6 address " + ipv6_to_string(p.address) + "/" + std::to_string(p.length) + "\n";
  }
  return out + "!\n";
}

std::string route(const Route& r) {
  if (r.ipv6) {
    return "ipv6 route " + ipv6_to_string(r.network6.address) + "/" +
           std::to_string(r.network6.length) + " " + ipv6_to_string(r.gateway6) + "\n";
  }
  return "ip route " + ipv4_to_string(r.network4.address) + " " +
         ipv4_to_string(ipv4_mask(r.network4.length)) + " " + ipv4_to_string(r.gateway4) + "\n";
}

// `ipv4 A.B.C.D` for a host, `ipv4 A.B.C.D M.M.M.M` for a network, as IOS lists them.
std::string trusted_entry(const Ipv4Prefix& p) {
  std::string out = "  ipv4 " + ipv4_to_string(p.address);
  if (p.length != 32) out += " " + ipv4_to_string(ipv4_mask(p.length));
  return out + "\n";
}

// IOS order: the trusted list before the sip sub-mode.
std::string voice_service(const VoiceService& v) {
  std::string out = "voice service voip\n";
  if (v.trusted.present || !v.trusted.ipv4.empty()) {
    out += " ip address trusted list\n";
    for (const Ipv4Prefix& p : v.trusted.ipv4) out += trusted_entry(p);
  }
  if (v.sip.present || !(v.sip == VoiceSip{})) {
    out += " sip\n";
    if (!v.sip.bind_control_interface.empty())
      out += "  bind control source-interface " + v.sip.bind_control_interface + "\n";
    if (v.sip.listen_port != kDefaultSipPort)
      out += "  listen-port non-secure " + std::to_string(v.sip.listen_port) + "\n";
  }
  return out + "!\n";
}

// A dial peer block. IOS order: description, preference, huntstop, destination-pattern,
// session target, incoming called-number, then the voice-class settings. Appends to `out`
// (100k POTS dial peers: no string per block).
void dial_peer(std::string& out, const Config& cfg, const DialPeer& dp) {
  out += "dial-peer voice ";
  out += std::to_string(dp.tag);
  out += dp.is_voip() ? " voip\n" : " pots\n";
  const VoipSettings* v = dp.is_voip() && dp.voip ? &*dp.voip : nullptr;
  if (v && !v->description.empty()) out += " description " + v->description + "\n";
  if (v && v->preference != 0) out += " preference " + std::to_string(v->preference) + "\n";
  if (v && v->huntstop) out += " huntstop\n";
  if (!dp.destination_pattern.empty()) {
    out += " destination-pattern ";
    out += dp.destination_pattern;
    out += "\n";
  }
  if (v && v->session_target.kind != SessionTargetKind::none)
    out += " session target " + render_session_target(v->session_target) + "\n";
  if (v && !v->incoming_called_number.empty())
    out += " incoming called-number " + v->incoming_called_number + "\n";
  for (const auto& a : dp.authentication) out += authentication(cfg, a);
  if (dp.localhost) out += " voice-class sip " + localhost(*dp.localhost);
  out += "!\n";
}

bool sip_ua_configured(const SipUa& ua) {
  return ua.present || !(ua == SipUa{});
}

}  // namespace

std::string render_session_target(const SessionTarget& t) {
  switch (t.kind) {
    case SessionTargetKind::none:
      return {};
    case SessionTargetKind::registrar:
      return "registrar";
    case SessionTargetKind::ipv4:
    case SessionTargetKind::dns: {
      std::string out = (t.kind == SessionTargetKind::ipv4 ? "ipv4:" : "dns:") + t.host;
      if (t.port != 0) out += ":" + std::to_string(t.port);
      return out;
    }
  }
  return {};
}

std::string render_running_config(const Config& cfg) {
  std::string out = "!\n";
  out += "hostname " + cfg.hostname + "\n!\n";
  if (cfg.service_password_encryption) out += "service password-encryption\n!\n";
  if (!cfg.logging.buffered) {
    out += "no logging buffered\n!\n";
  } else if (cfg.logging.buffered_bytes != Logging{}.buffered_bytes ||
             cfg.logging.buffered_level != Logging{}.buffered_level) {
    static constexpr const char* kLevels[] = {"emergencies", "alerts",        "critical",      "errors",
                                              "warnings",    "notifications", "informational", "debugging"};
    out += "logging buffered " + std::to_string(cfg.logging.buffered_bytes);
    if (cfg.logging.buffered_level != Logging{}.buffered_level)
      out += std::string(" ") + kLevels[cfg.logging.buffered_level & 7];
    out += "\n!\n";
  }
  for (const Interface* i : interfaces_in_order(cfg)) out += interface(*i);
  for (const Route& r : cfg.routes) out += route(r);
  if (!cfg.routes.empty()) out += "!\n";
  if (cfg.voice.present || !(cfg.voice == VoiceService{})) out += voice_service(cfg.voice);
  for (const auto& [tag, p] : cfg.keepalive_profiles) {
    out += "voice class sip-options-keepalive " + std::to_string(tag) + "\n";
    if (!p.description.empty()) out += " description " + p.description + "\n";
    if (p.up_interval_s != kDefaultKeepaliveUp) out += " up-interval " + std::to_string(p.up_interval_s) + "\n";
    if (p.down_interval_s != kDefaultKeepaliveDown) out += " down-interval " + std::to_string(p.down_interval_s) + "\n";
    if (p.retry != kDefaultKeepaliveRetry) out += " retry " + std::to_string(p.retry) + "\n";
    out += "!\n";
  }
  for (const auto& [tag, dp] : cfg.dial_peers) dial_peer(out, cfg, dp);
  const SipUa& ua = cfg.sip_ua;
  if (sip_ua_configured(ua)) {
    out += "sip-ua\n";
    for (const auto& c : ua.credentials) {
      out += " credentials number " + c.number + " username " + c.username + " " +
             password(cfg, c.password, c.password_encrypted) + " realm " + c.realm + "\n";
    }
    if (ua.credentials_dhcp) {
      out += " credentials dhcp " + password(cfg, ua.credentials_dhcp->password, ua.credentials_dhcp->password_encrypted) + " realm " +
             ua.credentials_dhcp->realm + "\n";
    }
    for (const auto& a : ua.authentication) out += authentication(cfg, a);
    if (ua.localhost) out += " " + localhost(*ua.localhost);
    if (ua.retry_register != kDefaultRetryRegister)
      out += " retry register " + std::to_string(ua.retry_register) + "\n";
    if (ua.timers_register_ms != kDefaultTimersRegisterMs)
      out += " timers register " + std::to_string(ua.timers_register_ms) + "\n";
    for (const auto& [index, r] : ua.registrars) out += registrar(r);
    if (ua.registration_rate != kDefaultRegistrationRate)
      out += " registration rate " + std::to_string(ua.registration_rate) + "\n";
    if (ua.shard_count != 0)
      out += " shard " + std::to_string(ua.shard_index) + " of " + std::to_string(ua.shard_count) + "\n";
    out += "!\n";
  }
  out += "end\n";
  return out;
}

std::string render_sip_ua_timers(const Config& cfg, bool json) {
  const SipUa& ua = cfg.sip_ua;
  if (json) {
    nlohmann::json j;
    j["register_ms"] = ua.timers_register_ms;
    j["registration_rate"] = ua.registration_rate;
    j["options_keepalive"] = nlohmann::json::array();
    for (const auto& [tag, p] : cfg.keepalive_profiles) {
      j["options_keepalive"].push_back(
          {{"profile", tag}, {"up_interval_s", p.up_interval_s}, {"down_interval_s", p.down_interval_s}});
    }
    return j.dump() + "\n";
  }
  std::string out = "SIP UA Timer Values (millisecs unless noted)\n";
  out += "register " + std::to_string(ua.timers_register_ms) + "\n";
  // regfront's own, after IOS's lines.
  out += "registration rate " + std::to_string(ua.registration_rate) + " REGISTERs per second\n";
  for (const auto& [tag, p] : cfg.keepalive_profiles) {
    out += "options keepalive " + std::to_string(tag) + ": up-interval " + std::to_string(p.up_interval_s) +
           " seconds, down-interval " + std::to_string(p.down_interval_s) + " seconds\n";
  }
  return out;
}

std::string render_sip_ua_retry(const Config& cfg, bool json) {
  if (json) {
    nlohmann::json j;
    j["register"] = cfg.sip_ua.retry_register;
    j["options_keepalive"] = nlohmann::json::array();
    for (const auto& [tag, p] : cfg.keepalive_profiles)
      j["options_keepalive"].push_back({{"profile", tag}, {"retry", p.retry}});
    return j.dump() + "\n";
  }
  std::string out = "SIP UA Retry Values\n";
  out += "register retry count = " + std::to_string(cfg.sip_ua.retry_register) + "\n";
  for (const auto& [tag, p] : cfg.keepalive_profiles) {
    out += "options retry count = " + std::to_string(p.retry) + " (sip-options-keepalive " + std::to_string(tag) + ")\n";
  }
  return out;
}

std::string render_clock(std::chrono::system_clock::time_point t, bool synchronized) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const long frac = static_cast<long>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%02d:%02d:%02d.%03ld UTC %s %s %d %d", synchronized ? "" : "*", tm.tm_hour,
                tm.tm_min, tm.tm_sec, frac, kDays[tm.tm_wday], kMonths[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
  return buf;
}

std::string render_clock_json(std::chrono::system_clock::time_point t, bool synchronized) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const long frac = static_cast<long>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char utc[64];
  std::snprintf(utc, sizeof utc, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  nlohmann::json j;
  j["utc"] = utc;
  j["unix_ms"] = static_cast<std::int64_t>(ms);
  j["synchronized"] = synchronized;
  return j.dump() + "\n";
}

}  // namespace regfront::config
