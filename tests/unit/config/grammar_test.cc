// The command tree: every command, its abbreviations and no-forms, and the IOS error forms.
#include <gtest/gtest.h>

#include "harness.h"

namespace regfront::config {
namespace {

using test::Harness;

// ---- sip-ua commands: table of (line, check) --------------------------------------------------

struct UaCase {
  const char* line;
  bool (*check)(const SipUa&);
};

const UaCase kUaCases[] = {
    {"registrar 1 dns:example1.com expires 180",
     [](const SipUa& u) {
       const Registrar& r = u.registrars.at(1);
       return !r.legacy && r.address.kind == AddressKind::dns && r.address.host == "example1.com" &&
              r.expires == 180 && r.expires_given;
     }},
    {"reg 1 dns:a.com exp 60",
     [](const SipUa& u) { return u.registrars.at(1).expires == 60 && u.registrars.at(1).address.host == "a.com"; }},
    {"regis 2 ipv4:192.0.2.1:5070",
     [](const SipUa& u) {
       const Registrar& r = u.registrars.at(2);
       return r.address.kind == AddressKind::ipv4 && r.address.host == "192.0.2.1" &&
              r.address.port == 5070 && !r.expires_given && r.expires == kDefaultExpires;
     }},
    {"registrar 3 ipv6:[2001:db8::1]:5061 scheme sips tcp",
     [](const SipUa& u) {
       const Registrar& r = u.registrars.at(3);
       return r.address.kind == AddressKind::ipv6 && r.address.host == "2001:db8::1" &&
              r.address.port == 5061 && r.scheme == Scheme::sips && r.scheme_given && r.tcp;
     }},
    {"registrar 4 ipv6:[::1]", [](const SipUa& u) { return u.registrars.at(4).address.port == 0; }},
    // Options in any order, abbreviated.
    {"registrar 6 dns:r6.example.com ref 50 auth-r R6 ex 20 sch sip",
     [](const SipUa& u) {
       const Registrar& r = u.registrars.at(6);
       return r.refresh_ratio == 50 && r.refresh_ratio_given && r.auth_realm == "R6" &&
              r.expires == 20 && r.scheme == Scheme::sip && r.scheme_given;
     }},
    {"registrar 1 dns:a.com expires 2147483647",
     [](const SipUa& u) { return u.registrars.at(1).expires == 2147483647u; }},
    {"registrar 1 dns:a.com expires 1", [](const SipUa& u) { return u.registrars.at(1).expires == 1; }},
    {"registrar dns:primary.example.com expires 600",
     [](const SipUa& u) {
       const Registrar& r = u.registrars.at(1);
       return r.legacy && r.index == 1 && r.expires == 600;
     }},
    {"registrar ipv4:192.0.2.2 secondary",
     [](const SipUa& u) { return u.registrars.at(2).legacy && u.registrars.size() == 1; }},
    {"registrar dhcp expires 120",
     [](const SipUa& u) {
       return u.registrar_dhcp && u.registrars.at(1).address.kind == AddressKind::dhcp &&
              u.registrars.at(1).expires == 120;
     }},
    {"authentication username U password P realm R",
     [](const SipUa& u) {
       return u.authentication.size() == 1 && u.authentication[0] == Authentication{"U", "P", "R"};
     }},
    {"auth user U pass P realm R",
     [](const SipUa& u) { return u.authentication[0] == Authentication{"U", "P", "R"}; }},
    {"authentication username U password 0 P",
     [](const SipUa& u) { return u.authentication[0] == Authentication{"U", "P", ""}; }},
    {"authentication username U password 7 02050D480809 realm R",
     [](const SipUa& u) { return u.authentication[0].password == "cisco"; }},
    {"credentials number 1111 username MyUsername password MyPassword realm Realm1.example.com",
     [](const SipUa& u) {
       return u.credentials.size() == 1 &&
              u.credentials[0] == Credential{"1111", "MyUsername", "MyPassword", "Realm1.example.com"};
     }},
    {"cred num +14085551234 user U pass 0 P re R",
     [](const SipUa& u) { return u.credentials[0].number == "+14085551234"; }},
    {"credentials dhcp password 7 02050D480809 realm R",
     [](const SipUa& u) { return u.credentials_dhcp && u.credentials_dhcp->password == "cisco"; }},
    {"localhost dns:sbc.example.com preferred",
     [](const SipUa& u) { return u.localhost == Localhost{"sbc.example.com", true}; }},
    {"loc dns:sbc.example.com", [](const SipUa& u) { return u.localhost == Localhost{"sbc.example.com", false}; }},
    {"retry register 10", [](const SipUa& u) { return u.retry_register == 10; }},
    {"ret reg 1", [](const SipUa& u) { return u.retry_register == 1; }},
    {"timers register 100", [](const SipUa& u) { return u.timers_register_ms == 100; }},
    {"tim reg 10000", [](const SipUa& u) { return u.timers_register_ms == 10000; }},
    {"registration rate 1000000", [](const SipUa& u) { return u.registration_rate == 1000000; }},
    {"registrati ra 1", [](const SipUa& u) { return u.registration_rate == 1; }},
    {"shard 2 of 3", [](const SipUa& u) { return u.shard_index == 2 && u.shard_count == 3; }},
    {"sha 0 o 1024", [](const SipUa& u) { return u.shard_index == 0 && u.shard_count == 1024; }},
};

TEST(GrammarSipUa, EveryCommandAndAbbreviation) {
  for (const UaCase& c : kUaCases) {
    Harness h = test::in_sip_ua();
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_TRUE(c.check(h.cfg.sip_ua)) << c.line;
    EXPECT_EQ(h.s.mode, Mode::sip_ua) << c.line;
  }
}

// ---- no-forms: (setup lines, no line, check) -----------------------------------------------

struct NoCase {
  std::vector<const char*> setup;
  const char* line;
  bool (*check)(const Config&);
};

const NoCase kNoCases[] = {
    {{"registrar 1 dns:a.com", "registrar 2 dns:b.com"}, "no registrar 2",
     [](const Config& c) { return c.sip_ua.registrars.size() == 1 && c.sip_ua.registrars.count(1); }},
    {{"registrar 2 dns:b.com expires 60"}, "no registrar 2 dns:b.com expires 60",
     [](const Config& c) { return c.sip_ua.registrars.empty(); }},
    {{"registrar dns:a.com", "registrar dns:b.com secondary"}, "no registrar dns:b.com secondary",
     [](const Config& c) { return c.sip_ua.registrars.size() == 1 && c.sip_ua.registrars.count(1); }},
    {{"registrar dhcp"}, "no registrar dhcp",
     [](const Config& c) { return c.sip_ua.registrars.empty() && !c.sip_ua.registrar_dhcp; }},
    {{"authentication username U password P realm R", "authentication username U password Q realm S"},
     "no authentication username U realm R",
     [](const Config& c) {
       return c.sip_ua.authentication.size() == 1 && c.sip_ua.authentication[0].realm == "S";
     }},
    {{"authentication username U password P realm R"}, "no authentication username U password P realm R",
     [](const Config& c) { return c.sip_ua.authentication.empty(); }},
    {{"authentication username U password P", "authentication username U password P realm R"},
     "no authentication username U",
     [](const Config& c) {
       return c.sip_ua.authentication.size() == 1 && c.sip_ua.authentication[0].realm == "R";
     }},
    {{"credentials number 1 username U password P realm R", "credentials number 1 username U password P realm S"},
     "no credentials number 1 realm R",
     [](const Config& c) { return c.sip_ua.credentials.size() == 1 && c.sip_ua.credentials[0].realm == "S"; }},
    {{"credentials number 1 username U password P realm R"},
     "no credentials number 1 username U password P realm R",
     [](const Config& c) { return c.sip_ua.credentials.empty(); }},
    {{"credentials dhcp password P realm R"}, "no credentials dhcp",
     [](const Config& c) { return !c.sip_ua.credentials_dhcp; }},
    {{"localhost dns:a.com preferred"}, "no localhost", [](const Config& c) { return !c.sip_ua.localhost; }},
    {{"localhost dns:a.com preferred"}, "no localhost dns:a.com preferred",
     [](const Config& c) { return !c.sip_ua.localhost; }},
    {{"retry register 2"}, "no retry register",
     [](const Config& c) { return c.sip_ua.retry_register == kDefaultRetryRegister; }},
    {{"retry register 2"}, "no retry register 2",
     [](const Config& c) { return c.sip_ua.retry_register == kDefaultRetryRegister; }},
    {{"timers register 200"}, "no timers register",
     [](const Config& c) { return c.sip_ua.timers_register_ms == kDefaultTimersRegisterMs; }},
    {{"registration rate 7"}, "no registration rate",
     [](const Config& c) { return c.sip_ua.registration_rate == kDefaultRegistrationRate; }},
    {{"shard 1 of 4"}, "no shard", [](const Config& c) { return c.sip_ua.shard_count == 0; }},
    {{"shard 1 of 4"}, "no shard 1 of 4",
     [](const Config& c) { return c.sip_ua.shard_count == 0 && c.sip_ua.shard_index == 0; }},
    // Global commands from inside sip-ua leave the sub-mode (IOS behaviour).
    {{"registrar 1 dns:a.com"}, "no sip-ua", [](const Config& c) { return c.sip_ua == SipUa{}; }},
};

TEST(GrammarSipUa, NoForms) {
  for (const NoCase& c : kNoCases) {
    Harness h = test::in_sip_ua();
    for (const char* l : c.setup) h.setup({l});
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_TRUE(c.check(h.cfg)) << c.line;
  }
}

TEST(GrammarGlobal, CommandsAndNoForms) {
  Harness h;
  h.setup({"hostname sbc-1"});
  EXPECT_EQ(h.cfg.hostname, "sbc-1");
  h.setup({"host sbc-2"});
  EXPECT_EQ(h.cfg.hostname, "sbc-2");
  h.setup({"no hostname"});
  EXPECT_EQ(h.cfg.hostname, "Router");
  h.setup({"serv pass"});
  EXPECT_TRUE(h.cfg.service_password_encryption);
  h.setup({"no service password-encryption"});
  EXPECT_FALSE(h.cfg.service_password_encryption);
  h.setup({"dial-peer voice 2147483647 pots"});
  EXPECT_EQ(h.s.mode, Mode::dial_peer);
  EXPECT_EQ(h.s.dial_peer_tag, 2147483647u);
  h.setup({"exit", "dial voi 7 po", "end"});
  EXPECT_EQ(h.s.mode, Mode::privileged_exec);
  EXPECT_EQ(h.cfg.dial_peers.size(), 2u);
  h.setup({"conf t", "no dial-peer voice 7"});
  EXPECT_EQ(h.cfg.dial_peers.count(7), 0u);
  h.setup({"sip"});
  EXPECT_EQ(h.s.mode, Mode::sip_ua);
  EXPECT_TRUE(h.cfg.sip_ua.present);
  h.setup({"exit"});
  EXPECT_EQ(h.s.mode, Mode::global_config);
  h.setup({"exit"});
  EXPECT_EQ(h.s.mode, Mode::privileged_exec);
  h.setup({"disable"});
  EXPECT_EQ(h.s.mode, Mode::user_exec);
  h.setup({"en"});
  EXPECT_EQ(h.s.mode, Mode::privileged_exec);
  Result r = h.run("show running-config");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.output.find("dial-peer voice 2147483647 pots"), std::string::npos);
}

TEST(GrammarDialPeer, CommandsAndNoForms) {
  Harness h;
  h.setup({"dial-peer voice 3 pots", "destination-pattern +14085550100",
           "auth user MyUser pass MyPassword realm realm1.example.com",
           "authentication username MyUser password 0 MyPassword2 realm Realm2.example.com",
           "voice-class sip localhost dns:trunk.example.com preferred"});
  const DialPeer& dp = h.cfg.dial_peers.at(3);
  EXPECT_EQ(dp.destination_pattern, "+14085550100");
  ASSERT_EQ(dp.authentication.size(), 2u);
  EXPECT_EQ(dp.authentication[1], (Authentication{"MyUser", "MyPassword2", "Realm2.example.com"}));
  EXPECT_EQ(dp.localhost, (Localhost{"trunk.example.com", true}));
  h.setup({"dest 408555....", "no voice-class sip localhost", "no auth user MyUser realm realm1.example.com"});
  EXPECT_EQ(dp.destination_pattern, "408555....");
  EXPECT_FALSE(dp.localhost);
  EXPECT_EQ(dp.authentication.size(), 1u);
  h.setup({"no destination-pattern"});
  EXPECT_EQ(dp.destination_pattern, "");
  // A global command leaves dial-peer mode and runs in global configuration.
  h.setup({"sip-ua"});
  EXPECT_EQ(h.s.mode, Mode::sip_ua);
}

// ---- errors ---------------------------------------------------------------------------------

struct ErrorCase {
  Mode mode;
  const char* line;
  ResultCode code;
  std::size_t marker;  // for invalid_input
};

const ErrorCase kErrors[] = {
    {Mode::sip_ua, "registrar 9 dns:x.com", ResultCode::invalid_input, 10},
    {Mode::sip_ua, "registrar 0 dns:x.com", ResultCode::invalid_input, 10},
    {Mode::sip_ua, "  registrar 1 foo:x.com", ResultCode::invalid_input, 14},
    {Mode::sip_ua, "registrar 1 dns:x.com expires 0", ResultCode::invalid_input, 30},
    {Mode::sip_ua, "registrar 1 dns:x.com expires 2147483648", ResultCode::invalid_input, 30},
    {Mode::sip_ua, "registrar 1 dns:x.com expirez 60", ResultCode::invalid_input, 22},
    {Mode::sip_ua, "registrar 1 dns:x.com expires 60 expires 70", ResultCode::invalid_input, 33},
    {Mode::sip_ua, "registrar 1 dns:x.com refresh-ratio 101", ResultCode::invalid_input, 36},
    {Mode::sip_ua, "registrar 1 ipv4:1.2.3 ", ResultCode::invalid_input, 12},
    {Mode::sip_ua, "registrar 1 ipv4:1.2.3.4:0", ResultCode::invalid_input, 12},
    {Mode::sip_ua, "registrar 1 ipv6:2001:db8::1", ResultCode::invalid_input, 12},
    {Mode::sip_ua, "registrar ipv4:1.2.3.4 scheme sips", ResultCode::invalid_input, 23},
    {Mode::sip_ua, "registrar 1", ResultCode::incomplete, 0},
    {Mode::sip_ua, "registrar 1 dns:x.com expires", ResultCode::incomplete, 0},
    {Mode::sip_ua, "authentication username U", ResultCode::incomplete, 0},
    {Mode::sip_ua, "authentication username U password", ResultCode::incomplete, 0},
    {Mode::sip_ua, "authentication username U password 7", ResultCode::incomplete, 0},
    {Mode::sip_ua, "authentication username U password P realm", ResultCode::incomplete, 0},
    {Mode::sip_ua, "authentication username U password 7 NOTHEX realm R", ResultCode::invalid_input, 37},
    {Mode::sip_ua, "credentials number 1111 username U password P", ResultCode::incomplete, 0},
    {Mode::sip_ua, "credentials number 11a1 username U password P realm R", ResultCode::invalid_input, 19},
    {Mode::sip_ua, "no credentials number 1111", ResultCode::incomplete, 0},  // R7
    {Mode::sip_ua, "no credentials number 1111 username U", ResultCode::incomplete, 0},
    {Mode::sip_ua, "retry register 11", ResultCode::invalid_input, 15},
    {Mode::sip_ua, "timers register 99", ResultCode::invalid_input, 16},
    {Mode::sip_ua, "registration rate 0", ResultCode::invalid_input, 18},
    {Mode::sip_ua, "shard 1024 of 1024", ResultCode::invalid_input, 6},
    {Mode::sip_ua, "shard 1 of 0", ResultCode::invalid_input, 11},
    {Mode::sip_ua, "shard 1", ResultCode::incomplete, 0},
    {Mode::sip_ua, "localhost 1.2.3.4", ResultCode::invalid_input, 10},
    {Mode::sip_ua, "e", ResultCode::ambiguous, 0},  // end, exit
    {Mode::sip_ua, "registrar 1 dns:x.com t", ResultCode::ok, 0},  // tcp, unique
    {Mode::sip_ua, "bogus", ResultCode::invalid_input, 0},
    {Mode::global_config, "s", ResultCode::ambiguous, 0},  // service, sip-ua
    {Mode::global_config, "hostname", ResultCode::incomplete, 0},
    {Mode::global_config, "hostname 1abc", ResultCode::invalid_input, 9},
    {Mode::global_config, "hostname a_b", ResultCode::invalid_input, 9},
    {Mode::global_config, "dial-peer voice 0 pots", ResultCode::invalid_input, 16},
    {Mode::global_config, "dial-peer voice 1 h323", ResultCode::invalid_input, 18},
    {Mode::global_config, "dial-peer voice 1", ResultCode::incomplete, 0},
    {Mode::global_config, "registrar 1 dns:x.com", ResultCode::invalid_input, 0},
    {Mode::global_config, "configure terminal", ResultCode::invalid_input, 0},  // not from config
    {Mode::privileged_exec, "sip-ua", ResultCode::invalid_input, 0},
    {Mode::user_exec, "configure terminal", ResultCode::invalid_input, 0},
    {Mode::dial_peer, "destination-pattern 408x", ResultCode::rejected, 0},  // validate_dial_pattern()
    {Mode::dial_peer, "voice-class sip localhost", ResultCode::incomplete, 0},
    // In a sub-mode, the error of the mode that got further is reported.
    {Mode::sip_ua, "hostname", ResultCode::incomplete, 0},
    {Mode::sip_ua, "dial-peer voice 1 pot x", ResultCode::invalid_input, 22},
};

TEST(GrammarErrors, CodesAndMarkers) {
  for (const ErrorCase& c : kErrors) {
    Harness h(c.mode);
    if (c.mode == Mode::dial_peer) {
      h.s.mode = Mode::global_config;
      h.setup({"dial-peer voice 1 pots"});
    }
    Config before = h.cfg;
    Session sbefore = h.s;
    Result r = h.run(c.line);
    EXPECT_EQ(r.code(), c.code) << c.line << "\n" << format_error(c.line, r);
    if (c.code == ResultCode::invalid_input) {
      EXPECT_EQ(r.marker, c.marker) << c.line;
    }
    if (c.code != ResultCode::ok) {
      EXPECT_EQ(h.cfg, before) << c.line;
      EXPECT_EQ(h.s.mode, sbefore.mode) << c.line;
    }
  }
}

TEST(GrammarErrors, IosWording) {
  Harness h = test::in_sip_ua();
  Result r = h.run("registrar 9 dns:x");
  EXPECT_EQ(format_error("registrar 9 dns:x", r),
            "registrar 9 dns:x\n"
            "          ^\n"
            "% Invalid input detected at '^' marker.");
  EXPECT_EQ(format_error("registrar 1", h.run("registrar 1")), "% Incomplete command.");
  EXPECT_EQ(format_error(" e ", h.run(" e ")), "% Ambiguous command:  \"e\"");
  EXPECT_EQ(format_error("e", h.run("e")), "% Ambiguous command:  \"e\"");
}

TEST(GrammarMisc, BlankAndCommentLinesAreNoOps) {
  Harness h = test::in_sip_ua();
  Config before = h.cfg;
  for (const char* l : {"", "   ", "!", " ! registrar 1 dns:x.com", "!comment"}) {
    EXPECT_TRUE(h.run(l).ok()) << l;
  }
  EXPECT_EQ(h.cfg, before);
  EXPECT_EQ(h.s.mode, Mode::sip_ua);
}

TEST(GrammarMisc, PasswordKeywordPrecedence) {
  // `password 7 P` reads 7 as the type; a password "7" must be written `password 0 7`.
  Harness h = test::in_sip_ua();
  h.setup({"authentication username U password 0 7 realm R"});
  EXPECT_EQ(h.cfg.sip_ua.authentication[0].password, "7");
}

TEST(GrammarMisc, Prompts) {
  Harness h(Mode::user_exec);
  EXPECT_EQ(prompt(h.cfg, h.s), "Router>");
  h.setup({"enable"});
  EXPECT_EQ(prompt(h.cfg, h.s), "Router#");
  h.setup({"configure terminal"});
  EXPECT_EQ(prompt(h.cfg, h.s), "Router(config)#");
  h.setup({"hostname gw", "sip-ua"});
  EXPECT_EQ(prompt(h.cfg, h.s), "gw(config-sip-ua)#");
  h.setup({"dial-peer voice 1 pots"});
  EXPECT_EQ(prompt(h.cfg, h.s), "gw(config-dial-peer)#");
}

TEST(GrammarHelp, ListsNextWordsAndCompletes) {
  Harness h = test::in_sip_ua();
  auto words = [&](std::string_view line) {
    std::vector<std::string> out;
    for (const auto& i : h.in.help(line, h.s)) out.push_back(i.word);
    return out;
  };
  EXPECT_EQ(words("reg"), (std::vector<std::string>{"registrar", "registration"}));
  EXPECT_EQ(words("registrar "), (std::vector<std::string>{"<1-6>", "dns:|ipv4:|ipv6:", "dhcp"}));
  EXPECT_EQ(words("registrar 1 dns:a.com expires 60 "),
            (std::vector<std::string>{"auth-realm", "options-keepalive", "refresh-ratio", "scheme", "tcp", "<cr>"}));
  EXPECT_EQ(words("no credentials number 1 "), (std::vector<std::string>{"realm", "username"}));
  EXPECT_TRUE(words("registrar 9 ").empty());
  for (const auto& i : h.in.help("", h.s)) EXPECT_FALSE(i.help.empty()) << i.word;
  EXPECT_EQ(h.in.complete("ret", h.s), "retry ");
  EXPECT_EQ(h.in.complete("retry reg", h.s), "retry register ");
  EXPECT_EQ(h.in.complete("e", h.s), "e");  // ambiguous: unchanged
}

}  // namespace
}  // namespace regfront::config
