// Interfaces, static routes and `voice service voip` (the DPDK backend's interfaces in IOS syntax):
// every command, abbreviations, no-forms, errors with their marker, each validation refused with
// the configuration unchanged, the render/load round trip, and the daemon-side check.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace regfront::config {
namespace {

using test::Harness;

std::uint32_t v4(const char* text) {
  std::uint32_t a = 0;
  unsigned b[4];
  EXPECT_EQ(std::sscanf(text, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]), 4) << text;
  for (unsigned x : b) a = (a << 8) | x;
  return a;
}

Ipv6Address v6(std::initializer_list<std::uint16_t> groups_then_zero_fill_tail,
               std::uint16_t last = 0) {
  Ipv6Address a{};
  int i = 0;
  for (std::uint16_t g : groups_then_zero_fill_tail) {
    a[i++] = static_cast<std::uint8_t>(g >> 8);
    a[i++] = static_cast<std::uint8_t>(g);
  }
  a[14] = static_cast<std::uint8_t>(last >> 8);
  a[15] = static_cast<std::uint8_t>(last);
  return a;
}

const Interface& itf(const Config& c, const char* name) { return c.interfaces.at(name); }

// ---- commands: (setup, line, check) --------------------------------------------------------------

struct Case {
  std::vector<const char*> setup;  // from global configuration
  const char* line;
  bool (*check)(const Config&, const Session&);
};

