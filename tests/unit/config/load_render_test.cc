// Startup-config loading (the seed's examples, line numbers, all-or-nothing) and the
// render/load round trip.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace regfront::config {
namespace {

std::string read(const std::string& name) {
  std::ifstream f(std::string(REGFRONT_TEST_DATA) + "/config/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_TRUE(f.good() || f.eof()) << name;
  return ss.str();
}

Config load_ok(const std::string& name) {
  Config cfg;
  LoadResult r = load_startup_config(read(name), cfg);
  for (const auto& e : r.errors) ADD_FAILURE() << e.format(name);
  return cfg;
}

TEST(Load, SeedExample1) {
  Config cfg = load_ok("seed-example-1.cfg");
  const SipUa& ua = cfg.sip_ua;
  ASSERT_EQ(ua.registrars.size(), 2u);
  EXPECT_EQ(ua.registrars.at(1).address, (RegistrarAddress{AddressKind::dns, "example1.com", 0}));
  EXPECT_EQ(ua.registrars.at(1).expires, 180u);
  EXPECT_EQ(ua.registrars.at(2).address.host, "example2.com");
  EXPECT_EQ(ua.registrars.at(2).expires, 360u);
  ASSERT_EQ(ua.authentication.size(), 4u);
  EXPECT_EQ(ua.authentication[0], (Authentication{"MyUsername", "MyPassword1", "Realm.example1.com"}));
  EXPECT_EQ(ua.authentication[1], (Authentication{"MyUsername", "MyPassword2", "AnotherRealm.example1.com"}));
  EXPECT_EQ(ua.authentication[2], (Authentication{"MyUsername", "MyPassword3", "Realm.example2.com"}));
  EXPECT_EQ(ua.authentication[3], (Authentication{"MyUsername", "MyPassword4", "AnotherRealm.example2.com"}));
  EXPECT_TRUE(cfg.dial_peers.empty());
  EXPECT_TRUE(endpoint_numbers(cfg).empty());
}

TEST(Load, SeedExample2) {
  Config cfg = load_ok("seed-example-2.cfg");
  ASSERT_EQ(cfg.dial_peers.size(), 1u);
  const DialPeer& dp = cfg.dial_peers.at(3);
  EXPECT_EQ(dp.tag, 3u);
  ASSERT_EQ(dp.authentication.size(), 2u);
  EXPECT_EQ(dp.authentication[0], (Authentication{"MyUser", "MyPassword", "realm1.example.com"}));
  EXPECT_EQ(dp.authentication[1], (Authentication{"MyUser", "MyPassword2", "Realm2.example.com"}));
  ASSERT_EQ(cfg.sip_ua.registrars.size(), 2u);
  EXPECT_EQ(cfg.sip_ua.registrars.at(2).address, (RegistrarAddress{AddressKind::ipv4, "1.1.1.1", 0}));
  EXPECT_EQ(cfg.sip_ua.registrars.at(2).expires, 360u);
}

TEST(Load, SeedExample3) {
  Config cfg = load_ok("seed-example-3.cfg");
  const auto& c = cfg.sip_ua.credentials;
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0], (Credential{"1111", "MyUsername", "MyPassword", "Realm.example1.com"}));
  EXPECT_EQ(c[1], (Credential{"1111", "MyUsername2", "MyOtherPassword", "AnotherRealm.example1.com"}));
  EXPECT_EQ(c[2], (Credential{"2222", "TheirUsername", "TheirPassword", "Realm.example1.com"}));
  EXPECT_EQ(c[3], (Credential{"2222", "TheirUsername2", "TheirOtherPassword", "AnotherRealm.example1.com"}));
  EXPECT_EQ(cfg.sip_ua.registrars.size(), 2u);
  EXPECT_EQ(endpoint_numbers(cfg), (std::vector<std::string>{"1111", "2222"}));
}

