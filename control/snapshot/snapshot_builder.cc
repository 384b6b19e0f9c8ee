// Configuration model → worker snapshot. Control plane only: allocation is fine here.
#include "regfront/control/snapshot_builder.h"

#include <cstring>

#include "regfront/auth/digest.h"

namespace regfront::control {
namespace {

std::string registrar_domain(const config::RegistrarAddress& a) {
  if (a.kind == config::AddressKind::ipv6) return "[" + a.host + "]";
  return a.host;
}

std::string registrar_key(const config::Registrar& r) {
  // A binding is re-created (new Call-ID, new registration) when the registrar's identity
  // changes; its expiry or rate changing does not make it another binding.
  return std::to_string(r.index) + "|" + registrar_domain(r.address) + ":" + std::to_string(r.address.port);
}

}  // namespace

std::uint32_t owner_worker(const std::string& number, std::uint32_t workers) {
  if (workers <= 1) return 0;
  return static_cast<std::uint32_t>(reg::RealmTable::hash(number) % workers);
}

std::unique_ptr<reg::Snapshot> SnapshotBuilder::build(const config::Config& cfg,
                                                      const RegistrarAddresses& addrs,
                                                      std::uint16_t listen_port,
                                                      const std::vector<std::string>& learned_realms) {
  auto snap = std::make_unique<reg::Snapshot>();
  reg::Snapshot& s = *snap;
  s.version = ++version_;
  s.listen_port = listen_port;
  s.t1_ms = cfg.sip_ua.timers_register_ms;
  s.retry_register = cfg.sip_ua.retry_register;

  // ---- realms: every realm the configuration names, and each registrar's domain (the realm
  // most registrars challenge with, so that realm-less entries can answer it) ----
  for (const auto& [index, r] : cfg.sip_ua.registrars) {
    if (!r.auth_realm.empty()) s.realms.add(r.auth_realm);
    if (r.address.kind == config::AddressKind::dns) s.realms.add(r.address.host);
  }
  for (const auto& a : cfg.sip_ua.authentication) {
    if (!a.realm.empty()) s.realms.add(a.realm);
  }
  for (const auto& c : cfg.sip_ua.credentials) s.realms.add(c.realm);
  for (const auto& [tag, dp] : cfg.dial_peers) {
    for (const auto& a : dp.authentication) {
      if (!a.realm.empty()) s.realms.add(a.realm);
    }
  }
  for (const auto& realm : learned_realms) s.realms.add(realm);
  const std::size_t realms_n = s.realms.names.size();

  // ---- registrars ----
  std::vector<std::string> reg_keys(reg::kRegistrarSlots);
  for (const auto& [index, r] : cfg.sip_ua.registrars) {
    if (index < 1 || index > reg::kRegistrarSlots) continue;
    // Only UDP to sip: URIs is carried today; a tcp/sips registrar is left out (the daemon says
    // so at start-up) rather than being sent UDP it will not answer.
    if (r.address.kind == config::AddressKind::dhcp || r.tcp || r.scheme == config::Scheme::sips) continue;
    reg::SnapRegistrar& sr = s.registrars[index - 1];
    sr.present = true;
    sr.index = static_cast<std::uint8_t>(index);
    sr.domain = registrar_domain(r.address);
    sr.request_uri = "sip:" + sr.domain;
    if (r.address.port != 0) sr.request_uri += ":" + std::to_string(r.address.port);
    sr.expires = r.expires;
    sr.refresh_ratio = r.refresh_ratio;
    sr.auth_realm = r.auth_realm.empty() ? reg::kNoRealm : s.realms.find(r.auth_realm);
    sr.rate_per_worker = static_cast<double>(cfg.sip_ua.registration_rate) / std::max<std::uint32_t>(1, workers_);
    if (const auto& a = addrs[index - 1]) {
      std::memcpy(&sr.addr, &a->addr, a->addr_len);
      sr.addr_len = a->addr_len;
      sr.local_ip = a->local_ip;
    }
    reg_keys[index - 1] = registrar_key(r);
  }

  // ---- credentials ----
  auto add_cred = [&](const std::string& user, const std::string& realm, const std::string& password,
                      std::uint8_t tier) -> std::uint32_t {
    reg::SnapCredential c;
    c.username = user;
    c.tier = tier;
    if (realm.empty()) {
      c.realm = reg::kNoRealm;
      c.anyrealm_row = static_cast<std::uint32_t>(s.anyrealm_ha1.size() / std::max<std::size_t>(1, realms_n));
      if (realms_n == 0) c.anyrealm_row = 0;
      for (std::uint32_t id = 0; id < realms_n; ++id) {
        s.anyrealm_ha1.push_back(auth::compute_ha1(user, s.realms.names[id], password));
      }
    } else {
      c.realm = s.realms.find(realm);
      c.ha1 = auth::compute_ha1(user, realm, password);
    }
    s.credentials.push_back(std::move(c));
    return static_cast<std::uint32_t>(s.credentials.size() - 1);
  };

  s.ua_auth_by_realm.assign(realms_n, reg::kNoEntry);
  for (const auto& a : cfg.sip_ua.authentication) {
    if (a.realm.empty()) {
      s.ua_anyrealm.push_back(add_cred(a.username, a.realm, a.password, 4));
    } else {
      const std::uint32_t id = s.realms.find(a.realm);
      // The first entry configured for a realm answers it (F4.3).
      if (s.ua_auth_by_realm[id] == reg::kNoEntry) s.ua_auth_by_realm[id] = add_cred(a.username, a.realm, a.password, 3);
    }
  }

  // Dial peers' entries are shared by every endpoint of the dial peer: one SnapCredential each.
  std::map<std::uint32_t, std::vector<std::uint32_t>> dp_realm, dp_anyrealm;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    for (const auto& a : dp.authentication) {
      if (a.realm.empty()) dp_anyrealm[tag].push_back(add_cred(a.username, a.realm, a.password, 4));
      else dp_realm[tag].push_back(add_cred(a.username, a.realm, a.password, 1));
    }
  }
  std::map<std::string, std::vector<std::uint32_t>> by_number;
  for (const auto& c : cfg.sip_ua.credentials) by_number[c.number].push_back(add_cred(c.username, c.realm, c.password, 2));