const Case kCommands[] = {
    {{}, "interface dpdk0",
     [](const Config& c, const Session& s) {
       const Interface& i = itf(c, "dpdk0");
       return s.mode == Mode::interface && s.interface == "dpdk0" && i.port == 0 &&
              i.subif == 0 && i.name == "dpdk0" && !i.ipv4 && i.ipv6.empty() && !i.shutdown;
     }},
    {{}, "int dpdk0",
     [](const Config& c, const Session& s) { return s.mode == Mode::interface && c.interfaces.size() == 1; }},
    {{}, "interface DPDK63",  // the type is case-insensitive, the name canonical
     [](const Config& c, const Session& s) { return s.interface == "dpdk63" && itf(c, "dpdk63").port == 63; }},
    {{}, "in dp7.4094",  // abbreviated type, as IOS `int gi0/0`
     [](const Config& c, const Session& s) {
       const Interface& i = itf(c, "dpdk7.4094");
       return s.interface == "dpdk7.4094" && i.port == 7 && i.subif == 4094 && i.vlan == 0;
     }},
    {{"interface dpdk0"}, "ip address 10.77.0.1 255.255.255.0",
     [](const Config& c, const Session&) {
       return itf(c, "dpdk0").ipv4 == Ipv4Prefix{v4("10.77.0.1"), 24};
     }},
    {{"interface dpdk0"}, "ip addr 10.77.0.1 255.255.255.254",  // RFC 3021 /31
     [](const Config& c, const Session&) { return itf(c, "dpdk0").ipv4->length == 31; }},
    {{"interface dpdk0"}, "ip add 192.0.2.7 255.255.255.255",
     [](const Config& c, const Session&) { return itf(c, "dpdk0").ipv4->length == 32; }},
    {{"interface dpdk0", "ip address 10.1.0.1 255.255.0.0"}, "ip address 10.77.0.1 255.255.255.0",
     [](const Config& c, const Session&) {  // replaces
       return itf(c, "dpdk0").ipv4 == Ipv4Prefix{v4("10.77.0.1"), 24};
     }},
    {{"interface dpdk0"}, "ipv6 address 2001:db8:77::1/64",
     [](const Config& c, const Session&) {
       return itf(c, "dpdk0").ipv6 == std::vector<Ipv6Prefix>{{v6({0x2001, 0xdb8, 0x77}, 1), 64}};
     }},
    {{"interface dpdk0", "ipv6 address 2001:db8:77::1/64"}, "ipv6 add 2001:DB8:78::1/48",
     [](const Config& c, const Session&) { return itf(c, "dpdk0").ipv6.size() == 2; }},
    {{"interface dpdk0", "ipv6 address 2001:db8:77::1/64"}, "ipv6 address 2001:db8:77:0::1/56",
     [](const Config& c, const Session&) {  // the same address: its new length replaces
       return itf(c, "dpdk0").ipv6 == std::vector<Ipv6Prefix>{{v6({0x2001, 0xdb8, 0x77}, 1), 56}};
     }},
    {{"interface dpdk0.100"}, "encapsulation dot1Q 100",
     [](const Config& c, const Session& s) {
       return itf(c, "dpdk0.100").vlan == 100 && s.interface == "dpdk0.100";
     }},
    {{"interface dpdk0.100"}, "encap dot1q 200",  // VLAN need not be the sub-interface number
     [](const Config& c, const Session&) { return itf(c, "dpdk0.100").vlan == 200; }},
    {{"interface dpdk0.100", "encapsulation dot1Q 100"}, "ip address 10.78.0.1 255.255.255.0",
     [](const Config& c, const Session&) { return itf(c, "dpdk0.100").ipv4->address == v4("10.78.0.1"); }},
    {{"interface dpdk1.5", "encap dot1Q 5"}, "ipv6 address 2001:db8:5::1/64",
     [](const Config& c, const Session&) { return itf(c, "dpdk1.5").ipv6.size() == 1; }},
    {{"interface dpdk0"}, "shutdown", [](const Config& c, const Session&) { return itf(c, "dpdk0").shutdown; }},
    {{"interface dpdk0"}, "shut", [](const Config& c, const Session&) { return itf(c, "dpdk0").shutdown; }},
    {{"interface dpdk0"}, "description uplink to  carrier A",
     [](const Config& c, const Session&) {
       return itf(c, "dpdk0").description == "uplink to  carrier A";
     }},
    {{"interface dpdk0"}, "desc x", [](const Config& c, const Session&) { return itf(c, "dpdk0").description == "x"; }},
    {{}, "ip route 0.0.0.0 0.0.0.0 10.77.0.254",
     [](const Config& c, const Session& s) {
       Route r;
       r.network4 = {0, 0};
       r.gateway4 = v4("10.77.0.254");
       return s.mode == Mode::global_config && c.routes == std::vector<Route>{r};
     }},
    {{}, "ip ro 198.51.100.0 255.255.255.0 10.77.0.1",
     [](const Config& c, const Session&) {
       return c.routes.size() == 1 && c.routes[0].network4 == Ipv4Prefix{v4("198.51.100.0"), 24};
     }},
    {{"ipv6 route ::/0 2001:db8:77::fe"}, "ip route 0.0.0.0 0.0.0.0 10.77.0.254",
     [](const Config& c, const Session&) {  // IPv4 routes stay before IPv6 ones
       return c.routes.size() == 2 && !c.routes[0].ipv6 && c.routes[1].ipv6;
     }},
    {{}, "ipv6 route ::/0 2001:db8:77::fe",
     [](const Config& c, const Session&) {
       return c.routes.size() == 1 && c.routes[0].ipv6 && c.routes[0].network6.length == 0 &&
              c.routes[0].gateway6 == v6({0x2001, 0xdb8, 0x77}, 0xfe);
     }},
    {{}, "ipv6 ro 2001:db8:99::1/48 fe80::1",  // IOS keeps the network of the prefix
     [](const Config& c, const Session&) {
       return c.routes[0].network6 == Ipv6Prefix{v6({0x2001, 0xdb8, 0x99}), 48};
     }},
    {{}, "voice service voip",
     [](const Config& c, const Session& s) {
       return s.mode == Mode::voice_service && c.voice.present && !c.voice.sip.present;
     }},
    {{}, "voice serv voip", [](const Config&, const Session& s) { return s.mode == Mode::voice_service; }},
    {{"voice service voip"}, "sip",
     [](const Config& c, const Session& s) { return s.mode == Mode::voice_sip && c.voice.sip.present; }},
    {{"voice service voip", "sip"}, "bind control source-interface dpdk0",
     [](const Config& c, const Session& s) {
       return c.voice.sip.bind_control_interface == "dpdk0" && s.mode == Mode::voice_sip;
     }},
    {{"interface dpdk1.7", "voice service voip", "sip"}, "bind cont source dp1.7",
     [](const Config& c, const Session&) { return c.voice.sip.bind_control_interface == "dpdk1.7"; }},
    {{"voice service voip", "sip"}, "listen-port non-secure 5080",
     [](const Config& c, const Session&) { return c.voice.sip.listen_port == 5080; }},
    {{"voice service voip", "sip"}, "list non 1", [](const Config& c, const Session&) { return c.voice.sip.listen_port == 1; }},
    // Mode moves: exit goes one level up; a global command from a sub-mode leaves it.
    {{"voice service voip", "sip"}, "exit",
     [](const Config&, const Session& s) { return s.mode == Mode::voice_service; }},
    {{"voice service voip"}, "exit", [](const Config&, const Session& s) { return s.mode == Mode::global_config; }},
    {{"interface dpdk0"}, "exit", [](const Config&, const Session& s) { return s.mode == Mode::global_config; }},
    {{"voice service voip", "sip"}, "end", [](const Config&, const Session& s) { return s.mode == Mode::privileged_exec; }},
    {{"interface dpdk0"}, "interface dpdk1",
     [](const Config&, const Session& s) { return s.mode == Mode::interface && s.interface == "dpdk1"; }},
    {{"interface dpdk0"}, "ip route 0.0.0.0 0.0.0.0 10.0.0.1",
     [](const Config& c, const Session& s) { return s.mode == Mode::global_config && c.routes.size() == 1; }},
    {{"voice service voip", "sip"}, "sip",  // from sip, `sip` of the parent mode re-enters
     [](const Config&, const Session& s) { return s.mode == Mode::voice_sip; }},
    {{"voice service voip", "sip"}, "hostname gw",
     [](const Config& c, const Session& s) { return s.mode == Mode::global_config && c.hostname == "gw"; }},
};

TEST(Interfaces, EveryCommandAndAbbreviation) {
  for (const Case& c : kCommands) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    Config before = h.cfg;
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_TRUE(c.check(h.cfg, h.s)) << c.line;
    EXPECT_EQ(r.changed, !(h.cfg == before)) << c.line;
  }
}

// ---- no-forms ------------------------------------------------------------------------------------

