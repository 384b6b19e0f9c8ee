// IOS dial-peer patterns: the public translation (regfront/call/dial_peer_match.h).
#include "regfront/call/dial_peer_match.h"

#include "dial_peer_pattern.h"

namespace regfront::call {

StatusOr<TranslatedPattern> translate_dial_pattern(std::string_view pattern) {
  auto parsed = detail::parse_dial_pattern(pattern);
  if (!parsed.ok()) return parsed.status();
  TranslatedPattern t;
  t.regex = detail::to_regex(*parsed);
  t.explicit_digits = parsed->explicit_digits;
  t.whole_number = parsed->whole_number;
  t.variable_length = parsed->variable_length;
  t.matches_every_number = !parsed->whole_number && parsed->nullable;
  return t;
}

}  // namespace regfront::call
