// regfront/control/snapshot_builder.h — turns the configuration model into worker snapshots.
//
// Runs on the control plane (allocation allowed). It keeps, across builds, which binding slot
// of which worker each (endpoint number, registrar index) occupies, so that a rebuilt snapshot
// keeps unchanged bindings where they were (same slot, same generation: the worker leaves them
// alone) and gives new ones fresh generations.
//
//   SnapshotBuilder b(workers);
//   RegistrarAddresses addrs;  // from the resolver
//   std::unique_ptr<reg::Snapshot> s = b.build(cfg, addrs, listen_port);
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "regfront/auth/digest.h"
#include "regfront/config/model.h"
#include "regfront/reg/snapshot.h"

namespace regfront::control {

struct ResolvedRegistrar {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string local_ip;  // our source address towards it, "[v6]" bracketed for IPv6
};
using RegistrarAddresses = std::array<std::optional<ResolvedRegistrar>, reg::kRegistrarSlots>;

// Owner worker of an endpoint: a stable hash of its number (DESIGN.md "Ownership").
std::uint32_t owner_worker(const std::string& number, std::uint32_t workers);

class SnapshotBuilder {
 public:
  explicit SnapshotBuilder(std::uint32_t workers) : workers_(workers), slots_(workers) {}

  // `learned_realms` are realms registrars challenged with that the configuration does not
  // name: realm-less credentials (F4.4) get an HA1 for each of them too. `previous` is the
  // snapshot the workers run now (the last one built): bindings that left the configuration
  // are kept as `leaving` plan entries, with ghost copies of their endpoint and registrar, until
  // their unregistration has had time to finish (`now_ms` dates that).
  std::unique_ptr<reg::Snapshot> build(const config::Config& cfg, const RegistrarAddresses& addrs,
                                       std::uint16_t listen_port,
                                       const std::vector<std::string>& learned_realms = {},
                                       const reg::Snapshot* previous = nullptr, std::uint64_t now_ms = 0);

  // When the first leaving binding's time is up (0: none leaving): build again then, so that
  // its slot is released. Computed by build() (the only writer of the slots); O(1) here, since
  // the daemon's control loop asks on every wake-up.
  std::uint64_t next_expiry_ms() const { return next_expiry_; }

 private:
  // A binding's identity is (registrar key "index|domain:port", endpoint number).
  struct Slot {
    std::string registrar;           // empty = free
    std::string number;
    std::uint32_t generation = 0;
    std::uint64_t leaving_until = 0;  // 0 = configured; else the binding is leaving until then
  };
  struct SlotState {
    std::vector<Slot> slots;
    // registrar key → number → slot
    std::unordered_map<std::string, std::unordered_map<std::string, std::uint32_t>> by_key;
    std::vector<std::uint32_t> free;
  };
  std::uint32_t acquire(SlotState& st, const std::string& registrar, const std::string& number);
  void release(SlotState& st, std::uint32_t slot);
  // HA1s by (username, realm, password): a rebuild after one command recomputes none of the
  // others (300k hashes for 100k credentials otherwise).
  const auth::Ha1Set& ha1(const std::string& user, const std::string& realm, const std::string& password);
  struct CachedHa1 {
    auth::Ha1Set ha1;
    std::uint64_t used_in = 0;  // last build that used it: the others are dropped after a build
  };
  std::unordered_map<std::string, CachedHa1> ha1_cache_;
  // Realm-specific credentials removed from an endpoint that is still configured (R7: they go
  // one command at a time), kept while a registration made with them may still be alive: when
  // the endpoint itself leaves later, its unregistration at that realm's registrar needs them.
  struct RetiredCredential {
    std::string realm;
    reg::SnapCredential credential;  // realm id meaningless here; the name above counts
    std::uint64_t until = 0;
  };
  std::unordered_map<std::string, std::vector<RetiredCredential>> retired_;

  std::uint32_t workers_;
  std::vector<SlotState> slots_;
  std::array<std::string, reg::kSnapRegistrarSlots> prev_reg_keys_{};
  std::uint64_t version_ = 0;
  std::uint64_t next_expiry_ = 0;
  std::uint64_t scan_next_expiry() const;
  std::uint32_t next_generation_ = 1;
};

}  // namespace regfront::control