const Case kNoForms[] = {
    {{"interface dpdk0.100", "encapsulation dot1Q 100", "exit"}, "no interface dpdk0.100",
     [](const Config& c, const Session&) { return c.interfaces.empty(); }},
    {{"interface dpdk0.100", "exit"}, "no int dp0.100", [](const Config& c, const Session&) { return c.interfaces.empty(); }},
    {{"interface dpdk0", "ip address 10.77.0.1 255.255.255.0"}, "no ip address",
     [](const Config& c, const Session&) { return !itf(c, "dpdk0").ipv4; }},
    {{"interface dpdk0", "ip address 10.77.0.1 255.255.255.0"}, "no ip addr 10.77.0.1 255.255.255.0",
     [](const Config& c, const Session&) { return !itf(c, "dpdk0").ipv4; }},
    {{"interface dpdk0", "ip address 10.77.0.1 255.255.255.0"}, "no ip address 10.77.0.2 255.255.255.0",
     [](const Config& c, const Session&) { return itf(c, "dpdk0").ipv4.has_value(); }},  // not that one
    {{"interface dpdk0", "ipv6 address 2001:db8:77::1/64", "ipv6 address 2001:db8:78::1/64"},
     "no ipv6 address 2001:db8:77::1/64",
     [](const Config& c, const Session&) {
       return itf(c, "dpdk0").ipv6 == std::vector<Ipv6Prefix>{{v6({0x2001, 0xdb8, 0x78}, 1), 64}};
     }},
    {{"interface dpdk0", "ipv6 address 2001:db8:77::1/64", "ipv6 address 2001:db8:78::1/64"},
     "no ipv6 address", [](const Config& c, const Session&) { return itf(c, "dpdk0").ipv6.empty(); }},
    {{"interface dpdk0.9", "encapsulation dot1Q 9"}, "no encapsulation dot1Q 9",
     [](const Config& c, const Session&) { return itf(c, "dpdk0.9").vlan == 0; }},
    {{"interface dpdk0.9", "encapsulation dot1Q 9"}, "no encap dot1q",
     [](const Config& c, const Session&) { return itf(c, "dpdk0.9").vlan == 0; }},
    {{"interface dpdk0", "shutdown"}, "no shutdown", [](const Config& c, const Session&) { return !itf(c, "dpdk0").shutdown; }},
    {{"interface dpdk0", "description x y"}, "no description",
     [](const Config& c, const Session&) { return itf(c, "dpdk0").description.empty(); }},
    {{"ip route 0.0.0.0 0.0.0.0 10.77.0.254", "ip route 0.0.0.0 0.0.0.0 10.77.0.253"},
     "no ip route 0.0.0.0 0.0.0.0 10.77.0.254",
     [](const Config& c, const Session&) { return c.routes.size() == 1 && c.routes[0].gateway4 == v4("10.77.0.253"); }},
    {{"ip route 0.0.0.0 0.0.0.0 10.77.0.254", "ip route 0.0.0.0 0.0.0.0 10.77.0.253",
      "ip route 10.0.0.0 255.0.0.0 10.77.0.1"},
     "no ip route 0.0.0.0 0.0.0.0",  // every gateway of that network
     [](const Config& c, const Session&) { return c.routes.size() == 1 && c.routes[0].network4.length == 8; }},
    {{"ipv6 route ::/0 2001:db8::1", "ipv6 route ::/0 2001:db8::2"}, "no ipv6 route ::/0 2001:db8::2",
     [](const Config& c, const Session&) { return c.routes.size() == 1; }},
    {{"ipv6 route 2001:db8:1::/48 2001:db8::1"}, "no ipv6 route 2001:db8:1::/48",
     [](const Config& c, const Session&) { return c.routes.empty(); }},
    {{"voice service voip", "sip", "bind control source-interface dpdk0"}, "no bind control",
     [](const Config& c, const Session&) { return c.voice.sip.bind_control_interface.empty(); }},
    {{"voice service voip", "sip", "bind control source-interface dpdk0"},
     "no bind control source-interface dpdk0",
     [](const Config& c, const Session&) { return c.voice.sip.bind_control_interface.empty(); }},
    {{"voice service voip", "sip", "listen-port non-secure 5080"}, "no listen-port non-secure",
     [](const Config& c, const Session&) { return c.voice.sip.listen_port == kDefaultSipPort; }},
    {{"voice service voip", "sip", "listen-port non-secure 5080"}, "no listen-port non-secure 5080",
     [](const Config& c, const Session&) { return c.voice.sip.listen_port == kDefaultSipPort; }},
    {{"voice service voip", "sip", "listen-port non-secure 5080", "exit"}, "no sip",
     [](const Config& c, const Session& s) {
       return c.voice.sip == VoiceSip{} && c.voice.present && s.mode == Mode::voice_service;
     }},
    {{"voice service voip", "sip", "listen-port non-secure 5080", "end", "conf t"},
     "no voice service voip", [](const Config& c, const Session&) { return c.voice == VoiceService{}; }},
    // Absent things: accepted, nothing changes.
    {{}, "no interface dpdk3.3", [](const Config& c, const Session&) { return c.interfaces.empty(); }},
    {{}, "no ip route 10.0.0.0 255.0.0.0 10.1.1.1", [](const Config& c, const Session&) { return c.routes.empty(); }},
    {{"interface dpdk0"}, "no ip address", [](const Config& c, const Session&) { return !itf(c, "dpdk0").ipv4; }},
};

