// regfront/reg/snapshot.h — the immutable configuration the workers read.
//
// The control plane builds a Snapshot from the configuration model (regfront/snapshot/builder.h;
// the writes that fill one are in regfront/snapshot/writer.h), with resolved registrar addresses
// and precomputed HA1 values, publishes it with one atomic pointer store, and frees it only after
// every worker has passed a quiescent state. Workers never write to it and never see a password:
// what is declared here only reads.
//
//   const reg::Snapshot& s = *current;  // the pointer is read once per loop iteration
//   const reg::PlanEntry& p = s.plans[worker][slot];
//   const reg::Snapshot::Choice c = s.choose_credential(p.endpoint, s.realms.find(challenge_realm));
//   if (c.cred == nullptr) return;  // F4.5: no credential for that realm
//   answer(s.username(*c.cred), c.ha1);
//
// Credential choice (F4) is laid out so that a worker answers a challenge with a realm lookup
// in a small open-addressed table and a scan of at most a dozen entries:
//   tier 1/2: the endpoint's own entries (dial-peer authentication, then `credentials`), each
//             bound to one realm id;
//   tier 3:   sip-ua authentication entries, one per realm id (`ua_auth_by_realm`);
//   tier 4:   realm-less entries (the endpoint's dial peer's, then sip-ua's): HA1 depends on the
//             challenged realm, so it is precomputed for every realm the configuration names
//             (`anyrealm_ha1`). A realm nobody configured cannot be answered by them: see
//             DESIGN notes in engine.h.
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/auth/digest.h"
#include "regfront/reg/snapshot_calls.h"