  // ---- endpoints (F2) ----
  std::map<std::string, std::uint32_t> number_dial_peer;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    if (config::is_endpoint_number(dp.destination_pattern)) number_dial_peer.emplace(dp.destination_pattern, tag);
  }
  for (const std::string& number : config::endpoint_numbers(cfg)) {
    reg::SnapEndpoint e;
    e.number = number;
    e.cred_begin = static_cast<std::uint32_t>(s.endpoint_creds.size());
    const auto dp = number_dial_peer.find(number);
    if (dp != number_dial_peer.end()) {
      e.dial_peer = dp->second;
      for (std::uint32_t c : dp_realm[dp->second]) s.endpoint_creds.push_back(c);   // F4.1
    }
    for (std::uint32_t c : by_number[number]) s.endpoint_creds.push_back(c);       // F4.2
    if (dp != number_dial_peer.end()) {
      for (std::uint32_t c : dp_anyrealm[dp->second]) s.endpoint_creds.push_back(c);  // F4.4
    }
    e.cred_count = static_cast<std::uint16_t>(s.endpoint_creds.size() - e.cred_begin);
    s.endpoints.push_back(std::move(e));
  }

  // ---- plans: stable slots per worker ----
  s.plans.assign(workers_, {});
  std::vector<std::vector<bool>> seen(workers_);
  for (std::uint32_t w = 0; w < workers_; ++w) seen[w].assign(slots_[w].key.size(), false);
  std::vector<std::vector<reg::PlanEntry>> plans(workers_);
  for (std::uint32_t w = 0; w < workers_; ++w) plans[w].resize(slots_[w].key.size());
  for (std::uint32_t ei = 0; ei < s.endpoints.size(); ++ei) {
    const std::string& number = s.endpoints[ei].number;
    const std::uint32_t w = owner_worker(number, workers_);
    SlotState& st = slots_[w];
    for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
      if (!s.registrars[ri].present) continue;
      std::string key = reg_keys[ri] + "|" + number;
      std::uint32_t slot;
      auto it = st.by_key.find(key);
      if (it != st.by_key.end()) {
        slot = it->second;
      } else {
        slot = static_cast<std::uint32_t>(st.key.size());
        st.key.push_back(key);
        st.generation.push_back(next_generation_++);
        st.by_key.emplace(std::move(key), slot);
        seen[w].push_back(false);
        plans[w].resize(st.key.size());
      }
      seen[w][slot] = true;
      plans[w][slot] = reg::PlanEntry{ei, static_cast<std::uint8_t>(ri), st.generation[slot]};
    }
  }
  // Slots no longer configured are released: their entry stays kNoEntry in the plan, which
  // tells the worker to drop what ran there; a later binding reuses the slot number with a new
  // generation.
  for (std::uint32_t w = 0; w < workers_; ++w) {
    SlotState& st = slots_[w];
    for (std::uint32_t slot = 0; slot < st.key.size(); ++slot) {
      if (!seen[w][slot] && !st.key[slot].empty()) {
        st.by_key.erase(st.key[slot]);
        st.key[slot].clear();
        st.generation[slot] = next_generation_++;
      }
    }
    s.plans[w] = std::move(plans[w]);
  }
  return snap;
}

}  // namespace regfront::control
