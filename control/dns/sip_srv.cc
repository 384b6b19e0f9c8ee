// RFC 3263 / RFC 2782 selection (see regfront/dns/sip_srv.h).
#include "regfront/dns/sip_srv.h"

#include <algorithm>
#include <cctype>

namespace regfront::dns {
namespace {

bool iequals(const std::string& a, const char* b) {
  std::size_t i = 0;
  for (; i < a.size() && b[i] != '\0'; ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return i == a.size() && b[i] == '\0';
}

}  // namespace

std::string udp_srv_name(const std::vector<NaptrRecord>& naptr) {
  const NaptrRecord* best = nullptr;
  for (const NaptrRecord& r : naptr) {
    if (!iequals(r.flags, "s") || !iequals(r.service, "SIP+D2U")) continue;
    if (r.replacement.empty() || r.replacement == ".") continue;
    if (best == nullptr || r.order < best->order || (r.order == best->order && r.preference < best->preference)) {
      best = &r;
    }
  }
  return best != nullptr ? best->replacement : std::string();
}

std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records,
                                 const std::function<std::uint32_t(std::uint32_t)>& uniform) {
  std::erase_if(records, [](const SrvRecord& r) { return r.target.empty() || r.target == "."; });
  // Priority ascending; within one, weight-0 records first (RFC 2782: "arrange all SRV RRs
  // (that have not been ordered yet) in any order, except that all those with weight 0 are
  // placed at the beginning of the list").
  std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return (a.weight == 0) && (b.weight != 0);
  });
  std::vector<SrvRecord> out;
  out.reserve(records.size());
  for (std::size_t begin = 0; begin < records.size();) {
    std::size_t end = begin;
    while (end < records.size() && records[end].priority == records[begin].priority) ++end;
    std::vector<SrvRecord> group(records.begin() + static_cast<std::ptrdiff_t>(begin),
                                 records.begin() + static_cast<std::ptrdiff_t>(end));
    while (!group.empty()) {
      std::uint32_t sum = 0;
      for (const SrvRecord& r : group) sum += r.weight;
      const std::uint32_t pick = uniform(sum);
      std::size_t i = 0;
      for (std::uint32_t running = 0; i < group.size(); ++i) {
        running += group[i].weight;
        if (running >= pick) break;
      }
      if (i == group.size()) i = group.size() - 1;
      out.push_back(group[i]);
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(i));
    }
    begin = end;
  }
  return out;
}

}  // namespace regfront::dns
