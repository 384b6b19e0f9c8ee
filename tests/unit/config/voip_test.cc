// VoIP dial peers and the trusted address list: every command and its no form, abbreviations,
// every refusal (the Config compared before and after), Result::changed, the prompts of the
// modes, `?` help and TAB completion.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace regfront::config {
namespace {

using test::Harness;

std::uint32_t v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d;
}

const DialPeer& peer(const Config& c, std::uint32_t tag) { return c.dial_peers.at(tag); }
const VoipSettings& voip(const Config& c, std::uint32_t tag) { return *peer(c, tag).voip; }

// ---- commands: (setup from global configuration, line, check) ----------------------------------

struct Case {
  std::vector<const char*> setup;
  const char* line;
  bool (*check)(const Config&, const Session&);
};

const Case kCommands[] = {
    {{}, "dial-peer voice 10 voip",
     [](const Config& c, const Session& s) {
       const DialPeer& dp = peer(c, 10);
       return s.mode == Mode::dial_peer && s.dial_peer_tag == 10 && dp.tag == 10 &&
              dp.type == DialPeerType::voip && dp.voip && *dp.voip == VoipSettings{};
     }},
    {{}, "dial-p v 10 vo",
     [](const Config& c, const Session& s) {
       return s.mode == Mode::dial_peer && peer(c, 10).is_voip();
     }},
    {{}, "dial-peer voice 2147483647 voip",
     [](const Config& c, const Session&) { return peer(c, 2147483647).is_voip(); }},
    {{"dial-peer voice 10 voip", "exit"}, "dial-peer voice 10 voip",  // enters it again
     [](const Config& c, const Session& s) {
       return s.mode == Mode::dial_peer && c.dial_peers.size() == 1;
     }},
    {{"dial-peer voice 10 voip"}, "destination-pattern +1408555....",
     [](const Config& c, const Session&) {
       return peer(c, 10).destination_pattern == "+1408555....";
     }},
    {{"dial-peer voice 10 voip"}, "dest [2-9]..[2-9]......",
     [](const Config& c, const Session&) {
       return peer(c, 10).destination_pattern == "[2-9]..[2-9]......";
     }},
    {{"dial-peer voice 10 voip"}, "session target ipv4:192.0.2.10",
     [](const Config& c, const Session&) {
       return voip(c, 10).session_target ==
              SessionTarget{SessionTargetKind::ipv4, "192.0.2.10", 0};
     }},
    {{"dial-peer voice 10 voip"}, "session target ipv4:192.0.2.10:5080",
     [](const Config& c, const Session&) {
       return voip(c, 10).session_target ==
              SessionTarget{SessionTargetKind::ipv4, "192.0.2.10", 5080};
     }},
    {{"dial-peer voice 10 voip"}, "session target ipv4:127.0.0.1:7000",  // a core on the same host
     [](const Config& c, const Session&) {
       return voip(c, 10).session_target ==
              SessionTarget{SessionTargetKind::ipv4, "127.0.0.1", 7000};
     }},
    {{"dial-peer voice 10 voip"}, "session target dns:core.sbc.example",
     [](const Config& c, const Session&) {
       return voip(c, 10).session_target ==
              SessionTarget{SessionTargetKind::dns, "core.sbc.example", 0};
     }},
    {{"dial-peer voice 10 voip"}, "ses t dns:core.sbc.example:5061",
     [](const Config& c, const Session&) {
       return voip(c, 10).session_target ==
              SessionTarget{SessionTargetKind::dns, "core.sbc.example", 5061};
     }},
    {{"dial-peer voice 10 voip"}, "session target registrar",
     [](const Config& c, const Session&) {
       return voip(c, 10).session_target == SessionTarget{SessionTargetKind::registrar, "", 0};
     }},
    {{"dial-peer voice 10 voip", "session target dns:a.example"}, "sess tar reg",  // replaces
     [](const Config& c, const Session&) {
       return voip(c, 10).session_target.kind == SessionTargetKind::registrar &&
              voip(c, 10).session_target.host.empty();
     }},
    {{"dial-peer voice 10 voip"}, "preference 10",
     [](const Config& c, const Session&) { return voip(c, 10).preference == 10; }},
    {{"dial-peer voice 10 voip"}, "pref 3",
     [](const Config& c, const Session&) { return voip(c, 10).preference == 3; }},
    {{"dial-peer voice 10 voip", "preference 4"}, "preference 0",
     [](const Config& c, const Session&) { return voip(c, 10).preference == 0; }},
    {{"dial-peer voice 10 voip"}, "huntstop",
     [](const Config& c, const Session&) { return voip(c, 10).huntstop; }},
    {{"dial-peer voice 10 voip"}, "hunt",
     [](const Config& c, const Session&) { return voip(c, 10).huntstop; }},
    {{"dial-peer voice 10 voip"}, "incoming called-number .",
     [](const Config& c, const Session&) { return voip(c, 10).incoming_called_number == "."; }},
    {{"dial-peer voice 10 voip"}, "inc call +1408T",
     [](const Config& c, const Session&) {
       return voip(c, 10).incoming_called_number == "+1408T";
     }},
    {{"dial-peer voice 10 voip"}, "description Calls to the SBC core  (primary)",
     [](const Config& c, const Session&) {
       return voip(c, 10).description == "Calls to the SBC core  (primary)";
     }},
    {{"dial-peer voice 10 voip"}, "desc x",
     [](const Config& c, const Session&) { return voip(c, 10).description == "x"; }},
    {{"dial-peer voice 10 voip"}, "voice-class sip localhost dns:trunk.example.com preferred",
     [](const Config& c, const Session&) {
       return peer(c, 10).localhost == Localhost{"trunk.example.com", true};
     }},
    // A global command leaves the dial peer and runs in global configuration.
    {{"dial-peer voice 10 voip"}, "dial-peer voice 11 voip",
     [](const Config& c, const Session& s) {
       return s.dial_peer_tag == 11 && c.dial_peers.size() == 2;
     }},
    {{"dial-peer voice 10 voip"}, "dial-peer voice 3 pots",  // pots and voip side by side
     [](const Config& c, const Session& s) {
       return s.dial_peer_tag == 3 && !peer(c, 3).is_voip() && !peer(c, 3).voip &&
              peer(c, 10).is_voip();
     }},
    // voice service voip → ip address trusted list
    {{"voice service voip"}, "ip address trusted list",
     [](const Config& c, const Session& s) {
       return s.mode == Mode::voice_trusted && c.voice.trusted.present && c.voice.present &&
              c.voice.trusted.ipv4.empty();
     }},
    {{"voice service voip"}, "ip add tr l",
     [](const Config&, const Session& s) { return s.mode == Mode::voice_trusted; }},
    {{"voice service voip", "ip address trusted list"}, "ipv4 192.0.2.1",
     [](const Config& c, const Session&) {
       return c.voice.trusted.ipv4 == std::vector<Ipv4Prefix>{{v4(192, 0, 2, 1), 32}};
     }},
    {{"voice service voip", "ip address trusted list"}, "ipv4 198.51.100.0 255.255.255.0",
     [](const Config& c, const Session&) {
       return c.voice.trusted.ipv4 == std::vector<Ipv4Prefix>{{v4(198, 51, 100, 0), 24}};
     }},
    {{"voice service voip", "ip address trusted list"}, "ipv4 198.51.100.0/24",
     [](const Config& c, const Session&) {
       return c.voice.trusted.ipv4 == std::vector<Ipv4Prefix>{{v4(198, 51, 100, 0), 24}};
     }},
    {{"voice service voip", "ip address trusted list"}, "ipv4 10.1.2.3 255.255.0.0",  // network
     [](const Config& c, const Session&) {
       return c.voice.trusted.ipv4 == std::vector<Ipv4Prefix>{{v4(10, 1, 0, 0), 16}};
     }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0/8"}, "ipv4 192.0.2.1",
     [](const Config& c, const Session&) {  // in the order configured
       return c.voice.trusted.ipv4 ==
              std::vector<Ipv4Prefix>{{v4(10, 0, 0, 0), 8}, {v4(192, 0, 2, 1), 32}};
     }},
    {{"voice service voip", "ip address trusted list"}, "ipv4 0.0.0.0 0.0.0.0",
     [](const Config& c, const Session&) {
       return c.voice.trusted.ipv4 == std::vector<Ipv4Prefix>{{0, 0}};
     }},
    // `sip` from the list's mode goes to the parent voice service mode, then into sip.
    {{"voice service voip", "ip address trusted list"}, "sip",
     [](const Config& c, const Session& s) { return s.mode == Mode::voice_sip && c.voice.sip.present; }},
    {{"voice service voip", "ip address trusted list"}, "exit",
     [](const Config&, const Session& s) { return s.mode == Mode::voice_service; }},
    {{"voice service voip", "ip address trusted list"}, "end",
     [](const Config&, const Session& s) { return s.mode == Mode::privileged_exec; }},
    {{"voice service voip", "ip address trusted list"}, "hostname gw",
     [](const Config& c, const Session& s) { return s.mode == Mode::global_config && c.hostname == "gw"; }},
};