TEST(Interfaces, NoForms) {
  for (const Case& c : kNoForms) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    Config before = h.cfg;
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_TRUE(c.check(h.cfg, h.s)) << c.line;
    EXPECT_EQ(r.changed, !(h.cfg == before)) << c.line;
  }
}

// ---- refused: (setup, line, code, marker or message) --------------------------------------------

struct Refusal {
  std::vector<const char*> setup;
  const char* line;
  ResultCode code;
  std::size_t marker;   // invalid_input
  const char* message;  // exact, as the operator sees it (format_error())
};

constexpr const char* kDot1QFirst =
    "% Configuring IP routing on a LAN subinterface is only allowed if that subinterface is "
    "already configured as part of an IEEE 802.10, IEEE 802.1Q, or ISL vLAN.";

const Refusal kRefusals[] = {
    // The grammar: the '^' under the offending word.
    {{}, "interface dpdk64", ResultCode::invalid_input, 10, nullptr},
    {{}, "interface dpdk0.0", ResultCode::invalid_input, 10, nullptr},
    {{}, "interface dpdk0.4095", ResultCode::invalid_input, 10, nullptr},
    {{}, "interface eth0", ResultCode::invalid_input, 10, nullptr},
    {{}, "interface", ResultCode::incomplete, 0, "% Incomplete command."},
    {{"interface dpdk0"}, "ip address 10.0.0.1 255.255.255.256", ResultCode::invalid_input, 20, nullptr},
    {{"interface dpdk0"}, "ip address 10.0.0.1", ResultCode::incomplete, 0, nullptr},
    {{"interface dpdk0"}, "ip address 10.0.0.1/24", ResultCode::invalid_input, 11, nullptr},
    {{"interface dpdk0"}, "ipv6 address 2001:db8::1/129", ResultCode::invalid_input, 13, nullptr},
    {{"interface dpdk0"}, "ipv6 address 2001:db8::1", ResultCode::invalid_input, 13, nullptr},
    {{"interface dpdk0"}, "ipv6 address 2001:db8:::1/64", ResultCode::invalid_input, 13, nullptr},
    {{"interface dpdk0.5"}, "encapsulation dot1Q 4095", ResultCode::invalid_input, 20, nullptr},
    {{"interface dpdk0.5"}, "encapsulation isl 5", ResultCode::invalid_input, 14, nullptr},
    {{"interface dpdk0"}, "e", ResultCode::ambiguous, 0, "% Ambiguous command:  \"e\""},
    {{}, "ip route 10.0.0.0 255.0.0.0", ResultCode::incomplete, 0, nullptr},
    {{}, "ip route 10.0.0.0 255.0.0.0 gw", ResultCode::invalid_input, 28, nullptr},
    {{}, "ipv6 route 2001:db8::/200 2001:db8::1", ResultCode::invalid_input, 11, nullptr},
    {{}, "voice service pots", ResultCode::invalid_input, 14, nullptr},
    {{"voice service voip", "sip"}, "listen-port non-secure 0", ResultCode::invalid_input, 23, nullptr},
    {{"voice service voip", "sip"}, "listen-port non-secure 65536", ResultCode::invalid_input, 23, nullptr},
    {{"voice service voip", "sip"}, "bind control source-interface lo0", ResultCode::invalid_input, 30, nullptr},
    // Validation: IOS messages.
    {{}, "no interface dpdk0", ResultCode::rejected, 0, "% Removal of physical interfaces is not permitted"},
    {{"interface dpdk0"}, "ip address 10.77.0.1 255.0.255.0", ResultCode::rejected, 0,
     "% Bad mask 0xFF00FF00 for address 10.77.0.1"},
    {{"interface dpdk0"}, "ip address 10.77.0.0 255.255.255.0", ResultCode::rejected, 0,
     "% Bad mask /24 for address 10.77.0.0"},
    {{"interface dpdk0"}, "ip address 10.77.0.255 255.255.255.0", ResultCode::rejected, 0,
     "% Bad mask /24 for address 10.77.0.255"},
    {{"interface dpdk0"}, "ip address 10.77.0.1 0.0.0.0", ResultCode::rejected, 0,
     "% Bad mask /0 for address 10.77.0.1"},
    {{"interface dpdk0"}, "ip address 224.0.0.1 255.255.255.0", ResultCode::rejected, 0,
     "% Not a valid host address - 224.0.0.1"},
    {{"interface dpdk0"}, "ip address 127.0.0.1 255.0.0.0", ResultCode::rejected, 0,
     "% Not a valid host address - 127.0.0.1"},
    {{"interface dpdk1", "ip address 10.77.0.1 255.255.0.0", "interface dpdk0"},
     "ip address 10.77.0.2 255.255.255.0", ResultCode::rejected, 0, "% 10.77.0.0 overlaps with dpdk1"},
    {{"interface dpdk1", "ip address 10.77.5.1 255.255.255.0", "interface dpdk0"},
     "ip address 10.77.0.1 255.255.0.0", ResultCode::rejected, 0, "% 10.77.0.0 overlaps with dpdk1"},
    {{"interface dpdk0.100", "encapsulation dot1Q 100", "ip address 10.78.0.1 255.255.255.0",
      "interface dpdk1"},
     "ip address 10.78.0.9 255.255.255.0", ResultCode::rejected, 0, "% 10.78.0.0 overlaps with dpdk0.100"},
    {{"interface dpdk1", "ipv6 address 2001:db8:77::1/64", "interface dpdk0"},
     "ipv6 address 2001:db8:77::2/64", ResultCode::rejected, 0,
     "% 2001:db8:77::/64 is overlapping with dpdk1"},
    {{"interface dpdk1", "ipv6 address 2001:db8:77:5::1/64", "interface dpdk0"},
     "ipv6 address 2001:db8:77::1/48", ResultCode::rejected, 0,
     "% 2001:db8:77::/48 is overlapping with dpdk1"},
    {{"interface dpdk0"}, "ipv6 address ff02::1/64", ResultCode::rejected, 0,
     "% Not a valid host address - ff02::1"},
    {{"interface dpdk0"}, "ipv6 address ::1/128", ResultCode::rejected, 0, "% Not a valid host address - ::1"},
    {{"interface dpdk0"}, "ipv6 address fe80::1/64", ResultCode::rejected, 0,
     "% fe80::1 is link-local: a dpdk interface derives its link-local address from its MAC (EUI-64)"},
    {{"interface dpdk0"}, "ipv6 address 2001:db8::1/0", ResultCode::rejected, 0,
     "% Bad prefix length /0 for address 2001:db8::1"},
    {{"interface dpdk0.100", "encapsulation dot1Q 100", "interface dpdk0.200"}, "encapsulation dot1Q 100",
     ResultCode::rejected, 0,
     "% Configuration of multiple subinterfaces of the same main interface with the same VID (100) "
     "is not permitted. This VID is already configured on dpdk0.100."},
    {{"interface dpdk0.100"}, "ip address 10.78.0.1 255.255.255.0", ResultCode::rejected, 0, kDot1QFirst},
    {{"interface dpdk0.100"}, "ipv6 address 2001:db8:78::1/64", ResultCode::rejected, 0, kDot1QFirst},
    {{"interface dpdk0"}, "encapsulation dot1Q 100", ResultCode::rejected, 0,
     "% encapsulation dot1Q is configured on a sub-interface (dpdk0.V)"},
    {{"interface dpdk0.100", "encapsulation dot1Q 100", "ip address 10.78.0.1 255.255.255.0"},
     "no encapsulation dot1Q", ResultCode::rejected, 0,
     "% Remove the IP addresses of dpdk0.100 before its encapsulation"},
    {{}, "ip route 10.0.0.1 255.0.0.0 10.77.0.254", ResultCode::rejected, 0, "% Inconsistent address and mask"},
    {{}, "ip route 10.0.0.0 255.0.255.0 10.77.0.254", ResultCode::rejected, 0, "% Inconsistent address and mask"},
    {{}, "ip route 0.0.0.0 0.0.0.0 224.0.0.5", ResultCode::rejected, 0, "% Invalid next hop address"},
    {{"interface dpdk0", "ip address 10.77.0.1 255.255.255.0"}, "ip route 0.0.0.0 0.0.0.0 10.77.0.1",
     ResultCode::rejected, 0, "% Invalid next hop address (it's this router)"},
    {{"interface dpdk0", "ipv6 address 2001:db8:77::1/64"}, "ipv6 route ::/0 2001:db8:77::1",
     ResultCode::rejected, 0, "% Invalid next hop address (it's this router)"},
    {{}, "ipv6 route ::/0 ff02::2", ResultCode::rejected, 0, "% Invalid next hop address"},
    {{"voice service voip", "sip"}, "bind control source-interface dpdk0.100", ResultCode::rejected, 0,
     "% Interface dpdk0.100 does not exist"},
    {{"interface dpdk0.100", "voice service voip", "sip", "bind control source-interface dpdk0.100",
      "exit", "exit"},
     "no interface dpdk0.100", ResultCode::rejected, 0,
     "% Interface dpdk0.100 is in use by bind control source-interface; remove the bind first"},
};

