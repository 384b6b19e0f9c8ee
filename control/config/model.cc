// control/config/model.cc — helpers over the configuration model.
#include <algorithm>
#include <unordered_set>

#include "regfront/config/model.h"

namespace regfront::config {

bool is_endpoint_number(const std::string& pattern) {
  std::string_view p = pattern;
  if (!p.empty() && p.front() == '+') p.remove_prefix(1);
  return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> endpoint_numbers(const Config& cfg) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;  // views into cfg, which outlives this call
  auto add = [&](const std::string& n) {
    if (seen.insert(n).second) out.push_back(n);
  };
  for (const auto& [tag, dp] : cfg.dial_peers) {
    if (is_endpoint_number(dp.destination_pattern)) add(dp.destination_pattern);
  }
  for (const auto& c : cfg.sip_ua.credentials) {
    if (!c.number.empty()) add(c.number);
  }
  return out;
}

}  // namespace regfront::config
