// regfront/snapshot/builder.h — turns the configuration model into worker snapshots.
//
// Runs on the control plane (allocation allowed). It keeps, across builds, which binding slot
// of which worker each (endpoint number, registrar index) occupies, so that a rebuilt snapshot
// keeps unchanged bindings where they were (same slot, same generation: the worker leaves them
// alone) and gives new ones fresh generations.
//
//   Builder b(workers);
//   RegistrarAddresses addrs;  // from the resolver
//   std::unique_ptr<reg::Snapshot> s = b.build(cfg, addrs, listen_port);
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "regfront/auth/digest.h"
#include "regfront/call/dial_peer_match.h"
#include "regfront/config/model.h"
#include "regfront/reg/snapshot.h"

namespace regfront::snapshot {

struct ResolvedRegistrar {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string local_ip;  // our source address towards it, "[v6]" bracketed for IPv6
};
using RegistrarAddresses = std::array<std::optional<ResolvedRegistrar>, reg::kRegistrarSlots>;

// Voip dial peers' session targets (`ipv4:…`, `dns:…`) as resolved, by session_target_key().
using TargetAddresses = std::map<std::string, ResolvedRegistrar>;
// "host:port" of a session target (port 5060 when not given); "" for none and registrar.
std::string session_target_key(const config::SessionTarget& t);

// Owner worker of an endpoint: a stable hash of its number (DESIGN.md "Ownership").
std::uint32_t owner_worker(const std::string& number, std::uint32_t workers);

class Builder {
 public:
  explicit Builder(std::uint32_t workers);

  // `learned_realms` are realms registrars challenged with that the configuration does not
  // name: realm-less credentials (F4.4) get an HA1 for each of them too. `previous` is the
  // snapshot the workers run now (the last one built): bindings that left the configuration
  // are kept as `leaving` plan entries, with ghost copies of their endpoint and registrar, until
  // their unregistration has had time to finish (`now_ms` dates that). Credentials of the
  // `sha_realms` (realms that challenged with a SHA algorithm) get SHA-256 and SHA-512/256 HA1s
  // too; all others only the MD5 one (realm-less credentials always get all three).
  std::unique_ptr<reg::Snapshot> build(const config::Config& cfg, const RegistrarAddresses& addrs,
                                       std::uint16_t listen_port,
                                       const std::vector<std::string>& learned_realms = {},
                                       const reg::Snapshot* previous = nullptr, std::uint64_t now_ms = 0,
                                       const std::vector<std::string>& sha_realms = {},
                                       const TargetAddresses& targets = {});

  // When the first leaving binding's time is up (0: none leaving): build again then, so that
  // its slot is released. The daemon's control loop asks on every wake-up: it scans only the
  // leaving bindings.
  std::uint64_t next_expiry_ms() const;

  // What the keepalive worker of registrar slot 0..5 last found (true: down): the next builds
  // publish it (SnapRegistrar::keepalive_down) while the registrar has a keepalive profile.
  // Returns true when it changed (the caller then builds and publishes).
  bool set_keepalive_down(int slot, bool down) {
    if (keepalive_down_[slot] == down) return false;
    keepalive_down_[slot] = down;
    return true;
  }
  bool keepalive_down(int slot) const { return keepalive_down_[slot]; }

 private:
  // The phases of build(), in order. Build holds one build's inputs and what the phases hand
  // each other; builder.cc defines it and says, for each phase, what it reads and produces.
  struct Build;
  struct EndpointCredentials;
  void configured_bindings(Build& b);
  void classify_slots(Build& b);
  void expire_retired_credentials(std::uint64_t now_ms);
  void collect_realms(Build& b) const;
  void fill_registrars(Build& b);
  void prepare_ha1_reuse(const reg::Snapshot* previous);
  EndpointCredentials add_credentials(Build& b);
  std::uint32_t add_credential(Build& b, std::string_view user, std::string_view realm, std::string_view password,
                               std::uint8_t tier);
  void add_endpoints(Build& b, const EndpointCredentials& creds) const;
  void retire_removed_credentials(Build& b);
  std::vector<reg::PlanEntry> add_ghosts(Build& b);
  void place_plans(Build& b, const std::vector<reg::PlanEntry>& ghosts);
  void add_calls(Build& b);
  void map_previous_ids(Build& b) const;
  void finish(Build& b);
  template <typename Fn>
  void for_each_ghost_credential(const reg::Snapshot& previous, const reg::SnapEndpoint& e, Fn&& fn) const;