TEST(Voip, EveryCommandAndAbbreviation) {
  for (const Case& c : kCommands) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_TRUE(c.check(h.cfg, h.s)) << c.line;
  }
}

const Case kNoForms[] = {
    {{"dial-peer voice 10 voip", "exit"}, "no dial-peer voice 10",
     [](const Config& c, const Session&) { return c.dial_peers.empty(); }},
    {{"dial-peer voice 10 voip", "exit"}, "no dial-peer voice 10 voip",
     [](const Config& c, const Session&) { return c.dial_peers.empty(); }},
    {{"dial-peer voice 10 voip", "exit"}, "no dial-p v 10 vo",
     [](const Config& c, const Session&) { return c.dial_peers.empty(); }},
    {{"dial-peer voice 10 pots", "exit"}, "no dial-peer voice 10 pots",
     [](const Config& c, const Session&) { return c.dial_peers.empty(); }},
    {{}, "no dial-peer voice 10 voip",  // absent: silent, as IOS
     [](const Config& c, const Session&) { return c.dial_peers.empty(); }},
    {{"dial-peer voice 10 voip", "destination-pattern 1..."}, "no destination-pattern",
     [](const Config& c, const Session&) { return peer(c, 10).destination_pattern.empty(); }},
    {{"dial-peer voice 10 voip", "destination-pattern 1..."}, "no destination-pattern 1...",
     [](const Config& c, const Session&) { return peer(c, 10).destination_pattern.empty(); }},
    {{"dial-peer voice 10 voip", "session target ipv4:192.0.2.1"}, "no session target",
     [](const Config& c, const Session&) { return voip(c, 10).session_target == SessionTarget{}; }},
    {{"dial-peer voice 10 voip", "session target ipv4:192.0.2.1"},
     "no session target ipv4:192.0.2.1",
     [](const Config& c, const Session&) { return voip(c, 10).session_target == SessionTarget{}; }},
    {{"dial-peer voice 10 voip", "session target registrar"}, "no sess tar reg",
     [](const Config& c, const Session&) { return voip(c, 10).session_target == SessionTarget{}; }},
    {{"dial-peer voice 10 voip", "preference 7"}, "no preference",
     [](const Config& c, const Session&) { return voip(c, 10).preference == 0; }},
    {{"dial-peer voice 10 voip", "preference 7"}, "no preference 7",
     [](const Config& c, const Session&) { return voip(c, 10).preference == 0; }},
    {{"dial-peer voice 10 voip", "huntstop"}, "no huntstop",
     [](const Config& c, const Session&) { return !voip(c, 10).huntstop; }},
    {{"dial-peer voice 10 voip", "incoming called-number 1T"}, "no incoming called-number",
     [](const Config& c, const Session&) { return voip(c, 10).incoming_called_number.empty(); }},
    {{"dial-peer voice 10 voip", "incoming called-number 1T"}, "no inc call 1T",
     [](const Config& c, const Session&) { return voip(c, 10).incoming_called_number.empty(); }},
    {{"dial-peer voice 10 voip", "description a b c"}, "no description",
     [](const Config& c, const Session&) { return voip(c, 10).description.empty(); }},
    {{"dial-peer voice 10 voip", "description a b c"}, "no description a b c",
     [](const Config& c, const Session&) { return voip(c, 10).description.empty(); }},
    {{"dial-peer voice 10 voip", "voice-class sip localhost dns:a.example"},
     "no voice-class sip localhost",
     [](const Config& c, const Session&) { return !peer(c, 10).localhost; }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0/8", "ipv4 192.0.2.1"},
     "no ipv4 10.0.0.0 255.0.0.0",
     [](const Config& c, const Session&) {
       return c.voice.trusted.ipv4 == std::vector<Ipv4Prefix>{{v4(192, 0, 2, 1), 32}};
     }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0/8", "ipv4 192.0.2.1"},
     "no ipv4 192.0.2.1",
     [](const Config& c, const Session&) {
       return c.voice.trusted.ipv4 == std::vector<Ipv4Prefix>{{v4(10, 0, 0, 0), 8}};
     }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0 255.0.0.0"},
     "no ipv4 10.0.0.0/8",
     [](const Config& c, const Session&) { return c.voice.trusted.ipv4.empty(); }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0/8"},
     "no ipv4 10.9.9.9 255.0.0.0",  // names the same network
     [](const Config& c, const Session&) { return c.voice.trusted.ipv4.empty(); }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0/8", "exit"},
     "no ip address trusted list",
     [](const Config& c, const Session&) {
       return c.voice.trusted == TrustedList{} && c.voice.present;
     }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0/8"},
     "no ip address trusted list",  // from inside the list: the parent mode runs it
     [](const Config& c, const Session& s) {
       return c.voice.trusted == TrustedList{} && s.mode == Mode::voice_service;
     }},
    {{"voice service voip", "ip address trusted list", "ipv4 10.0.0.0/8", "exit"},
     "no voice service voip",
     [](const Config& c, const Session&) { return c.voice == VoiceService{}; }},
};

