// regfront/snapshot/writer.h — the writes that fill a reg::Snapshot: control plane only.
//
// Workers only read a snapshot (regfront/reg/snapshot.h keeps nothing but const readers).
// What fills one — interning realms, storing numbers and usernames in its string pool — is
// here, in the control plane's snapshot module, which the data plane does not link. Builder
// uses these; a test or a benchmark that sets a snapshot up by hand uses them too.
//
//   reg::Snapshot s;
//   reg::SnapEndpoint e;
//   snapshot::set_number(s, e, "4085550100");
//   reg::SnapCredential c;
//   c.realm = snapshot::add_realm(s.realms, "sip.provider-a.example");
//   snapshot::set_username(s, c, "alice");
//   s.credentials.push_back(c);
#pragma once

#include <cstdint>
#include <string_view>

#include "regfront/reg/snapshot.h"

namespace regfront::snapshot {

// Returns the id of `realm` in `realms`, adding it when it is new. Ids are dense and never
// change (realms.names[id]); the hash slots are rebuilt for every new realm, which is cheap for
// the few realms a configuration names.
std::uint32_t add_realm(reg::RealmTable& realms, std::string_view realm);

// Stores `number` (cut to 0xffff bytes: a longer one could not fit in a REGISTER anyway) in
// s.strings as endpoint `e`'s number.
void set_number(reg::Snapshot& s, reg::SnapEndpoint& e, std::string_view number);

// Stores `username` (cut to SnapCredential::kMaxUsername) in s.strings as credential `c`'s
// username, sharing the bytes of the last credential of s.credentials when it has the same
// one: an endpoint's entries for several realms usually do.
void set_username(reg::Snapshot& s, reg::SnapCredential& c, std::string_view username);

}  // namespace regfront::snapshot
