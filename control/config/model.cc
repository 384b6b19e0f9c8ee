// control/config/model.cc — helpers over the configuration model.
#include <algorithm>
#include <mutex>
#include <ostream>
#include <unordered_map>
#include <unordered_set>

#include "regfront/config/model.h"

namespace regfront::config {

bool is_endpoint_number(const std::string& pattern) {
  std::string_view p = pattern;
  if (!p.empty() && p.front() == '+') p.remove_prefix(1);
  return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_endpoint_dial_peer(const DialPeer& dp) {
  return dp.type == DialPeerType::pots && is_endpoint_number(dp.destination_pattern);
}

void CompactString::assign(std::string_view s) {
  if (s.size() <= kInline) {
    std::memcpy(buf_, s.data(), s.size());
    set_inline(s.size());
    return;
  }
  char* p = new char[s.size()];
  std::memcpy(p, s.data(), s.size());
  const auto n = static_cast<std::uint32_t>(s.size());
  std::memcpy(buf_, &p, sizeof p);
  std::memcpy(buf_ + sizeof p, &n, sizeof n);
  buf_[kInline] = static_cast<char>(kHeap);
}

void CompactString::release() noexcept {
  if (!on_heap()) return;
  char* p;
  std::memcpy(&p, buf_, sizeof p);
  delete[] p;
  set_inline(0);
}

std::ostream& operator<<(std::ostream& os, const CompactString& s) { return os << s.view(); }

namespace {
struct SharedStrings {
  std::mutex mutex;
  std::unordered_map<std::string_view, void*> by_text;  // views into the entries' text
};
SharedStrings& shared_strings() {
  static auto* table = new SharedStrings;  // never destroyed: static SharedStrings may outlive it
  return *table;
}
}  // namespace

SharedString::Entry* SharedString::acquire(std::string_view s) {
  if (s.empty()) return nullptr;
  SharedStrings& t = shared_strings();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (const auto it = t.by_text.find(s); it != t.by_text.end()) {
    Entry* e = static_cast<Entry*>(it->second);
    ++e->refs;
    return e;
  }
  auto* e = new Entry{std::string(s), 1};
  t.by_text.emplace(e->text, e);
  return e;
}

void SharedString::retain(Entry* e) noexcept {
  if (e == nullptr) return;
  std::lock_guard<std::mutex> lock(shared_strings().mutex);
  ++e->refs;
}

void SharedString::release(Entry* e) noexcept {
  if (e == nullptr) return;
  SharedStrings& t = shared_strings();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (--e->refs != 0) return;
  t.by_text.erase(e->text);
  delete e;
}

std::ostream& operator<<(std::ostream& os, const SharedString& s) { return os << s.view(); }

std::uint32_t shard_of(std::string_view number, std::uint32_t count) {
  std::uint64_t key = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (const char ch : number) {
    key ^= static_cast<unsigned char>(ch);
    key *= 0x100000001b3ull;
  }
  // Jump consistent hash: the last bucket a pseudo-random walk keyed by `key` jumps to below count.
  std::int64_t b = -1;
  std::int64_t j = 0;
  while (j < static_cast<std::int64_t>(count)) {
    b = j;
    key = key * 2862933555777941757ull + 1;
    j = static_cast<std::int64_t>(static_cast<double>(b + 1) *
                                  (static_cast<double>(1ll << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<std::uint32_t>(b < 0 ? 0 : b);
}

std::vector<std::string> endpoint_numbers(const Config& cfg) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;  // views into cfg, which outlives this call
  for_each_endpoint_number(cfg, [&](std::string_view n) {
    if (seen.insert(n).second) out.emplace_back(n);
  });
  return out;
}

}  // namespace regfront::config