TEST(Voip, NoForms) {
  for (const Case& c : kNoForms) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_TRUE(c.check(h.cfg, h.s)) << c.line;
  }
}

// ---- refusals: the Config and the mode exactly as before ----------------------------------------

struct Refusal {
  std::vector<const char*> setup;  // from global configuration
  const char* line;
  ResultCode code;
  StatusCode status;     // for rejected
  const char* shown;     // for rejected: format_error(); for invalid_input: the marker column
  std::size_t marker;
};

const Refusal kRefusals[] = {
    // A tag is one dial peer, of one type.
    {{"dial-peer voice 5 pots", "exit"}, "dial-peer voice 5 voip", ResultCode::rejected,
     StatusCode::failed_precondition,
     "% Dial-peer 5 already exists as a POTS dial peer; remove it first (no dial-peer voice 5)", 0},
    {{"dial-peer voice 5 voip", "exit"}, "dial-peer voice 5 pots", ResultCode::rejected,
     StatusCode::failed_precondition,
     "% Dial-peer 5 already exists as a VoIP dial peer; remove it first (no dial-peer voice 5)", 0},
    {{"dial-peer voice 5 pots", "destination-pattern 1111"}, "dial-peer voice 5 voip",
     ResultCode::rejected, StatusCode::failed_precondition,
     "% Dial-peer 5 already exists as a POTS dial peer; remove it first (no dial-peer voice 5)", 0},
    {{"dial-peer voice 5 pots", "exit"}, "no dial-peer voice 5 voip", ResultCode::rejected,
     StatusCode::failed_precondition,
     "% Dial-peer 5 already exists as a POTS dial peer; remove it first (no dial-peer voice 5)", 0},
    {{}, "dial-peer voice 0 voip", ResultCode::invalid_input, StatusCode::invalid_argument, "", 16},
    {{}, "dial-peer voice 2147483648 voip", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 16},
    {{}, "dial-peer voice 1 voip extra", ResultCode::invalid_input, StatusCode::invalid_argument,
     "", 23},
    // authentication stays with POTS dial peers.
    {{"dial-peer voice 7 voip"}, "authentication username U password P realm R",
     ResultCode::rejected, StatusCode::failed_precondition,
     "% authentication is configured on POTS dial peers only (the endpoints' numbers); "
     "dial-peer 7 is a VoIP dial peer",
     0},
    {{"dial-peer voice 7 voip"}, "no authentication username U", ResultCode::rejected,
     StatusCode::failed_precondition,
     "% authentication is configured on POTS dial peers only (the endpoints' numbers); "
     "dial-peer 7 is a VoIP dial peer",
     0},
    // VoIP commands do not exist on a POTS dial peer.
    {{"dial-peer voice 7 pots"}, "session target registrar", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 0},
    {{"dial-peer voice 7 pots"}, "huntstop", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 0},
    {{"dial-peer voice 7 pots"}, "preference 1", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 0},
    // Patterns.
    {{"dial-peer voice 7 voip"}, "destination-pattern [2-9", ResultCode::rejected,
     StatusCode::invalid_argument, "% Invalid pattern [2-9: unbalanced brackets", 0},
    {{"dial-peer voice 7 pots"}, "destination-pattern 408x", ResultCode::rejected,
     StatusCode::invalid_argument, "% Invalid pattern 408x: 'x' is not a pattern character", 0},
    {{"dial-peer voice 7 voip"}, "incoming called-number 1(2", ResultCode::rejected,
     StatusCode::invalid_argument, "% Invalid pattern 1(2: unbalanced parentheses", 0},
    {{"dial-peer voice 7 voip"}, "incoming called-number", ResultCode::incomplete,
     StatusCode::invalid_argument, "", 0},
    // Session targets.
    {{"dial-peer voice 7 voip"}, "session target ipv4:0.0.0.1", ResultCode::rejected,
     StatusCode::invalid_argument, "% Not a valid host address - 0.0.0.1", 0},
    {{"dial-peer voice 7 voip"}, "session target ipv4:224.0.0.1", ResultCode::rejected,
     StatusCode::invalid_argument, "% Not a valid host address - 224.0.0.1", 0},
    {{"dial-peer voice 7 voip"}, "session target ipv4:192.0.2", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 15},
    {{"dial-peer voice 7 voip"}, "session target ipv4:192.0.2.1:0", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 15},
    {{"dial-peer voice 7 voip"}, "session target ipv4:192.0.2.1:65536", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 15},
    {{"dial-peer voice 7 voip"}, "session target dns:192.0.2.1", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 15},
    {{"dial-peer voice 7 voip"}, "session target ipv6:[2001:db8::1]", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 15},
    {{"dial-peer voice 7 voip"}, "session target sip-server", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 15},
    {{"dial-peer voice 7 voip"}, "session target", ResultCode::incomplete,
     StatusCode::invalid_argument, "", 0},
    {{"dial-peer voice 7 voip"}, "session target registrar now", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 25},
    // preference <0-10>
    {{"dial-peer voice 7 voip"}, "preference 11", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 11},
    {{"dial-peer voice 7 voip"}, "preference", ResultCode::incomplete,
     StatusCode::invalid_argument, "", 0},
    {{"dial-peer voice 7 voip"}, "huntstop now", ResultCode::invalid_input,
     StatusCode::invalid_argument, "", 9},
    {{"dial-peer voice 7 voip"}, "des x", ResultCode::ambiguous, StatusCode::invalid_argument,
     "", 0},  // description, destination-pattern
    {{"dial-peer voice 7 voip"},
     "description 12345678901234567890123456789012345678901234567890123456789012345",
     ResultCode::rejected, StatusCode::out_of_range,
     "% Description too long (64 characters at most)", 0},
    // The trusted list.
    {{"voice service voip", "ip address trusted list"}, "ipv4 10.0.0.0 255.0.255.0",
     ResultCode::rejected, StatusCode::invalid_argument,
     "% Bad mask 0xFF00FF00 for address 10.0.0.0", 0},
    {{"voice service voip", "ip address trusted list"}, "no ipv4 10.0.0.0 255.0.255.0",
     ResultCode::rejected, StatusCode::invalid_argument,
     "% Bad mask 0xFF00FF00 for address 10.0.0.0", 0},
    {{"voice service voip", "ip address trusted list"}, "ipv4 10.0.0.0/33",
     ResultCode::invalid_input, StatusCode::invalid_argument, "", 5},
    {{"voice service voip", "ip address trusted list"}, "ipv4 10.0.0",
     ResultCode::invalid_input, StatusCode::invalid_argument, "", 5},
    {{"voice service voip", "ip address trusted list"}, "ipv4", ResultCode::incomplete,
     StatusCode::invalid_argument, "", 0},
    // Not a command of the list: global configuration's `ipv6 route` got furthest.
    {{"voice service voip", "ip address trusted list"}, "ipv6 2001:db8::1",
     ResultCode::invalid_input, StatusCode::invalid_argument, "", 5},
    {{"voice service voip"}, "ip address trusted", ResultCode::incomplete,
     StatusCode::invalid_argument, "", 0},
    {{}, "ip address trusted list", ResultCode::invalid_input, StatusCode::invalid_argument, "", 3},
};