namespace regfront::reg {

inline constexpr std::uint32_t kNoRealm = 0xffffffffu;
inline constexpr std::uint32_t kNoEntry = 0xffffffffu;
inline constexpr int kRegistrarSlots = 6;  // registrar indices 1..6 (R4)
// Registrar slots of a snapshot: 0..5 are the configured registrars (index - 1); 6..11 hold a
// registrar that was removed or re-addressed while its bindings unregister ("leaving"), slot
// 6 + (index - 1). Counters are per index: slot % kRegistrarSlots.
inline constexpr int kSnapRegistrarSlots = 2 * kRegistrarSlots;

struct SnapRegistrar {
  bool present = false;
  std::uint8_t index = 0;          // 1..6 as configured
  std::string domain;              // host part of Request-URI, To and From (name or literal)
  std::string request_uri;         // "sip:domain[:port]"
  std::string local_ip;            // our address towards this registrar ("[v6]" bracketed)
  sockaddr_storage addr{};         // resolved destination
  socklen_t addr_len = 0;          // 0 = not resolved yet: its bindings wait
  std::uint32_t expires = 3600;    // requested expiry
  std::uint8_t refresh_ratio = 80;
  std::uint32_t auth_realm = kNoRealm;  // realm id the registrar is pinned to, or kNoRealm
  double rate_per_worker = 500;    // REGISTER requests per second (all of them), this worker's share
  std::uint32_t generation = 0;    // changes when the registrar's identity (address/domain) does
  // OPTIONS keepalive (`options-keepalive profile TAG`, voice class sip-options-keepalive):
  // keepalive_up_ms == 0 = none. Only `keepalive_worker` sends them; when it finds the
  // registrar down the control plane publishes `keepalive_down`, and every worker holds that
  // registrar's REGISTERs until it is up again.
  std::uint32_t keepalive_up_ms = 0;
  std::uint32_t keepalive_down_ms = 0;
  std::uint8_t keepalive_retry = 0;
  std::uint8_t keepalive_worker = 0;
  bool keepalive_down = false;
};

// The SHA-256 and SHA-512/256 HA1s of one credential (Snapshot::sha_ha1), binary.
struct ShaHa1 {
  std::uint8_t sha256[32];
  std::uint8_t sha512_256[32];
};

// One credential as the worker sees it: 32 bytes (there is one per binding, 600k at storm scale,
// within a budget of 256 bytes per binding).
// The username is in Snapshot::strings (Snapshot::username() gives it). Every credential with a
// realm has its MD5 HA1; the SHA ones only when its realm is a "SHA realm" (one a registrar
// challenged with a SHA algorithm: almost none do), in Snapshot::sha_ha1[sha_row].
struct SnapCredential {
  union {
    std::uint8_t md5[16] = {};     // binary MD5 HA1; when realm != kNoRealm
    std::uint32_t anyrealm_row;    // row in anyrealm_ha1 when realm == kNoRealm
  };
  std::uint32_t sha_row = kNoEntry;  // in Snapshot::sha_ha1; kNoEntry = MD5 only
  std::uint32_t username_at = 0;   // offset in Snapshot::strings
  std::uint32_t realm = kNoRealm;  // realm id; kNoRealm = serves any realm (F4.4)
  // A username longer than this could not fit in a REGISTER anyway (kMaxRequest).
  static constexpr std::size_t kMaxUsername = 0xffff;
  std::uint16_t username_len = 0;
  std::uint8_t tier = 0;           // 1 dial-peer, 2 credentials, 3 sip-ua authentication, 4 any
};

// 16 bytes; the number (user part of To/From/Contact) is in Snapshot::strings
// (Snapshot::number() gives it).
struct SnapEndpoint {
  std::uint32_t number_at = 0;     // offset in Snapshot::strings
  // The endpoint's first binding slot in its owner worker's plan; PlanEntry::next_slot chains
  // the others (configured bindings only, not leaving ones). The call relay asks which
  // registrars hold a live binding for a number in O(registrars).
  std::uint32_t first_slot = kNoEntry;
  std::uint32_t cred_begin = 0;    // into Snapshot::endpoint_creds: tier 1, tier 2, then the
  std::uint32_t dial_peer = 0;     // tag, 0 when the endpoint comes from `credentials`
  std::uint16_t number_len = 0;
  std::uint16_t cred_count = 0;    // endpoint's dial-peer realm-less entries (tier 4)
};

// A realm string → id table (open addressing, power-of-two size; the control plane fills it with
// snapshot::add_realm()).
struct RealmTable {
  std::vector<std::string> names;          // id → name
  std::vector<std::uint32_t> slots;        // hash slot → id, kNoRealm = empty
  std::uint32_t find(std::string_view realm) const;
  static std::uint64_t hash(std::string_view s);
};

// What one worker does with one binding slot (index = slot in the worker's binding table).
// 12 bytes (one per binding slot): the 32-bit fields first.
struct PlanEntry {
  std::uint32_t endpoint = kNoEntry;  // index in Snapshot::endpoints; kNoEntry = slot unused
  std::uint32_t generation = 0;       // changes when the slot is given to another binding
  std::uint8_t registrar = 0;         // registrar slot 0..5
  // The binding left the configuration: unregister it (paced, Expires: 0) if it is registered,
  // then leave the slot idle. Its endpoint and registrar are ghosts kept for that purpose.
  bool leaving = false;
  std::uint32_t next_slot = kNoEntry; // the endpoint's next binding slot (SnapEndpoint::first_slot)
};

// The worker that owns an endpoint's bindings and calls: a stable hash of its number
// (DESIGN.md "Ownership"). The control plane places bindings with it; workers hand calls on by it.
std::uint32_t owner_of(std::string_view number, std::uint32_t workers);

struct Snapshot {
  std::uint64_t version = 0;
  std::array<SnapRegistrar, kSnapRegistrarSlots> registrars{};
  std::vector<SnapEndpoint> endpoints;
  std::vector<SnapCredential> credentials;
  std::string strings;                           // usernames and numbers, back to back
  std::vector<std::uint32_t> endpoint_creds;     // credential indices, see SnapEndpoint
  std::vector<std::uint32_t> ua_auth_by_realm;   // realm id → credential index (tier 3) or kNoEntry
  std::vector<std::uint32_t> ua_anyrealm;        // sip-ua realm-less credential indices (tier 4)
  std::vector<auth::Ha1Set> anyrealm_ha1;        // [row * realms.names.size() + realm id], all hashes
  std::vector<ShaHa1> sha_ha1;                   // SnapCredential::sha_row → SHA HA1s
  std::vector<bool> sha_realm;                   // realm id → its credentials have SHA HA1s
  std::vector<bool> learned_realm;               // realm id → learned from a challenge (not configured)
  // The ids of the snapshot built just before this one (`previous_version`) in this one's
  // terms: a worker adopting this one straight from that one moves what each binding last used
  // (its credential and realm) to the new ids, so that status rows and the once-per-realm rule
  // (F7) keep meaning what went on the wire. kNoEntry / kNoRealm: gone from the configuration.
  std::uint64_t previous_version = 0;
  std::vector<std::uint32_t> credential_from_previous;  // previous credential index → this one's
  std::vector<std::uint32_t> realm_from_previous;       // previous realm id → this one's
  RealmTable realms;
  std::vector<std::vector<PlanEntry>> plans;     // one per worker
  // number → endpoint index (open addressing over the configured endpoints; kNoEntry = empty)
  std::vector<std::uint32_t> endpoint_index;
  SnapCalls calls;                               // what the call relay reads
  std::uint16_t listen_port = 5060;              // Contact port; Via port is per worker
  std::uint32_t t1_ms = 500;
  std::uint8_t retry_register = 6;

  // F4: the credential and HA1 to answer a challenge for `realm` on behalf of endpoint `ep`;
  // returns nullptr (F4.5: terminate) when none applies. `realm_id` is realms.find(realm).
  struct Choice {
    const SnapCredential* cred = nullptr;
    auth::Ha1View ha1;  // a hash it lacks cannot be answered (see Engine: SHA realm learning)
  };
  Choice choose_credential(std::uint32_t ep, std::uint32_t realm_id) const;
  // The HA1s of a realm-specific credential (realm != kNoRealm).
  auth::Ha1View ha1_of(const SnapCredential& c) const {
    auth::Ha1View v;
    v.part[0] = c.md5;
    if (c.sha_row != kNoEntry) {
      v.part[1] = sha_ha1[c.sha_row].sha256;
      v.part[2] = sha_ha1[c.sha_row].sha512_256;
    }
    return v;
  }
  std::string_view username(const SnapCredential& c) const { return {strings.data() + c.username_at, c.username_len}; }
  std::string_view number(const SnapEndpoint& e) const { return {strings.data() + e.number_at, e.number_len}; }
  // True when a realm-less credential (F4.4) could answer for endpoint `ep`.
  bool has_anyrealm(std::uint32_t ep) const;
  // The configured endpoint whose number is `number`, or kNoEntry.
  std::uint32_t find_endpoint(std::string_view number) const;
};

}  // namespace regfront::reg