TEST(Load, FullAndLegacyExamples) {
  Config full = load_ok("full.cfg");
  EXPECT_EQ(full.hostname, "sbc-east-1");
  EXPECT_TRUE(full.service_password_encryption);
  EXPECT_EQ(full.dial_peers.at(100).authentication[1].password, "cisco");
  EXPECT_EQ(full.sip_ua.registrars.size(), 4u);
  EXPECT_EQ(full.sip_ua.registrars.at(1).expires, 20u);
  EXPECT_EQ(full.sip_ua.registration_rate, 200u);
  EXPECT_EQ(endpoint_numbers(full),
            (std::vector<std::string>{"+14085550100", "14085550102", "5551000"}));
  Config legacy = load_ok("legacy.cfg");
  EXPECT_TRUE(legacy.sip_ua.registrar_dhcp);
  EXPECT_TRUE(legacy.sip_ua.registrars.at(2).legacy);
  EXPECT_TRUE(legacy.sip_ua.registrars.at(2).tcp);
  ASSERT_TRUE(legacy.sip_ua.credentials_dhcp);
  EXPECT_EQ(legacy.sip_ua.credentials_dhcp->realm, "dhcp.example.com");
  Config example = load_ok("../../../config/example.cfg");
  EXPECT_FALSE(example.sip_ua.registrars.empty());
  ASSERT_TRUE(example.dial_peers.at(300).is_voip());
  EXPECT_EQ(example.dial_peers.at(300).voip->session_target.kind, SessionTargetKind::ipv4);
  EXPECT_EQ(example.dial_peers.at(310).voip->session_target.kind, SessionTargetKind::registrar);
  EXPECT_EQ(example.voice.trusted.ipv4.size(), 3u);
  EXPECT_EQ(endpoint_numbers(example),  // the VoIP dial peers add none
            (std::vector<std::string>{"+14085550100", "4085550101"}));
}

TEST(Load, BadLineReportsLineNumberAndLeavesConfigUntouched) {
  Config cfg;
  cfg.hostname = "keep";
  Config before = cfg;
  LoadResult r = load_startup_config(read("bad-line-5.cfg"), cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 5);
  EXPECT_EQ(r.errors[0].column, 11);
  EXPECT_EQ(r.errors[0].format("bad-line-5.cfg"),
            "bad-line-5.cfg:5: % Invalid input detected at '^' marker.\n"
            "   registrar 7 dns:reg7.example.com\n"
            "             ^");
  EXPECT_EQ(cfg, before);
}

TEST(Load, EveryErrorIsReported) {
  Config cfg;
  LoadResult r = load_startup_config(
      "sip-ua\r\n"
      " registrar 1 dns:a.com\n"
      " registrar dns:b.com\n"     // 3: R1
      " registrar 1\n"             // 4: incomplete
      " e\n"                       // 5: ambiguous
      "dial-peer voice 1 pots\n"
      " authentication username U password 7 zz\n",  // 7: bad type 7
      cfg);
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_NE(r.errors[0].status.message().find("cannot be configured together"), std::string::npos);
  EXPECT_EQ(r.errors[0].status.code(), StatusCode::failed_precondition);
  EXPECT_EQ(r.errors[1].line, 4);
  EXPECT_EQ(r.errors[1].format(), "4: % Incomplete command.\n   registrar 1");
  EXPECT_EQ(r.errors[2].line, 5);
  EXPECT_EQ(r.errors[2].format("f"), "f:5: % Ambiguous command:  \"e\"\n   e");
  EXPECT_EQ(r.errors[3].line, 7);
  EXPECT_EQ(r.errors[3].column, 38);
  // The offending word is where a password goes: the log line masks it, the marker stays.
  EXPECT_EQ(r.errors[3].format(), "7: % Invalid input detected at '^' marker.\n"
                                  "   authentication username U password 7 *****\n"
                                  "                                        ^");
  EXPECT_EQ(cfg, Config{});
}

TEST(Load, ExecLinesAndExitsInAFile) {
  Config cfg;
  LoadResult r = load_startup_config(
      "enable\nconfigure terminal\nexit\nend\nexit\nhostname h\nsip-ua\nend\nregistrar 1 dns:a.com\n",
      cfg);
  // `end` leaves sip-ua for global configuration, where `registrar` is not a command.
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 9);
  cfg = Config{};
  r = load_startup_config("enable\nconf t\nexit\nexit\nhostname h\nsip-ua\n registrar 1 dns:a.com\nend\n", cfg);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(cfg.hostname, "h");
}

TEST(Render, Layout) {
  Config cfg = load_ok("seed-example-2.cfg");
  EXPECT_EQ(render_running_config(cfg),
            "!\n"
            "hostname Router\n"
            "!\n"
            "dial-peer voice 3 pots\n"
            " authentication username MyUser password 0 MyPassword realm realm1.example.com\n"
            " authentication username MyUser password 0 MyPassword2 realm Realm2.example.com\n"
            "!\n"
            "sip-ua\n"
            " registrar 1 dns:example1.com expires 180\n"
            " registrar 2 ipv4:1.1.1.1 expires 360\n"
            "!\n"
            "end\n");
  cfg.service_password_encryption = true;
  std::string text = render_running_config(cfg);
  EXPECT_NE(text.find("service password-encryption\n"), std::string::npos);
  EXPECT_NE(text.find(" authentication username MyUser password 7 " + type7_encode("MyPassword") +
                      " realm realm1.example.com\n"),
            std::string::npos);
}