TEST(Voip, RefusalsChangeNothing) {
  for (const Refusal& c : kRefusals) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    const Config before = h.cfg;
    const Mode mode = h.s.mode;
    Result r = h.run(c.line);
    EXPECT_EQ(r.code(), c.code) << c.line << "\n" << format_error(c.line, r);
    EXPECT_FALSE(r.changed) << c.line;
    EXPECT_EQ(h.cfg, before) << c.line;
    EXPECT_EQ(h.s.mode, mode) << c.line;
    EXPECT_FALSE(r.status.message().starts_with('%')) << r.status.message();
    if (c.code == ResultCode::rejected) {
      EXPECT_EQ(r.status.code(), c.status) << c.line;
      EXPECT_EQ(format_error(c.line, r), c.shown) << c.line;
    }
    if (c.code == ResultCode::invalid_input) {
      EXPECT_EQ(r.marker, c.marker) << c.line;
    }
  }
}

TEST(Voip, TrustedListHoldsAtMostAHundredEntries) {
  Harness h;
  h.setup({"voice service voip", "ip address trusted list"});
  for (int i = 0; i < 100; ++i) {
    std::string line = "ipv4 10.0." + std::to_string(i) + ".1";
    ASSERT_TRUE(h.run(line).ok()) << line;
  }
  ASSERT_EQ(h.cfg.voice.trusted.ipv4.size(), kMaxTrustedEntries);
  const Config before = h.cfg;
  Result r = h.run("ipv4 10.1.0.0/16");
  EXPECT_EQ(r.code(), ResultCode::rejected);
  EXPECT_EQ(r.status.code(), StatusCode::resource_exhausted);
  EXPECT_EQ(format_error("", r), "% A maximum of 100 IPv4 entries can be configured in the trusted list");
  EXPECT_EQ(h.cfg, before);
  // An entry already in the full list is no new entry; after a removal there is room again.
  EXPECT_TRUE(h.run("ipv4 10.0.7.1").ok());
  EXPECT_TRUE(h.run("no ipv4 10.0.7.1").ok());
  EXPECT_TRUE(h.run("ipv4 10.1.0.0/16").ok());
  EXPECT_EQ(h.cfg.voice.trusted.ipv4.back(), (Ipv4Prefix{v4(10, 1, 0, 0), 16}));
}

