// control/config/show_dial_peer.cc — `show dial-peer voice summary`, from the Config alone.
//
// The table keeps IOS's layout (two header lines over fixed columns, after the hunt order) so
// that an operator's eye and IOS screen scrapers find the columns where they expect them:
//
//   dial-peer hunt 0
//                AD                                    PRE PASS                OUT
//   TAG    TYPE  MIN  OPER PREFIX    DEST-PATTERN      FER THRU SESS-TARGET    STAT PORT    KEEPALIVE
//   10     pots  up   up             +14085550100      0
//   20     voip  up   up             [2-9]..[2-9]...... 0        registrar
//
// A value as wide as its column or wider is followed by one space, and the rest of the line
// moves right, as IOS does. What regfront has no notion of stays empty: PREFIX (no digit
// prefixing), PASS THRU (modem pass-through), OUT STAT and PORT (no voice ports), KEEPALIVE.
#include <nlohmann/json.hpp>

#include <string>

#include "regfront/config/commands.h"

namespace regfront::config {

namespace {

// Column widths, IOS's.
constexpr std::size_t kTag = 7, kType = 6, kAdmin = 5, kOper = 5, kPrefix = 10, kPattern = 18,
                      kPref = 4, kPass = 5, kTarget = 15, kStat = 5, kPort = 8;

void column(std::string& line, std::string_view value, std::size_t width) {
  line += value;
  line.append(value.size() < width ? width - value.size() : 1, ' ');
}

// IOS: a dial peer is operational when it has a destination-pattern and somewhere to send the
// call (a voice port, a session target), or an incoming called-number. A regfront POTS dial
// peer has no voice port: its number is registered instead, so its destination-pattern is
// enough.
bool operational(const DialPeer& dp) {
  if (!dp.is_voip() || !dp.voip) return !dp.destination_pattern.empty();
  const VoipSettings& v = *dp.voip;
  return (!dp.destination_pattern.empty() && v.session_target.kind != SessionTargetKind::none) ||
         !v.incoming_called_number.empty();
}

const VoipSettings& settings(const DialPeer& dp) {
  static const VoipSettings kNone;
  return dp.is_voip() && dp.voip ? *dp.voip : kNone;
}

}  // namespace

std::string render_dial_peer_summary(const Config& cfg, bool json) {
  if (json) {
    nlohmann::json j;
    j["hunt"] = 0;
    j["dial_peers"] = nlohmann::json::array();
    for (const auto& [tag, dp] : cfg.dial_peers) {
      const VoipSettings& v = settings(dp);
      j["dial_peers"].push_back({{"tag", tag},
                                 {"type", dp.is_voip() ? "voip" : "pots"},
                                 {"admin", "up"},
                                 {"oper", operational(dp) ? "up" : "down"},
                                 {"destination_pattern", dp.destination_pattern},
                                 {"preference", v.preference},
                                 {"huntstop", v.huntstop},
                                 {"session_target", render_session_target(v.session_target)},
                                 {"incoming_called_number", v.incoming_called_number},
                                 {"description", v.description},
                                 {"endpoint", is_endpoint_dial_peer(dp)}});
    }
    return j.dump() + "\n";
  }
  std::string out =
      "dial-peer hunt 0\n"
      "             AD                                    PRE PASS                OUT\n"
      "TAG    TYPE  MIN  OPER PREFIX    DEST-PATTERN      FER THRU SESS-TARGET    STAT PORT    "
      "KEEPALIVE\n";
  std::string line;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    const VoipSettings& v = settings(dp);
    line.clear();
    column(line, std::to_string(tag), kTag);
    column(line, dp.is_voip() ? "voip" : "pots", kType);
    column(line, "up", kAdmin);  // dial peers have no `shutdown` in regfront
    column(line, operational(dp) ? "up" : "down", kOper);
    column(line, "", kPrefix);
    column(line, dp.destination_pattern, kPattern);
    column(line, std::to_string(v.preference), kPref);
    column(line, "", kPass);
    column(line, render_session_target(v.session_target), kTarget);
    column(line, "", kStat);
    column(line, "", kPort);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace regfront::config