TEST(Render, RoundTripEveryTestConfig) {
  for (const char* name : {"seed-example-1.cfg", "seed-example-2.cfg", "seed-example-3.cfg",
                           "full.cfg", "legacy.cfg", "../../../config/example.cfg"}) {
    Config cfg = load_ok(name);
    for (bool encrypt : {false, true}) {
      if (encrypt) {  // as the operator turns it on (every password there is encrypted)
        Interpreter in(cfg);
        Session s;
        s.mode = Mode::global_config;
        ASSERT_TRUE(in.execute("service password-encryption", s).ok());
      }
      std::string text = render_running_config(cfg);
      Config back;
      LoadResult r = load_startup_config(text, back);
      for (const auto& e : r.errors) ADD_FAILURE() << name << "\n" << e.format() << "\n" << text;
      EXPECT_EQ(back, cfg) << name << "\n" << text;
      EXPECT_EQ(render_running_config(back), text);  // deterministic
    }
  }
}

TEST(Render, RoundTripDefaultsAndEdgeValues) {
  Config cfg;
  std::string text = render_running_config(cfg);
  EXPECT_EQ(text, "!\nhostname Router\n!\nend\n");
  test::Harness h;
  h.setup({"sip-ua", "authentication username U password 0 7 realm R",
           "authentication username W password 0 0", "registrar 2 dns:a.com expires 3600",
           "retry register 6"});
  Config back;
  ASSERT_TRUE(load_startup_config(render_running_config(h.cfg), back).ok())
      << render_running_config(h.cfg);
  EXPECT_EQ(back, h.cfg);
}

TEST(Model, EndpointNumbers) {
  EXPECT_TRUE(is_endpoint_number("1111"));
  EXPECT_TRUE(is_endpoint_number("+14085550100"));
  EXPECT_FALSE(is_endpoint_number(""));
  EXPECT_FALSE(is_endpoint_number("+"));
  EXPECT_FALSE(is_endpoint_number("408555...."));
  EXPECT_FALSE(is_endpoint_number("T"));
  EXPECT_FALSE(is_endpoint_number("[2-9]11"));
  Config cfg;
  cfg.dial_peers[5].destination_pattern = "2222";
  cfg.dial_peers[1].destination_pattern = "1111";
  cfg.dial_peers[3].destination_pattern = "9T";
  cfg.dial_peers[4].destination_pattern = "1111";  // duplicate pattern: listed once
  cfg.sip_ua.credentials.push_back({"3333", "u", "p", "r1"});
  cfg.sip_ua.credentials.push_back({"2222", "u", "p", "r1"});
  cfg.sip_ua.credentials.push_back({"3333", "u", "p", "r2"});
  EXPECT_EQ(endpoint_numbers(cfg), (std::vector<std::string>{"1111", "2222", "3333"}));
}

}  // namespace
}  // namespace regfront::config