// The seed restrictions are the same for a configuration that has VoIP dial peers.
TEST(Voip, SeedRestrictionsUnchanged) {
  Harness h;
  h.setup({"dial-peer voice 10 voip", "session target registrar", "sip-ua",
           "registrar 1 dns:a.example"});
  const Config before = h.cfg;
  EXPECT_EQ(h.run("registrar dns:b.example").status.code(), StatusCode::failed_precondition);  // R1
  EXPECT_EQ(h.run("registrar 7 dns:b.example").code(), ResultCode::invalid_input);           // R4
  EXPECT_EQ(h.cfg, before);
}

// Another session removed the dial peer being edited, or replaced it with one of the other
// type: the next command says so and changes nothing.
TEST(Voip, DialPeerRemovedOrReplacedByAnotherSession) {
  Harness h;
  h.setup({"dial-peer voice 10 voip"});
  h.cfg.dial_peers.erase(10);
  Config before = h.cfg;
  Result r = h.run("huntstop");
  EXPECT_EQ(r.code(), ResultCode::rejected);
  EXPECT_EQ(r.status.message(), "No dial peer is being configured");
  r = h.run("destination-pattern 1234");
  EXPECT_EQ(r.status.message(), "No dial peer is being configured");
  EXPECT_EQ(h.cfg, before);

  Harness other;
  other.cfg = h.cfg;
  other.setup({"dial-peer voice 10 pots"});
  h.cfg = other.cfg;
  before = h.cfg;
  r = h.run("huntstop");
  EXPECT_EQ(r.code(), ResultCode::rejected);
  EXPECT_EQ(r.status.message(),
            "huntstop is configured on VoIP dial peers; dial-peer 10 is a POTS dial peer");
  EXPECT_EQ(h.cfg, before);
}