  // A binding's identity is (registrar key "index|domain:port", endpoint number); both are
  // interned (ids into reg_keys_ / numbers_) so that a slot is 12 bytes: there is one per
  // binding, 600k at storm scale, within a memory budget of 256 bytes per binding.
  static constexpr std::uint8_t kFree = 0xff;
  struct Slot {
    std::uint32_t number = 0;         // id in numbers_
    std::uint32_t generation = 0;
    std::uint8_t registrar = kFree;   // id in reg_keys_; kFree = free slot
  };
  struct SlotState {
    std::vector<Slot> slots;
    // (registrar, number) → slot: open addressing (linear probing) over slot indices, the key
    // being read from `slots`; kNoEntry = empty.
    std::vector<std::uint32_t> index;
    std::uint32_t indexed = 0;
    std::vector<std::uint32_t> free;
    std::unordered_map<std::uint32_t, std::uint64_t> leaving_until;  // slot → ms, leaving ones only
  };
  std::uint32_t acquire(SlotState& st, std::uint8_t registrar, std::uint32_t number);
  void release(SlotState& st, std::uint32_t slot);
  void index_insert(SlotState& st, std::uint32_t slot);
  std::uint8_t registrar_id(const std::string& key);          // interned, adds it when new
  std::uint32_t number_id(std::string_view number);         // interned, adds it when new
  std::uint32_t find_number(std::string_view number) const;  // kNoEntry when unknown
  struct Interned {
    std::string name;
    std::uint32_t uses = 0;  // slots that refer to it
    std::uint64_t pinned_in = 0;  // build that looked it up last: not reused for another key then
  };
  std::vector<Interned> reg_keys_;                        // few: configured and leaving ones
  // Endpoint numbers: id → number (24 B each) and an open-addressed index of ids by number.
  struct Number {
    config::CompactString name;  // empty = free id
    std::uint32_t uses = 0;      // slots that refer to it
  };
  std::vector<Number> numbers_;
  std::vector<std::uint32_t> number_index_;  // kNoEntry = empty
  std::uint32_t numbers_indexed_ = 0;
  std::vector<std::uint32_t> free_numbers_;
  void number_index_insert(std::uint32_t id);

  // HA1 reuse. A rebuild after one command would otherwise recompute every HA1 (600k hashes for
  // 600k credentials). The builder remembers, for the last snapshot it built, a 64-bit
  // fingerprint of (username, realm, password) per HA1 (8 bytes each; the HA1s themselves are
  // in that snapshot), and the next build copies an HA1 from it when the fingerprint, username
  // and realm match: the MD5 one, and the SHA ones when `hashes` asks for them and that
  // credential had them (a realm that just became a SHA realm computes only those). `at` is
  // the index the HA1 gets in the new snapshot (a credential index, or an anyrealm_ha1 index |
  // kAnyRealmBit): the same index of the last one is tried first.
  auth::Ha1Set ha1(std::string_view user, std::string_view realm, std::string_view password, std::uint8_t hashes,
                   std::uint32_t at, std::uint64_t& fp);
  // The HA1s of entry `index` (as Reuse::index) of reuse_from_ when it is `user`'s for `realm`.
  std::optional<auth::Ha1Set> reuse_ha1(std::uint32_t index, std::string_view user, std::string_view realm,
                                        std::string_view password, std::uint8_t hashes) const;
  void sort_reuse();
  std::uint64_t fingerprint(std::string_view user, std::string_view realm, std::string_view password);
  struct Reuse {
    std::uint64_t fp;
    std::uint32_t index;  // credential index, or anyrealm_ha1 index | kAnyRealmBit
  };
  static constexpr std::uint32_t kAnyRealmBit = 0x80000000u;
  std::vector<Reuse> reuse_;             // during a build only, sorted by fp, made when first needed
  bool reuse_sorted_ = false;
  std::array<std::int64_t, 2> reuse_shift_{};  // credentials, anyrealm_ha1: the last move found
  std::uint32_t reuse_misses_ = 0;             // HA1s not found near their place in this build
  const reg::Snapshot* reuse_from_ = nullptr;
  std::uint64_t fp_version_ = 0;         // the snapshot cred_fp_ / anyrealm_fp_ describe
  std::vector<std::uint64_t> cred_fp_;   // per credential; 0 = not from the configuration
  std::vector<std::uint64_t> anyrealm_fp_;  // per anyrealm_ha1 entry
  std::uint64_t fp_seed_;
  std::string fp_buf_;

  // Realm-specific credentials removed from an endpoint that is still configured (R7: they go
  // one command at a time), kept while a registration made with them may still be alive: when
  // the endpoint itself leaves later, its unregistration at that realm's registrar needs them.
  struct RetiredCredential {
    std::string realm;
    std::string username;
    reg::SnapCredential credential;  // realm id, username offset and sha_row meaningless here
    std::optional<reg::ShaHa1> sha;  // its SHA HA1s, when it had them
    std::uint64_t until = 0;
  };
  std::unordered_map<std::string, std::vector<RetiredCredential>> retired_;

  // The dial-peer matchers of the last build and the patterns they were built from (id, pattern,
  // preference, tag): a build whose voip dial peers route the same way shares them (Hyperscan
  // or the trie is not rebuilt after a credential change).
  struct Matchers {
    std::vector<std::tuple<std::uint32_t, std::string, std::uint8_t, std::uint32_t>> patterns;
    std::shared_ptr<const call::DialPeerMatcher> matcher;
    std::vector<std::shared_ptr<call::MatchScratch>> scratch;
  };
  Matchers outbound_, inbound_;

  std::uint32_t workers_;
  std::vector<SlotState> slots_;
  std::array<std::string, reg::kSnapRegistrarSlots> prev_reg_keys_{};
  // The address each registrar slot 0..5 was last built with: one at another address under the
  // same key (DNS failover) gets new binding generations.
  std::array<std::optional<ResolvedRegistrar>, reg::kRegistrarSlots> prev_addrs_{};
  // SnapRegistrar::generation of slots 0..5: a new value whenever the slot's registrar key
  // (its identity) differs from the previous build's, so workers drop what they cached about
  // the registrar that was there (its last nonce).
  std::array<std::uint32_t, reg::kRegistrarSlots> reg_generation_{};
  std::uint32_t next_reg_generation_ = 1;
  std::array<bool, reg::kRegistrarSlots> keepalive_down_{};
  std::uint64_t version_ = 0;
  std::uint32_t next_generation_ = 1;
};

}  // namespace regfront::snapshot
