// Writes into a reg::Snapshot being built (control plane only; see regfront/snapshot/writer.h).
#include "regfront/snapshot/writer.h"

namespace regfront::snapshot {
namespace {

// Open addressing over the realm ids, load factor at most 1/2.
void rebuild_slots(reg::RealmTable& realms) {
  std::size_t size = 8;
  while (size < realms.names.size() * 2) size <<= 1;
  realms.slots.assign(size, reg::kNoRealm);
  const std::size_t mask = size - 1;
  for (std::uint32_t id = 0; id < realms.names.size(); ++id) {
    std::size_t i = reg::RealmTable::hash(realms.names[id]) & mask;
    while (realms.slots[i] != reg::kNoRealm) i = (i + 1) & mask;
    realms.slots[i] = id;
  }
}

}  // namespace

std::uint32_t add_realm(reg::RealmTable& realms, std::string_view realm) {
  for (std::uint32_t i = 0; i < realms.names.size(); ++i) {
    if (realms.names[i] == realm) return i;
  }
  realms.names.emplace_back(realm);
  rebuild_slots(realms);
  return static_cast<std::uint32_t>(realms.names.size() - 1);
}

void set_number(reg::Snapshot& s, reg::SnapEndpoint& e, std::string_view number) {
  number = number.substr(0, 0xffff);
  e.number_at = static_cast<std::uint32_t>(s.strings.size());
  e.number_len = static_cast<std::uint16_t>(number.size());
  s.strings.append(number);
}

void set_username(reg::Snapshot& s, reg::SnapCredential& c, std::string_view username) {
  username = username.substr(0, reg::SnapCredential::kMaxUsername);
  if (!s.credentials.empty()) {
    const reg::SnapCredential& last = s.credentials.back();
    if (&last != &c && s.username(last) == username) {
      c.username_at = last.username_at;
      c.username_len = last.username_len;
      return;
    }
  }
  c.username_at = static_cast<std::uint32_t>(s.strings.size());
  c.username_len = static_cast<std::uint16_t>(username.size());
  s.strings.append(username);
}

}  // namespace regfront::snapshot