// Every truncated prefix of every new command, typed in its mode: accepted, or refused with the
// Config and the mode as they were; never anything else.
TEST(Voip, EveryTruncatedPrefix) {
  const struct {
    std::vector<const char*> setup;
    const char* line;
  } lines[] = {
      {{}, "dial-peer voice 2147483647 voip"},
      {{}, "no dial-peer voice 10 voip"},
      {{"dial-peer voice 10 voip"}, "session target ipv4:192.0.2.10:5080"},
      {{"dial-peer voice 10 voip"}, "session target dns:core.sbc.example:5061"},
      {{"dial-peer voice 10 voip"}, "no session target registrar"},
      {{"dial-peer voice 10 voip"}, "destination-pattern +1(408)[2-9]..%T"},
      {{"dial-peer voice 10 voip"}, "incoming called-number ^+1408....$"},
      {{"dial-peer voice 10 voip"}, "preference 10"},
      {{"dial-peer voice 10 voip"}, "description a b c"},
      {{"dial-peer voice 10 voip"}, "no huntstop"},
      {{"voice service voip"}, "no ip address trusted list"},
      {{"voice service voip", "ip address trusted list"}, "ipv4 198.51.100.0 255.255.255.0"},
      {{"voice service voip", "ip address trusted list"}, "no ipv4 203.0.113.0/25"},
      {{}, "do show dial-peer voice summary | json"},
  };
  for (const auto& c : lines) {
    std::string_view full(c.line);
    for (std::size_t n = 0; n <= full.size(); ++n) {
      Harness h;
      for (const char* l : c.setup) h.setup({l});
      const Config before = h.cfg;
      const Mode mode = h.s.mode;
      std::string prefix(full.substr(0, n));
      Result r = h.run(prefix);
      if (!r.ok()) {
        EXPECT_EQ(h.cfg, before) << prefix;
        EXPECT_EQ(h.s.mode, mode) << prefix;
        EXPECT_FALSE(r.changed) << prefix;
        EXPECT_FALSE(r.status.message().empty()) << prefix;
      }
    }
  }
}

// ---- Result::changed --------------------------------------------------------------------------

struct ChangeCase {
  std::vector<const char*> setup;
  const char* line;
  bool changed;
};