TEST(Interfaces, RefusedCommandsChangeNothing) {
  for (const Refusal& c : kRefusals) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    Config before = h.cfg;
    Session session_before = h.s;
    Result r = h.run(c.line);
    EXPECT_EQ(r.code(), c.code) << c.line << "\n" << format_error(c.line, r);
    if (c.code == ResultCode::invalid_input) {
      EXPECT_EQ(r.marker, c.marker) << c.line << "\n" << format_error(c.line, r);
      EXPECT_TRUE(format_error(c.line, r).ends_with("^\n% Invalid input detected at '^' marker."))
          << c.line;
    }
    if (c.message) {
      EXPECT_EQ(format_error(c.line, r), c.message) << c.line;
    }
    EXPECT_FALSE(r.changed) << c.line;
    EXPECT_EQ(h.cfg, before) << c.line;
    EXPECT_EQ(h.s.mode, session_before.mode) << c.line;
    EXPECT_EQ(h.s.interface, session_before.interface) << c.line;
  }
}

TEST(Interfaces, RepeatingACommandReportsNoChange) {
  Harness h;
  h.setup({"interface dpdk0.100", "encapsulation dot1Q 100", "ip address 10.78.0.1 255.255.255.0",
           "ipv6 address 2001:db8:78::1/64", "description d", "shutdown", "exit",
           "ip route 0.0.0.0 0.0.0.0 10.78.0.254", "ipv6 route ::/0 2001:db8:78::fe",
           "voice service voip", "sip", "bind control source-interface dpdk0.100",
           "listen-port non-secure 5070", "end", "conf t"});
  for (const char* l : {"interface dpdk0.100", "encapsulation dot1Q 100",
                        "ip address 10.78.0.1 255.255.255.0", "ipv6 address 2001:db8:78::1/64",
                        "description d", "shutdown", "exit", "ip route 0.0.0.0 0.0.0.0 10.78.0.254",
                        "ipv6 route ::/0 2001:db8:78::fe", "voice service voip", "sip",
                        "bind control source-interface dpdk0.100", "listen-port non-secure 5070"}) {
    Result r = h.run(l);
    ASSERT_TRUE(r.ok()) << l << "\n" << format_error(l, r);
    EXPECT_FALSE(r.changed) << l;
  }
}

