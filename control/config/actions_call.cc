// control/config/actions_call.cc — dial peer settings: the pattern and authentication every dial
// peer type shares or refuses, and the call routing of VoIP dial peers. Same rule as actions.cc:
// every check first, then the change, so a refusal changes nothing.
#include <arpa/inet.h>

#include <string>

#include "actions.h"

namespace regfront::config::actions {

namespace {

// A VoIP-only command on a POTS dial peer. The grammar gives POTS dial peers no such command;
// this is for callers of the actions that are not the grammar.
Result voip_only(const DialPeer& dp, const char* command) {
  return rejected(Status::failed_precondition(std::string(command) +
                                              " is configured on VoIP dial peers; dial-peer " +
                                              std::to_string(dp.tag) + " is a POTS dial peer"));
}

Result pots_only(const DialPeer& dp) {
  return rejected(Status::failed_precondition(
      "authentication is configured on POTS dial peers only (the endpoints' numbers); "
      "dial-peer " + std::to_string(dp.tag) + " is a VoIP dial peer"));
}

// The VoIP settings of `dp`, or null for a POTS dial peer.
VoipSettings* voip_of(DialPeer& dp) {
  return dp.is_voip() && dp.voip ? &*dp.voip : nullptr;
}

bool valid_host_ipv4(std::string_view host) {
  if (host.size() > 15) return false;
  std::string z(host);
  in_addr a;
  if (inet_pton(AF_INET, z.c_str(), &a) != 1) return false;
  std::uint32_t v = ntohl(a.s_addr);
  std::uint32_t first = v >> 24;
  // 0.0.0.0/8, multicast and class E are nobody's address to send a call to. Loopback is: an
  // SBC core on the same host (and every lab), as registrars may be.
  return first != 0 && first < 224;
}

// RFC 1035 §2.3.1 labels as resolvers accept them (letters, digits, '-', '_'), dots between.
bool valid_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.' || s.front() == '-') {
    return false;
  }
  char prev = 0;
  bool has_letter = false;
  for (char c : s) {
    bool digit = c >= '0' && c <= '9';
    bool ok = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
              c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    if (!digit && c != '.') has_letter = true;
    prev = c;
  }
  return has_letter;  // digits and dots only: an address written as a name
}

}  // namespace

Result destination_pattern_set(DialPeer& dp, std::string_view pattern) {
  if (!pattern.empty()) {
    if (Status s = validate_dial_pattern(pattern); !s.ok()) return rejected(std::move(s));
  }
  if (dp.destination_pattern == pattern) return ok();
  dp.destination_pattern = std::string(pattern);
  return changed();
}

Result dial_peer_authentication_set(DialPeer& dp, const Authentication& a, Index* index) {
  if (dp.is_voip()) return pots_only(dp);
  return authentication_set(dp.authentication, a, index);
}

Result dial_peer_authentication_remove(DialPeer& dp, std::string_view username,
                                       std::string_view realm, Index* index) {
  if (dp.is_voip()) return pots_only(dp);
  return authentication_remove(dp.authentication, username, realm, index);
}

Result session_target_set(DialPeer& dp, const SessionTarget& target) {
  VoipSettings* v = voip_of(dp);
  if (!v) return voip_only(dp, "session target");
  switch (target.kind) {
    case SessionTargetKind::none:
    case SessionTargetKind::registrar:
      if (!target.host.empty() || target.port != 0) {
        return rejected(Status::invalid_argument("This session target has no address"));
      }
      break;
    case SessionTargetKind::ipv4:
      if (!valid_host_ipv4(target.host)) {
        return rejected(Status::invalid_argument("Not a valid host address - " + target.host));
      }
      break;
    case SessionTargetKind::dns:
      if (!valid_dns_name(target.host)) {
        return rejected(Status::invalid_argument("Not a valid host name - " + target.host));
      }
      break;
  }
  if (v->session_target == target) return ok();
  v->session_target = target;
  return changed();
}

Result preference_set(DialPeer& dp, std::uint8_t preference) {
  VoipSettings* v = voip_of(dp);
  if (!v) return voip_only(dp, "preference");
  if (preference > kMaxDialPeerPreference) {
    return rejected(Status::out_of_range("Preference out of range (0-" +
                                         std::to_string(kMaxDialPeerPreference) + ")"));
  }
  if (v->preference == preference) return ok();
  v->preference = preference;
  return changed();
}

Result huntstop_set(DialPeer& dp, bool on) {
  VoipSettings* v = voip_of(dp);
  if (!v) return voip_only(dp, "huntstop");
  if (v->huntstop == on) return ok();
  v->huntstop = on;
  return changed();
}

Result incoming_called_number_set(DialPeer& dp, std::string_view pattern) {
  VoipSettings* v = voip_of(dp);
  if (!v) return voip_only(dp, "incoming called-number");
  if (!pattern.empty()) {
    if (Status s = validate_dial_pattern(pattern); !s.ok()) return rejected(std::move(s));
  }
  if (v->incoming_called_number == pattern) return ok();
  v->incoming_called_number = std::string(pattern);
  return changed();
}

Result dial_peer_description_set(DialPeer& dp, std::string_view text) {
  VoipSettings* v = voip_of(dp);
  if (!v) return voip_only(dp, "description");
  if (text.size() > kMaxDialPeerDescription) {
    return rejected(Status::out_of_range("Description too long (" +
                                         std::to_string(kMaxDialPeerDescription) +
                                         " characters at most)"));
  }
  if (v->description == text) return ok();
  v->description = std::string(text);
  return changed();
}

}  // namespace regfront::config::actions