const ChangeCase kChanges[] = {
    {{}, "dial-peer voice 1 voip", true},
    {{"dial-peer voice 1 voip", "exit"}, "dial-peer voice 1 voip", false},
    {{"dial-peer voice 1 voip", "exit"}, "no dial-peer voice 1 voip", true},
    {{}, "no dial-peer voice 1 voip", false},
    {{"dial-peer voice 1 voip"}, "destination-pattern 1...", true},
    {{"dial-peer voice 1 voip", "destination-pattern 1..."}, "destination-pattern 1...", false},
    {{"dial-peer voice 1 voip"}, "no destination-pattern", false},
    {{"dial-peer voice 1 voip"}, "session target registrar", true},
    {{"dial-peer voice 1 voip", "session target registrar"}, "session target registrar", false},
    {{"dial-peer voice 1 voip", "session target ipv4:192.0.2.1"}, "session target ipv4:192.0.2.1:5060", true},
    {{"dial-peer voice 1 voip", "session target ipv4:192.0.2.1"}, "session target ipv4:192.0.2.1", false},
    {{"dial-peer voice 1 voip"}, "no session target", false},
    {{"dial-peer voice 1 voip", "session target registrar"}, "no session target", true},
    {{"dial-peer voice 1 voip"}, "preference 0", false},  // the default
    {{"dial-peer voice 1 voip"}, "preference 2", true},
    {{"dial-peer voice 1 voip", "preference 2"}, "preference 2", false},
    {{"dial-peer voice 1 voip"}, "no preference", false},
    {{"dial-peer voice 1 voip"}, "huntstop", true},
    {{"dial-peer voice 1 voip", "huntstop"}, "huntstop", false},
    {{"dial-peer voice 1 voip"}, "no huntstop", false},
    {{"dial-peer voice 1 voip"}, "incoming called-number .", true},
    {{"dial-peer voice 1 voip", "incoming called-number ."}, "incoming called-number .", false},
    {{"dial-peer voice 1 voip"}, "no incoming called-number", false},
    {{"dial-peer voice 1 voip"}, "description x", true},
    {{"dial-peer voice 1 voip", "description x"}, "description x", false},
    {{"dial-peer voice 1 voip"}, "no description", false},
    {{"dial-peer voice 1 voip"}, "voice-class sip localhost dns:a.example", true},
    {{"dial-peer voice 1 voip"}, "authentication username U password P", false},  // refused
    {{"dial-peer voice 1 pots", "exit"}, "dial-peer voice 1 voip", false},        // refused
    {{}, "voice service voip", true},
    {{"voice service voip"}, "ip address trusted list", true},
    {{"voice service voip", "ip address trusted list", "exit"}, "ip address trusted list", false},
    {{"voice service voip"}, "no ip address trusted list", false},
    {{"voice service voip", "ip address trusted list", "exit"}, "no ip address trusted list", true},
    {{"voice service voip", "ip address trusted list"}, "ipv4 192.0.2.1", true},
    {{"voice service voip", "ip address trusted list", "ipv4 192.0.2.1"}, "ipv4 192.0.2.1", false},
    {{"voice service voip", "ip address trusted list", "ipv4 192.0.2.1"},
     "ipv4 192.0.2.1 255.255.255.255", false},  // the same entry
    {{"voice service voip", "ip address trusted list", "ipv4 192.0.2.1"}, "ipv4 192.0.2.1/32", false},
    {{"voice service voip", "ip address trusted list"}, "no ipv4 192.0.2.1", false},
    {{"voice service voip", "ip address trusted list", "ipv4 192.0.2.1"}, "no ipv4 192.0.2.1", true},
};

TEST(Voip, ChangedOnlyWhenTheConfigChanges) {
  for (const ChangeCase& c : kChanges) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    const Config before = h.cfg;
    Result r = h.run(c.line);
    EXPECT_EQ(r.changed, c.changed) << c.line;
    EXPECT_EQ(r.changed, !(h.cfg == before)) << c.line;
  }
}

// ---- prompts, help, completion ------------------------------------------------------------------

TEST(Voip, Prompts) {
  Harness h;
  h.setup({"hostname gw", "dial-peer voice 10 voip"});
  EXPECT_EQ(prompt(h.cfg, h.s), "gw(config-dial-peer)#");
  h.setup({"dial-peer voice 11 pots"});
  EXPECT_EQ(prompt(h.cfg, h.s), "gw(config-dial-peer)#");
  h.setup({"voice service voip"});
  EXPECT_EQ(prompt(h.cfg, h.s), "gw(conf-voi-serv)#");
  h.setup({"ip address trusted list"});
  EXPECT_EQ(prompt(h.cfg, h.s), "gw(cfg-iptrust-list)#");
  h.setup({"exit"});
  EXPECT_EQ(prompt(h.cfg, h.s), "gw(conf-voi-serv)#");
}