TEST(Interfaces, DescriptionLimitAndExecFromTheNewModes) {
  Harness h;
  h.setup({"interface dpdk0"});
  Config before = h.cfg;
  Result r = h.run("description " + std::string(241, 'x'));
  EXPECT_EQ(r.status.code(), StatusCode::out_of_range);
  EXPECT_EQ(r.status.message(), "Description too long (240 characters at most)");
  EXPECT_EQ(h.cfg, before);
  h.setup({"description " + std::string(240, 'x')});
  // `do` reaches privileged exec from every new mode without leaving it.
  for (const char* mode_line : {"interface dpdk0.9", "voice service voip", "sip"}) {
    h.setup({mode_line});
    Mode m = h.s.mode;
    Result show = h.run("do show running-config | include ^interface");
    ASSERT_TRUE(show.ok()) << mode_line << "\n" << show.status.message();
    EXPECT_EQ(show.output, "interface dpdk0\ninterface dpdk0.9\n");
    EXPECT_EQ(h.s.mode, m);
  }
  // Help on a partially typed structured parameter still shows its placeholder.
  Harness g;
  auto items = g.in.help("interface dp", g.s);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].word, "dpdk<0-63>[.<1-4094>]");
}

TEST(Interfaces, Prompts) {
  Harness h;
  h.setup({"interface dpdk0"});
  EXPECT_EQ(prompt(h.cfg, h.s), "Router(config-if)#");
  h.setup({"interface dpdk0.100"});
  EXPECT_EQ(prompt(h.cfg, h.s), "Router(config-subif)#");
  h.setup({"voice service voip"});
  EXPECT_EQ(prompt(h.cfg, h.s), "Router(conf-voi-serv)#");
  h.setup({"sip"});
  EXPECT_EQ(prompt(h.cfg, h.s), "Router(conf-serv-sip)#");
}

TEST(Interfaces, HelpOnEveryNewNode) {
  struct H {
    Mode mode;
    const char* line;
    const char* word;
  };
  const H cases[] = {
      {Mode::global_config, "interface ", "dpdk<0-63>[.<1-4094>]"},
      {Mode::global_config, "ip route ", "A.B.C.D"},
      {Mode::global_config, "ipv6 route ", "X:X:X:X::X/<0-128>"},
      {Mode::global_config, "ipv6 route ::/0 ", "X:X:X:X::X"},
      {Mode::global_config, "voice service ", "voip"},
      {Mode::interface, "encapsulation ", "dot1Q"},
      {Mode::interface, "encapsulation dot1Q ", "<1-4094>"},
      {Mode::interface, "ip address 10.0.0.1 ", "A.B.C.D"},
      {Mode::interface, "ipv6 address ", "X:X:X:X::X/<0-128>"},
      {Mode::interface, "desc", "description"},
      {Mode::voice_service, "", "sip"},
      {Mode::voice_sip, "bind control ", "source-interface"},
      {Mode::voice_sip, "listen-port non-secure ", "<1-65535>"},
  };
  for (const H& c : cases) {
    Harness h(c.mode);
    h.s.interface = "dpdk0.1";
    auto items = h.in.help(c.line, h.s);
    auto it = std::find_if(items.begin(), items.end(),
                           [&](const auto& i) { return i.word == c.word; });
    ASSERT_NE(it, items.end()) << c.line;
    EXPECT_FALSE(it->help.empty()) << c.line;
  }
  // Every node of the new modes has a help text.
  for (Mode m : {Mode::interface, Mode::voice_service, Mode::voice_sip}) {
    Harness h(m);
    for (const auto& i : h.in.help("", h.s)) {
      if (i.word != "<cr>") {
        EXPECT_FALSE(i.help.empty()) << i.word;
      }
    }
  }
  Harness h(Mode::interface);
  EXPECT_EQ(h.in.complete("encap", h.s), "encapsulation ");
  EXPECT_EQ(h.in.complete("encapsulation dot1q", h.s), "encapsulation dot1Q ");
}