namespace regfront::config {
namespace {

// Every configuration command (and the option variants that render differently), entered at
// the CLI; `show running-config` loaded as a startup-config must give the same Config, with
// clear and with type 7 passwords.
const char* const kIndexedForm[] = {
    "hostname every-cmd",
    "dial-peer voice 1 pots",
    " destination-pattern +14085550100",
    " authentication username alice password 0 p@ss!w0rd#1 realm r1.example.com",
    " authentication username alice password 7 02050D480809 realm r2.example.com",
    " authentication username any password 0 open",
    " voice-class sip localhost dns:trunk.example.com preferred",
    "dial-peer voice 2 pots",
    " destination-pattern 408555....",
    " voice-class sip localhost dns:other.example.com",
    "dial-peer voice 2147483647 pots",
    "sip-ua",
    " registrar 1 dns:reg1.example.com:5080 expires 20 auth-realm r1.example.com",
    " registrar 2 ipv4:192.0.2.10 refresh-ratio 70 tcp scheme sip",
    " registrar 3 ipv6:[2001:db8::1] scheme sips",
    " registrar 4 ipv6:[2001:db8::2]:5061 expires 2147483647",
    " registrar 6 dns:reg6.example.com",
    " authentication username ua password 0 \"quoted\" realm r1.example.com",
    " authentication username ua password 0 7",
    " credentials number 5551000 username u1 password 0 p1 realm r1.example.com",
    " credentials number 5551000 username u2 password 0 p2 realm r2.example.com",
    " credentials number +15551001 username u3 password 7 0822455D0A16 realm r1.example.com",
    " localhost dns:sbc.example.com",
    " retry register 10",
    " timers register 10000",
    " registration rate 1",
};
// VoIP dial peers between POTS ones (rendered by tag, the types interleaved, as IOS), every
// VoIP command and form that renders differently, and the trusted list.
const char* const kVoipForm[] = {
    "voice service voip",
    " ip address trusted list",
    "  ipv4 192.0.2.10",
    "  ipv4 198.51.100.0 255.255.255.0",
    "  ipv4 203.0.113.0/25",
    "  ipv4 10.1.2.3 255.255.0.0",
    " sip",
    "  listen-port non-secure 5070",
    "dial-peer voice 30 voip",
    " description Inbound from the SBC core",
    " incoming called-number +1408555....",
    " session target ipv4:192.0.2.10:5080",
    " voice-class sip localhost dns:trunk.example.com preferred",
    "dial-peer voice 10 pots",
    " destination-pattern +14085550100",
    " authentication username alice password 0 pw realm r1.example.com",
    "dial-peer voice 20 voip",
    " destination-pattern [2-9]..[2-9]......",
    " session target registrar",
    " preference 10",
    " huntstop",
    "dial-peer voice 40 voip",
    " session target dns:core.sbc.example",
    "dial-peer voice 41 voip",
    " session target dns:core.sbc.example:5061",
    " preference 1",
    "dial-peer voice 42 voip",
    " session target ipv4:192.0.2.11",
    " destination-pattern T",
    "dial-peer voice 50 pots",
    " destination-pattern 5550",
    "dial-peer voice 60 voip",
};

const char* const kLegacyForm[] = {
    "sip-ua",
    " registrar dhcp expires 600",
    " registrar ipv4:192.0.2.20 expires 3600 tcp secondary",
    " credentials dhcp password 0 dhcp-pw realm dhcp.example.com",
    " localhost dns:sbc.example.com preferred",
};

template <std::size_t N>
Config configure(const char* const (&lines)[N]) {
  test::Harness h;
  for (const char* l : lines) {
    Result r = h.run(l);
    EXPECT_TRUE(r.ok()) << l << "\n" << format_error(l, r);
  }
  return h.cfg;
}

void expect_round_trip(Config cfg) {
  for (bool encrypt : {false, true}) {
    test::Harness h(Mode::privileged_exec);
    h.cfg = cfg;
    if (encrypt) {  // as the operator turns it on (every password there is encrypted)
      h.s.mode = Mode::global_config;
      ASSERT_TRUE(h.run("service password-encryption").ok());
      h.s.mode = Mode::privileged_exec;
      cfg = h.cfg;
    }
    Result shown = h.run("show running-config");
    ASSERT_TRUE(shown.ok());
    Config back;
    LoadResult r = load_startup_config(shown.output, back);
    for (const auto& e : r.errors) ADD_FAILURE() << e.format() << "\n" << shown.output;
    EXPECT_EQ(back, cfg) << shown.output;
    // IOS's header, then the configuration (which the loader took with its header).
    const std::string text = render_running_config(back);
    EXPECT_EQ("Building configuration...\n\nCurrent configuration : " + std::to_string(text.size()) + " bytes\n" + text,
              shown.output);
    if (encrypt) {
      // Type 7 everywhere: no clear password is printed.
      EXPECT_EQ(shown.output.find("password 0"), std::string::npos) << shown.output;
      for (const char* clear : {"p@ss!w0rd#1", "open", "\"quoted\"", "p1", "dhcp-pw"}) {
        EXPECT_EQ(shown.output.find(std::string(" ") + clear + " "), std::string::npos) << clear;
      }
    }
  }
}

TEST(Render, RoundTripEveryCommandBothPasswordModes) {
  Config indexed = configure(kIndexedForm);
  EXPECT_EQ(indexed.sip_ua.registrars.size(), 5u);
  EXPECT_EQ(indexed.sip_ua.credentials.size(), 3u);
  EXPECT_EQ(indexed.sip_ua.credentials[2].password, "cisco");  // type 7 accepted on input
  expect_round_trip(indexed);
  Config legacy = configure(kLegacyForm);
  EXPECT_TRUE(legacy.sip_ua.registrar_dhcp);
  expect_round_trip(legacy);
  Config voip = configure(kVoipForm);
  EXPECT_EQ(voip.dial_peers.size(), 8u);
  EXPECT_EQ(voip.voice.trusted.ipv4.size(), 4u);
  expect_round_trip(voip);
}

TEST(Render, VoipDialPeersAndTrustedList) {
  Config cfg = configure(kVoipForm);
  EXPECT_EQ(render_running_config(cfg),
            "!\n"
            "hostname Router\n"
            "!\n"
            "voice service voip\n"
            " ip address trusted list\n"
            "  ipv4 192.0.2.10\n"
            "  ipv4 198.51.100.0 255.255.255.0\n"
            "  ipv4 203.0.113.0 255.255.255.128\n"
            "  ipv4 10.1.0.0 255.255.0.0\n"
            " sip\n"
            "  listen-port non-secure 5070\n"
            "!\n"
            "dial-peer voice 10 pots\n"
            " destination-pattern +14085550100\n"
            " authentication username alice password 0 pw realm r1.example.com\n"
            "!\n"
            "dial-peer voice 20 voip\n"
            " preference 10\n"
            " huntstop\n"
            " destination-pattern [2-9]..[2-9]......\n"
            " session target registrar\n"
            "!\n"
            "dial-peer voice 30 voip\n"
            " description Inbound from the SBC core\n"
            " session target ipv4:192.0.2.10:5080\n"
            " incoming called-number +1408555....\n"
            " voice-class sip localhost dns:trunk.example.com preferred\n"
            "!\n"
            "dial-peer voice 40 voip\n"
            " session target dns:core.sbc.example\n"
            "!\n"
            "dial-peer voice 41 voip\n"
            " preference 1\n"
            " session target dns:core.sbc.example:5061\n"
            "!\n"
            "dial-peer voice 42 voip\n"
            " destination-pattern T\n"
            " session target ipv4:192.0.2.11\n"
            "!\n"
            "dial-peer voice 50 pots\n"
            " destination-pattern 5550\n"
            "!\n"
            "dial-peer voice 60 voip\n"
            "!\n"
            "end\n");
  // An empty trusted list is still a list: it renders, and loads back.
  test::Harness h;
  h.setup({"voice service voip", "ip address trusted list"});
  EXPECT_NE(render_running_config(h.cfg).find("voice service voip\n ip address trusted list\n!\n"),
            std::string::npos)
      << render_running_config(h.cfg);
  expect_round_trip(h.cfg);
  // The endpoints of the example: the POTS numbers only.
  EXPECT_EQ(endpoint_numbers(cfg), (std::vector<std::string>{"+14085550100", "5550"}));
}

TEST(Load, HundredThousandEndpointsKeepOrderAndKeys) {
  // The loader's hash tables (actions::Index) must give what the linear search gives: order
  // of configuration, F5 replacement, R5 per number.
  std::string text = "sip-ua\n";
  for (int i = 0; i < 100000; ++i) {
    text += " credentials number " + std::to_string(1000000 + i) + " username u password 0 p realm r\n";
  }
  text += " credentials number 1000007 username replaced password 0 q realm r\n";  // F5
  for (int i = 0; i < 12; ++i) {
    text += " credentials number 2000000 username u password 0 p realm r" + std::to_string(i) + "\n";
  }
  Config cfg;
  ASSERT_TRUE(load_startup_config(text, cfg).ok());
  ASSERT_EQ(cfg.sip_ua.credentials.size(), 100012u);
  EXPECT_EQ(cfg.sip_ua.credentials[7], (Credential{"1000007", "replaced", "q", "r"}));
  EXPECT_EQ(cfg.sip_ua.credentials[99999].number, "1099999");
  LoadResult r = load_startup_config(
      text + " credentials number 2000000 username u password 0 p realm r12\n", cfg);
  ASSERT_EQ(r.errors.size(), 1u);  // R5: a 13th realm for one number
  EXPECT_NE(r.errors[0].status.message().find("12 different realms"), std::string::npos);
  EXPECT_EQ(r.errors[0].status.code(), StatusCode::resource_exhausted);
  // The same through the interactive path (no index) after the load.
  test::Harness h;
  h.cfg = cfg;
  h.setup({"sip-ua"});
  Result refused = h.run("credentials number 2000000 username u password 0 p realm r12");
  EXPECT_EQ(refused.code(), ResultCode::rejected);
}

}  // namespace
}  // namespace regfront::config