std::vector<std::string> words(Harness& h, std::string_view line) {
  std::vector<std::string> out;
  for (const auto& i : h.in.help(line, h.s)) out.push_back(i.word);
  return out;
}

TEST(Voip, HelpAndCompletion) {
  Harness h;
  EXPECT_EQ(words(h, "dial-peer voice 1 "), (std::vector<std::string>{"pots", "voip"}));
  EXPECT_EQ(words(h, "dial-peer voice 1 v"), (std::vector<std::string>{"voip"}));
  EXPECT_EQ(words(h, "no dial-peer voice 1 "), (std::vector<std::string>{"pots", "voip", "<cr>"}));
  EXPECT_EQ(h.in.complete("dial-peer voice 1 vo", h.s), "dial-peer voice 1 voip ");
  for (const auto& i : h.in.help("dial-peer voice 1 ", h.s)) EXPECT_FALSE(i.help.empty()) << i.word;

  h.setup({"dial-peer voice 1 voip"});
  EXPECT_EQ(words(h, ""), (std::vector<std::string>{
                              "authentication", "description", "destination-pattern", "do", "end",
                              "exit", "huntstop", "incoming", "no", "preference", "session",
                              "voice-class"}));
  for (const auto& i : h.in.help("", h.s)) EXPECT_FALSE(i.help.empty()) << i.word;
  EXPECT_EQ(words(h, "session target "),
            (std::vector<std::string>{"dns:WORD[:PORT]", "ipv4:A.B.C.D[:PORT]", "registrar"}));
  EXPECT_EQ(words(h, "session target d"), (std::vector<std::string>{"dns:WORD[:PORT]"}));
  EXPECT_EQ(words(h, "session target ipv4:19"), (std::vector<std::string>{"ipv4:A.B.C.D[:PORT]"}));
  EXPECT_EQ(words(h, "session target r"), (std::vector<std::string>{"registrar"}));
  EXPECT_EQ(words(h, "session target registrar "), (std::vector<std::string>{"<cr>"}));
  EXPECT_EQ(words(h, "preference "), (std::vector<std::string>{"<0-10>"}));
  EXPECT_EQ(words(h, "incoming "), (std::vector<std::string>{"called-number"}));
  EXPECT_EQ(words(h, "no "),
            (std::vector<std::string>{"authentication", "description", "destination-pattern",
                                      "huntstop", "incoming", "preference", "session",
                                      "voice-class"}));
  EXPECT_EQ(h.in.complete("sess", h.s), "session ");
  EXPECT_EQ(h.in.complete("hunt", h.s), "huntstop ");
  EXPECT_EQ(h.in.complete("session tar", h.s), "session target ");
  EXPECT_EQ(h.in.complete("session target reg", h.s), "session target registrar ");
  EXPECT_EQ(h.in.complete("des", h.s), "des");  // description, destination-pattern

  // A POTS dial peer offers none of the VoIP commands.
  h.setup({"dial-peer voice 2 pots"});
  EXPECT_EQ(words(h, ""), (std::vector<std::string>{"authentication", "destination-pattern", "do",
                                                     "end", "exit", "no", "voice-class"}));

  h.setup({"voice service voip"});
  EXPECT_EQ(words(h, "ip "), (std::vector<std::string>{"address"}));
  EXPECT_EQ(h.in.complete("ip address trusted li", h.s), "ip address trusted list ");
  EXPECT_EQ(words(h, "no ip address trusted "), (std::vector<std::string>{"list"}));
  h.setup({"ip address trusted list"});
  EXPECT_EQ(words(h, ""), (std::vector<std::string>{"do", "end", "exit", "ipv4", "no"}));
  EXPECT_EQ(words(h, "ipv4 "), (std::vector<std::string>{"A.B.C.D", "A.B.C.D/<0-32>"}));
  EXPECT_EQ(words(h, "ipv4 192.0.2.0 "), (std::vector<std::string>{"A.B.C.D", "<cr>"}));
  EXPECT_EQ(h.in.complete("ip", h.s), "ipv4 ");
}

// Endpoints come from POTS dial peers and `credentials` only (F2).
TEST(Voip, VoipDialPeersAddNoEndpoint) {
  Harness h;
  h.setup({"dial-peer voice 1 pots", "destination-pattern 1111", "dial-peer voice 2 voip",
           "destination-pattern 2222", "session target registrar", "dial-peer voice 3 voip",
           "destination-pattern 1111", "incoming called-number 3333"});
  EXPECT_EQ(endpoint_numbers(h.cfg), (std::vector<std::string>{"1111"}));
}

}  // namespace
}  // namespace regfront::config