// ---- loading, rendering ------------------------------------------------------------------------

std::string read(const std::string& name) {
  std::ifstream f(std::string(REGFRONT_TEST_DATA) + "/config/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Interfaces, IssueExampleLoadsVerbatim) {
  Config cfg;
  LoadResult r = load_startup_config(read("dpdk-example.cfg"), cfg);
  for (const auto& e : r.errors) ADD_FAILURE() << e.format("dpdk-example.cfg");
  ASSERT_EQ(cfg.interfaces.size(), 2u);
  const Interface& p = itf(cfg, "dpdk0");
  EXPECT_EQ(p.ipv4, (Ipv4Prefix{v4("10.77.0.1"), 24}));
  EXPECT_EQ(p.ipv6, (std::vector<Ipv6Prefix>{{v6({0x2001, 0xdb8, 0x77}, 1), 64}}));
  EXPECT_EQ(p.vlan, 0);
  const Interface& s = itf(cfg, "dpdk0.100");
  EXPECT_EQ(s.port, 0);
  EXPECT_EQ(s.subif, 100);
  EXPECT_EQ(s.vlan, 100);
  EXPECT_EQ(s.ipv4, (Ipv4Prefix{v4("10.78.0.1"), 24}));
  ASSERT_EQ(cfg.routes.size(), 1u);
  EXPECT_EQ(cfg.routes[0].network4, (Ipv4Prefix{0, 0}));
  EXPECT_EQ(cfg.routes[0].gateway4, v4("10.77.0.254"));
  EXPECT_TRUE(cfg.voice.present && cfg.voice.sip.present);
  EXPECT_EQ(cfg.voice.sip.bind_control_interface, "dpdk0");
  EXPECT_EQ(cfg.voice.sip.listen_port, 5060);
  EXPECT_TRUE(validate_interfaces(cfg, 1).empty());

  EXPECT_EQ(render_running_config(cfg),
            "!\n"
            "hostname Router\n"
            "!\n"
            "interface dpdk0\n"
            " ip address 10.77.0.1 255.255.255.0\n"
            " ipv6 address 2001:db8:77::1/64\n"
            "!\n"
            "interface dpdk0.100\n"
            " encapsulation dot1Q 100\n"
            " ip address 10.78.0.1 255.255.255.0\n"
            "!\n"
            "ip route 0.0.0.0 0.0.0.0 10.77.0.254\n"
            "!\n"
            "voice service voip\n"
            " sip\n"
            "  bind control source-interface dpdk0\n"
            "!\n"
            "end\n");
}

TEST(Interfaces, RoundTripInIosOrder) {
  Harness h;
  h.setup({"hostname sbc", "service password-encryption",
           "sip-ua", "registrar 1 dns:reg.example.com", "exit",
           "dial-peer voice 1 pots", "destination-pattern 5551000", "exit",
           "voice service voip", "sip", "listen-port non-secure 5070", "end", "conf t",
           "ipv6 route 2001:db8:99::/48 fe80::1",
           "ip route 198.51.100.0 255.255.255.0 10.77.0.253",
           "interface dpdk2.30", "encapsulation dot1Q 31", "description voice VLAN",
           "ip address 172.16.30.1 255.255.255.0", "shutdown",
           "interface dpdk10", "ipv6 address 2001:db8:10::1/64", "ipv6 address 2001:db8:11::1/64",
           "interface dpdk2", "ip address 10.77.0.1 255.255.255.0", "exit",
           "ip route 0.0.0.0 0.0.0.0 10.77.0.254",
           "voice service voip", "sip", "bind control source-interface dpdk2.30"});
  std::string text = render_running_config(h.cfg);
  EXPECT_EQ(text,
            "!\n"
            "hostname sbc\n"
            "!\n"
            "service password-encryption\n"
            "!\n"
            "interface dpdk2\n"
            " ip address 10.77.0.1 255.255.255.0\n"
            "!\n"
            "interface dpdk2.30\n"
            " description voice VLAN\n"
            " encapsulation dot1Q 31\n"
            " ip address 172.16.30.1 255.255.255.0\n"
            " shutdown\n"
            "!\n"
            "interface dpdk10\n"
            " no ip address\n"
            " ipv6 address 2001:db8:10::1/64\n"
            " ipv6 address 2001:db8:11::1/64\n"
            "!\n"
            "ip route 198.51.100.0 255.255.255.0 10.77.0.253\n"
            "ip route 0.0.0.0 0.0.0.0 10.77.0.254\n"
            "ipv6 route 2001:db8:99::/48 fe80::1\n"
            "!\n"
            "voice service voip\n"
            " sip\n"
            "  bind control source-interface dpdk2.30\n"
            "  listen-port non-secure 5070\n"
            "!\n"
            "dial-peer voice 1 pots\n"
            " destination-pattern 5551000\n"
            "!\n"
            "sip-ua\n"
            " registrar 1 dns:reg.example.com\n"
            "!\n"
            "end\n");
  Config back;
  LoadResult r = load_startup_config(text, back);
  for (const auto& e : r.errors) ADD_FAILURE() << e.format() << "\n" << text;
  EXPECT_EQ(back, h.cfg);
  EXPECT_EQ(render_running_config(back), text);

  // Empty blocks are kept: an entered interface, `voice service voip` with an empty `sip`.
  Harness e;
  e.setup({"interface dpdk0", "voice service voip", "sip"});
  Config empty_back;
  ASSERT_TRUE(load_startup_config(render_running_config(e.cfg), empty_back).ok());
  EXPECT_EQ(empty_back, e.cfg);
  EXPECT_NE(render_running_config(e.cfg).find("interface dpdk0\n no ip address\n!\n"
                                               "voice service voip\n sip\n!\n"),
            std::string::npos);
}

TEST(Interfaces, LoadStopsAtAnInvalidAddressWithItsLine) {
  Config cfg;
  LoadResult r = load_startup_config(
      "interface dpdk0\n ip address 10.77.0.1 255.255.255.0\ninterface dpdk1\n"
      " ip address 10.77.0.9 255.255.255.0\n",
      cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[0].status.message(), "10.77.0.0 overlaps with dpdk0");
  EXPECT_EQ(cfg, Config{});
}

// ---- the daemon-side check -----------------------------------------------------------------------

TEST(Interfaces, ValidateAgainstThePorts) {
  Harness h;
  h.setup({"interface dpdk0", "ip address 10.77.0.1 255.255.255.0", "interface dpdk7",
           "interface dpdk1.5", "encapsulation dot1Q 5", "exit",
           "ip route 0.0.0.0 0.0.0.0 10.77.0.254", "ip route 10.9.0.0 255.255.0.0 10.8.0.1",
           "ipv6 route ::/0 fe80::1", "voice service voip", "sip",
           "bind control source-interface dpdk1.5"});
  EXPECT_EQ(validate_interfaces(h.cfg, 2),
            (std::vector<std::string>{
                "Interface dpdk7 does not exist: the EAL found 2 DPDK ports (dpdk0-dpdk1)",
                "bind control source-interface dpdk1.5: the interface has no IP address",
                "ip route 10.9.0.0 255.255.0.0 10.8.0.1: the gateway is not in a connected subnet",
                "ipv6 route ::/0 fe80::1: the gateway is not in a connected subnet",
            }));
  EXPECT_EQ(validate_interfaces(h.cfg, 1)[0],
            "Interface dpdk1.5 does not exist: the EAL found 1 DPDK port (dpdk0)");
  EXPECT_EQ(validate_interfaces(h.cfg, 0).size(), 6u);  // dpdk0, dpdk1.5, dpdk7; bind; 2 routes
  h.setup({"interface dpdk1.5", "ipv6 address 2001:db8:5::1/64", "shutdown", "exit",
           "no interface dpdk7.1", "no ip route 10.9.0.0 255.255.0.0"});
  h.cfg.interfaces.erase("dpdk7");  // (a physical interface leaves only with the configuration)
  EXPECT_EQ(validate_interfaces(h.cfg, 8),
            (std::vector<std::string>{
                "bind control source-interface dpdk1.5: the interface is shut down"}));
  // A physical interface that was never entered exists when its port does.
  Harness p;
  p.setup({"voice service voip", "sip", "bind control source-interface dpdk3"});
  EXPECT_EQ(validate_interfaces(p.cfg, 2),
            (std::vector<std::string>{
                "Interface dpdk3 does not exist: the EAL found 2 DPDK ports (dpdk0-dpdk1)"}));
}

TEST(Interfaces, NamesAndAddressText) {
  std::uint16_t port = 0, sub = 0;
  EXPECT_TRUE(parse_interface_name("dpdk0", port, sub));
  EXPECT_TRUE(parse_interface_name("Dpdk12.4094", port, sub));
  EXPECT_EQ(port, 12);
  EXPECT_EQ(sub, 4094);
  for (const char* bad : {"dpdk", "dpdk-1", "dpdk64", "dpdk0.", "dpdk0.0", "dpdk0.4095", "dpdkx",
                          "dpdk0.1.2", "eth0", "dpdk 0", "0", "dpdk00000001"}) {
    EXPECT_FALSE(parse_interface_name(bad, port, sub)) << bad;
  }
  EXPECT_EQ(interface_name(3), "dpdk3");
  EXPECT_EQ(interface_name(3, 300), "dpdk3.300");
  EXPECT_EQ(ipv4_mask(0), 0u);
  EXPECT_EQ(ipv4_mask(24), 0xFFFFFF00u);
  EXPECT_EQ(ipv4_mask(32), 0xFFFFFFFFu);
  EXPECT_EQ(ipv4_to_string(v4("192.0.2.255")), "192.0.2.255");
  EXPECT_EQ(ipv6_to_string(v6({0x2001, 0xdb8, 0, 0, 1}, 1)), "2001:db8::1:0:0:1");
  EXPECT_EQ(ipv6_network(v6({0x2001, 0xdb8, 0x77, 0xabcd}, 1), 52), v6({0x2001, 0xdb8, 0x77, 0xa000}));
}

}  // namespace
}  // namespace regfront::config
