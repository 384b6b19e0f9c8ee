// Exec commands: show (every one, abbreviated, from user and privileged exec and through `do`),
// output modifiers, write memory / copy, session end, mode moves, Result::changed, and that no
// error message carries a password. ExecHooks has one fake, FakeHooks, which records calls.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <tuple>
#include <vector>

#include "harness.h"

namespace regfront::config {
namespace {

using Show = ExecHooks::Show;

class FakeHooks : public ExecHooks {
 public:
  struct ShowCall {
    Show what;
    bool json;
    bool operator==(const ShowCall&) const = default;
  };
  std::vector<ShowCall> shows;
  std::vector<Config> writes;
  std::string text = "worker 0 endpoints 10\nregistrar 1 up\nregistrar 2 down\nregistrar 12 up\n";
  bool fail = false;
  std::string failure = "No space left on device";

  bool show(Show what, bool json, std::string& out) override {
    shows.push_back({what, json});
    if (fail) {
      out = failure;
      return false;
    }
    out = json ? "{\"json\":true}\n" : text;
    return true;
  }
  bool write_memory(const Config& cfg, std::string& message) override {
    writes.push_back(cfg);
    message = fail ? failure : "[OK]";
    return !fail;
  }
  int clears = 0;
  std::vector<Clear> cleared;
  bool clear(Clear what, std::string& message) override {
    cleared.push_back(what);
    ++clears;
    if (fail) message = failure;
    return !fail;
  }
  std::vector<std::tuple<int, std::string, bool>> filtered_shows;
  bool show_register_status(int registrar, std::string_view number, bool json, std::string& out) override {
    if (registrar == 0 && number.empty()) return ExecHooks::show_register_status(registrar, number, json, out);
    filtered_shows.emplace_back(registrar, std::string(number), json);
    out = "filtered\n";
    return true;
  }
  std::vector<std::pair<int, std::string>> reregisters;
  std::string reregister_message;  // what the daemon says it queued
  bool reregister(int registrar, std::string_view number, std::string& message) override {
    reregisters.emplace_back(registrar, std::string(number));
    message = fail ? "Registrar 3 is not configured" : reregister_message;
    return !fail;
  }
};

// A harness whose interpreter has the fake hooks.
struct ExecHarness {
  FakeHooks hooks;
  Config cfg;
  Interpreter in{cfg, &hooks};
  Session s;
  explicit ExecHarness(Mode m = Mode::privileged_exec) { s.mode = m; }
  Result run(std::string_view line) { return in.execute(line, s); }
  void enter(Mode m) {
    s.mode = Mode::privileged_exec;
    if (m == Mode::user_exec) s.mode = Mode::user_exec;
    if (m == Mode::global_config || m == Mode::sip_ua || m == Mode::dial_peer) run("conf t");
    if (m == Mode::sip_ua) run("sip-ua");
    if (m == Mode::dial_peer) run("dial-peer voice 1 pots");
    ASSERT_EQ(s.mode, m);
  }
};

constexpr Mode kAllModes[] = {Mode::user_exec, Mode::privileged_exec, Mode::global_config,
                              Mode::sip_ua, Mode::dial_peer};
bool is_config(Mode m) { return m != Mode::user_exec && m != Mode::privileged_exec; }

// ---- show: every command and abbreviation, in every mode where it exists --------------------

struct ShowCase {
  const char* line;  // as typed in exec mode; configuration modes get "do " in front
  Show what;
  bool json;
};

const ShowCase kShows[] = {
    {"show sip-ua register status", Show::register_status, false},
    {"sh sip-ua reg st", Show::register_status, false},
    {"sh sip reg stat", Show::register_status, false},
    {"show sip-ua status registrar", Show::registrar_status, false},
    {"sh sip-ua statu reg", Show::registrar_status, false},
    {"show sip-ua register registrars", Show::registrars, false},
    {"sh sip reg registrars", Show::registrars, false},
    {"show sip-ua register registrars | json", Show::registrars, true},
    {"show sip-ua statistics", Show::statistics, false},
    {"sh sip-ua stati", Show::statistics, false},
    {"show dataplane", Show::dataplane, false},
    {"sh d", Show::dataplane, false},
    {"show sip-ua register status | json", Show::register_status, true},
    {"sh sip-ua reg st | j", Show::register_status, true},
    {"show sip-ua status registrar | json", Show::registrar_status, true},
    {"show sip-ua statistics | json", Show::statistics, true},
    {"show dataplane | json", Show::dataplane, true},
    {"show sip-ua calls", Show::calls, false},
    {"sh sip-ua cal", Show::calls, false},
    {"show sip-ua calls | json", Show::calls, true},
    {"show logging", Show::logging, false},
    {"sh logg", Show::logging, false},
    {"show logging | json", Show::logging, true},
    {"sh logg | j", Show::logging, true},
};

TEST(ExecShow, EveryShowEveryModeCallsTheHook) {
  for (Mode m : kAllModes) {
    for (const ShowCase& c : kShows) {
      ExecHarness h;
      h.enter(m);
      std::string line = is_config(m) ? std::string("do ") + c.line : c.line;
      Result r = h.run(line);
      ASSERT_TRUE(r.ok()) << line << "\n" << format_error(line, r);
      ASSERT_EQ(h.hooks.shows.size(), 1u) << line;
      EXPECT_EQ(h.hooks.shows[0], (FakeHooks::ShowCall{c.what, c.json})) << line;
      EXPECT_EQ(r.output, c.json ? "{\"json\":true}\n" : h.hooks.text) << line;
      EXPECT_FALSE(r.changed) << line;
      EXPECT_EQ(h.s.mode, m) << line;  // `do` stays in its mode
    }
  }
}

// show running-config: IOS's header, then the configuration.
std::string running(const Config& cfg) {
  const std::string text = render_running_config(cfg);
  return "Building configuration...\n\nCurrent configuration : " + std::to_string(text.size()) + " bytes\n" + text;
}

TEST(ExecShow, Configurations) {
  ExecHarness h;
  h.enter(Mode::sip_ua);
  h.run("registrar 1 dns:a.example.com");
  for (const char* line : {"do show running-config", "do sh run", "do show run"}) {
    Result r = h.run(line);
    ASSERT_TRUE(r.ok()) << line;
    EXPECT_EQ(r.output, running(h.cfg)) << line;  // no hook involved
  }
  EXPECT_TRUE(h.hooks.shows.empty());
  for (const char* line : {"do show startup-config", "do sh start"}) {
    Result r = h.run(line);
    ASSERT_TRUE(r.ok()) << line;
    EXPECT_EQ(h.hooks.shows.back(), (FakeHooks::ShowCall{Show::startup_config, false}));
  }
  h.run("end");
  EXPECT_EQ(h.run("show running-config").output, running(h.cfg));
}

TEST(ExecShow, RunningConfigHeaderAsIosAndTheFileWithItLoads) {
  ExecHarness h;
  const std::string shown = h.run("show running-config").output;
  EXPECT_EQ(shown, "Building configuration...\n\nCurrent configuration : 24 bytes\n!\nhostname Router\n!\nend\n");
  EXPECT_EQ(h.run("show running-config | include configuration").output,
            "Building configuration...\nCurrent configuration : 24 bytes\n");
  EXPECT_EQ(h.run("show running-config | begin hostname").output, "hostname Router\n!\nend\n");
  // A copy of the output saved as a file loads; the header is accepted only at the top.
  Config back;
  EXPECT_TRUE(load_startup_config(shown, back).ok());
  EXPECT_FALSE(load_startup_config("!\nBuilding configuration...\n", back).ok());
  EXPECT_FALSE(load_startup_config("!\nhostname R\n!\nCurrent configuration : 5 bytes\n", back).ok());
  EXPECT_FALSE(load_startup_config("Current configuration : many bytes\n", back).ok());
}

// ---- show dial-peer voice summary: from the Config, no hook -------------------------------------

const char* const kDialPeers[] = {
    "dial-peer voice 30 voip",
    " description Inbound from the SBC core",
    " incoming called-number .",
    " session target ipv4:192.0.2.10:5080",
    "dial-peer voice 10 pots",
    " destination-pattern +14085550100",
    "dial-peer voice 20 voip",
    " destination-pattern [2-9]..[2-9]......",
    " session target registrar",
    " preference 2",
    " huntstop",
    "dial-peer voice 40 voip",
    " destination-pattern 1...",  // no session target: down
    "dial-peer voice 50 pots",    // no pattern: down
    "dial-peer voice 60 voip",
    " destination-pattern 2...",
    " session target dns:a-rather-long-name.sbc.example:5061",
    "end",
};

const char* const kSummary =
    "dial-peer hunt 0\n"
    "             AD                                    PRE PASS                OUT\n"
    "TAG    TYPE  MIN  OPER PREFIX    DEST-PATTERN      FER THRU SESS-TARGET    STAT PORT    KEEPALIVE\n"
    "10     pots  up   up             +14085550100      0\n"
    "20     voip  up   up             [2-9]..[2-9]...... 2        registrar\n"
    "30     voip  up   up                               0        ipv4:192.0.2.10:5080\n"
    "40     voip  up   down           1...              0\n"
    "50     pots  up   down                             0\n"
    "60     voip  up   up             2...              0        dns:a-rather-long-name.sbc.example:5061\n";

const char* const kSummaryJson =
    "{\"dial_peers\":["
    "{\"admin\":\"up\",\"description\":\"\",\"destination_pattern\":\"+14085550100\","
    "\"endpoint\":true,\"huntstop\":false,\"incoming_called_number\":\"\",\"oper\":\"up\","
    "\"preference\":0,\"session_target\":\"\",\"tag\":10,\"type\":\"pots\"},"
    "{\"admin\":\"up\",\"description\":\"\",\"destination_pattern\":\"[2-9]..[2-9]......\","
    "\"endpoint\":false,\"huntstop\":true,\"incoming_called_number\":\"\",\"oper\":\"up\","
    "\"preference\":2,\"session_target\":\"registrar\",\"tag\":20,\"type\":\"voip\"},"
    "{\"admin\":\"up\",\"description\":\"Inbound from the SBC core\",\"destination_pattern\":\"\","
    "\"endpoint\":false,\"huntstop\":false,\"incoming_called_number\":\".\",\"oper\":\"up\","
    "\"preference\":0,\"session_target\":\"ipv4:192.0.2.10:5080\",\"tag\":30,\"type\":\"voip\"},"
    "{\"admin\":\"up\",\"description\":\"\",\"destination_pattern\":\"1...\","
    "\"endpoint\":false,\"huntstop\":false,\"incoming_called_number\":\"\",\"oper\":\"down\","
    "\"preference\":0,\"session_target\":\"\",\"tag\":40,\"type\":\"voip\"},"
    "{\"admin\":\"up\",\"description\":\"\",\"destination_pattern\":\"\","
    "\"endpoint\":false,\"huntstop\":false,\"incoming_called_number\":\"\",\"oper\":\"down\","
    "\"preference\":0,\"session_target\":\"\",\"tag\":50,\"type\":\"pots\"},"
    "{\"admin\":\"up\",\"description\":\"\",\"destination_pattern\":\"2...\","
    "\"endpoint\":false,\"huntstop\":false,\"incoming_called_number\":\"\",\"oper\":\"up\","
    "\"preference\":0,\"session_target\":\"dns:a-rather-long-name.sbc.example:5061\",\"tag\":60,"
    "\"type\":\"voip\"}"
    "],\"hunt\":0}\n";

TEST(ExecShow, DialPeerSummary) {
  ExecHarness h;
  h.enter(Mode::global_config);
  for (const char* l : kDialPeers) ASSERT_TRUE(h.run(l).ok()) << l;
  ASSERT_EQ(h.s.mode, Mode::privileged_exec);
  const struct {
    Mode mode;
    const char* line;
    const char* output;
  } cases[] = {
      {Mode::privileged_exec, "show dial-peer voice summary", kSummary},
      {Mode::privileged_exec, "sh dial-p v s", kSummary},
      {Mode::global_config, "do show dial-peer voice summary", kSummary},
      {Mode::dial_peer, "do sh dial v sum", kSummary},
      {Mode::privileged_exec, "show dial-peer voice summary | json", kSummaryJson},
      {Mode::privileged_exec, "sh dial v s | j", kSummaryJson},
      {Mode::sip_ua, "do show dial-peer voice summary | json", kSummaryJson},
      {Mode::privileged_exec, "show dial-peer voice summary | include voip",
       "20     voip  up   up             [2-9]..[2-9]...... 2        registrar\n"
       "30     voip  up   up                               0        ipv4:192.0.2.10:5080\n"
       "40     voip  up   down           1...              0\n"
       "60     voip  up   up             2...              0        dns:a-rather-long-name.sbc.example:5061\n"},
      {Mode::privileged_exec, "show dial-peer voice summary | include ^[0-9]+ +pots",
       "10     pots  up   up             +14085550100      0\n"
       "50     pots  up   down                             0\n"},
      {Mode::privileged_exec, "show dial-peer voice summary | exclude (voip|pots)",
       "dial-peer hunt 0\n"
       "             AD                                    PRE PASS                OUT\n"
       "TAG    TYPE  MIN  OPER PREFIX    DEST-PATTERN      FER THRU SESS-TARGET    STAT PORT    KEEPALIVE\n"},
      {Mode::privileged_exec, "show dial-peer voice summary | i registrar",
       "20     voip  up   up             [2-9]..[2-9]...... 2        registrar\n"},
  };
  for (const auto& c : cases) {
    Config cfg = h.cfg;
    ExecHarness x;
    x.cfg = cfg;
    x.enter(c.mode);
    if (c.mode == Mode::dial_peer) x.cfg.dial_peers.erase(1);  // enter() made dial peer 1
    Config before = x.cfg;
    Result r = x.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_EQ(r.output, c.output) << c.line;
    EXPECT_TRUE(x.hooks.shows.empty()) << c.line;  // from the Config alone
    EXPECT_FALSE(r.changed) << c.line;
    EXPECT_EQ(x.cfg, before) << c.line;
    EXPECT_EQ(x.s.mode, c.mode) << c.line;
  }
  // Without hooks too, and an empty table.
  test::Harness bare(Mode::privileged_exec);
  Result r = bare.run("show dial-peer voice summary");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.output,
            "dial-peer hunt 0\n"
            "             AD                                    PRE PASS                OUT\n"
            "TAG    TYPE  MIN  OPER PREFIX    DEST-PATTERN      FER THRU SESS-TARGET    STAT PORT    KEEPALIVE\n");
  EXPECT_EQ(bare.run("show dial-peer voice summary | json").output,
            "{\"dial_peers\":[],\"hunt\":0}\n");
  // IOS: privileged EXEC only; and the command is whole.
  ExecHarness user(Mode::user_exec);
  EXPECT_EQ(user.run("show dial-peer voice summary").code(), ResultCode::invalid_input);
  EXPECT_EQ(h.run("show dial-peer voice").code(), ResultCode::incomplete);
  EXPECT_EQ(h.run("show dial-peer voice summary 5").code(), ResultCode::invalid_input);
}

// clear sip-ua statistics: privileged exec (and `do` from configuration), nothing printed.
TEST(ExecClear, SipUaStatistics) {
  ExecHarness h;
  Result r = h.run("clear sip-ua statistics");
  ASSERT_TRUE(r.ok()) << format_error("clear sip-ua statistics", r);
  EXPECT_EQ(r.output, "");
  EXPECT_EQ(h.hooks.clears, 1);
  EXPECT_TRUE(h.run("cle sip stat").ok());
  EXPECT_EQ(h.hooks.clears, 2);
  EXPECT_EQ(h.run("clear sip-ua").code(), ResultCode::incomplete);
  h.enter(Mode::sip_ua);
  EXPECT_TRUE(h.run("do clear sip-ua statistics").ok());
  EXPECT_EQ(h.hooks.clears, 3);
  EXPECT_EQ(h.run("clear sip-ua statistics").code(), ResultCode::invalid_input) << "an exec command";
  ExecHarness user(Mode::user_exec);
  EXPECT_EQ(user.run("clear sip-ua statistics").code(), ResultCode::invalid_input);
  EXPECT_EQ(user.hooks.clears, 0);
  ExecHarness failing;
  failing.hooks.fail = true;
  EXPECT_EQ(failing.run("clear sip-ua statistics").code(), ResultCode::rejected);
}

// clear logging: privileged exec and `do`, the logging buffer's hook; not from user exec.
TEST(ExecClear, Logging) {
  ExecHarness h;
  ASSERT_TRUE(h.run("clear logging").ok());
  ASSERT_TRUE(h.run("clear sip-ua statistics").ok());
  h.enter(Mode::global_config);
  ASSERT_TRUE(h.run("do clear logg").ok());
  EXPECT_EQ(h.hooks.cleared,
            (std::vector<ExecHooks::Clear>{ExecHooks::Clear::logging, ExecHooks::Clear::statistics,
                                           ExecHooks::Clear::logging}));
  ExecHarness user(Mode::user_exec);
  EXPECT_EQ(user.run("clear logging").code(), ResultCode::invalid_input);
  EXPECT_EQ(user.hooks.clears, 0);
}

// logging buffered [SIZE] [LEVEL] and its no form: the model, Result::changed, refusals that
// change nothing, and the running-config that loads back to the same Config.
TEST(ExecLogging, BufferedSizeLevelAndNoForm) {
  ExecHarness h;
  h.enter(Mode::global_config);
  EXPECT_EQ(h.cfg.logging, Logging{}) << "on, 4096 bytes, debugging";
  EXPECT_EQ(render_running_config(h.cfg).find("logging"), std::string::npos) << "the default is not shown";
  Result r = h.run("logging buffered 65536");
  ASSERT_TRUE(r.ok()) << format_error("logging buffered 65536", r);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(h.cfg.logging.buffered_bytes, 65536u);
  EXPECT_FALSE(h.run("logging buffered 65536").changed) << "the same value";
  ASSERT_TRUE(h.run("logg buff warn").ok());
  EXPECT_EQ(h.cfg.logging.buffered_bytes, 65536u) << "a level alone keeps the size";
  EXPECT_EQ(h.cfg.logging.buffered_level, 4);
  EXPECT_NE(render_running_config(h.cfg).find("\nlogging buffered 65536 warnings\n"), std::string::npos);
  {
    Config back;
    ASSERT_TRUE(load_startup_config(render_running_config(h.cfg), back).ok());
    EXPECT_EQ(back.logging, h.cfg.logging);
  }
  ASSERT_TRUE(h.run("logging buffered 8192 debugging").ok());
  EXPECT_EQ(h.cfg.logging, (Logging{true, 8192, 7}));
  EXPECT_NE(render_running_config(h.cfg).find("\nlogging buffered 8192\n"), std::string::npos)
      << "level default";
  const Config before = h.cfg;
  EXPECT_EQ(h.run("logging buffered 4095").code(), ResultCode::invalid_input) << "below IOS's minimum";
  EXPECT_EQ(h.run("logging buffered 16777217").code(), ResultCode::invalid_input) << "regfront's bound";
  EXPECT_EQ(h.run("logging buffered 8192 loud").code(), ResultCode::invalid_input);
  EXPECT_EQ(h.run("logging buffered warnings 8192").code(), ResultCode::invalid_input) << "size, then level";
  EXPECT_EQ(h.run("logging").code(), ResultCode::incomplete);
  EXPECT_EQ(h.cfg, before) << "refused lines change nothing";
  r = h.run("no logging buffered");
  EXPECT_TRUE(r.ok() && r.changed);
  EXPECT_FALSE(h.cfg.logging.buffered);
  EXPECT_NE(render_running_config(h.cfg).find("\nno logging buffered\n"), std::string::npos);
  {
    Config back;
    ASSERT_TRUE(load_startup_config(render_running_config(h.cfg), back).ok());
    EXPECT_EQ(back.logging, h.cfg.logging);
  }
  ASSERT_TRUE(h.run("logging buffered").ok());
  EXPECT_TRUE(h.cfg.logging.buffered);
  EXPECT_EQ(h.run("do show logging").code(), ResultCode::ok);
}

// debug ccsip messages|events [number N] [registrar R]: the session's filter, IOS's answers,
// show debugging, undebug all / no debug all; refusals change nothing; not from user exec.
TEST(ExecDebug, CcsipFilterPerSession) {
  ExecHarness h;
  Result r = h.run("debug ccsip messages number 4155550100");
  ASSERT_TRUE(r.ok()) << format_error("debug ccsip messages number 4155550100", r);
  EXPECT_EQ(r.output, "SIP Call messages tracing is enabled\n");
  EXPECT_FALSE(r.changed) << "the configuration is not touched";
  EXPECT_TRUE(h.s.debug.messages);
  EXPECT_FALSE(h.s.debug.events);
  EXPECT_EQ(h.s.debug.numbers, (std::vector<std::string>{"4155550100"}));
  ASSERT_TRUE(h.run("deb cc ev registrar 2 number 4155550101").ok());
  EXPECT_TRUE(h.s.debug.events);
  EXPECT_EQ(h.s.debug.numbers, (std::vector<std::string>{"4155550100", "4155550101"}));
  EXPECT_EQ(h.s.debug.registrar, 2);
  h.hooks.text = "  Trace: 3 records, 0 lost\n";  // the daemon's counters follow the session's lines
  EXPECT_EQ(h.run("show debugging").output,
            "CCSIP SPI:\n"
            "  SIP Call messages tracing is enabled  (filter is ON: number 4155550100 number 4155550101 "
            "registrar 2)\n"
            "  SIP Call events tracing is enabled  (filter is ON: number 4155550100 number 4155550101 "
            "registrar 2)\n"
            "  Trace: 3 records, 0 lost\n");
  // The JSON has the same filter, and the daemon's counters merged in.
  const nlohmann::json j = nlohmann::json::parse(h.run("show debugging | json").output);
  EXPECT_EQ(j["ccsip"]["messages"], true);
  EXPECT_EQ(j["ccsip"]["events"], true);
  EXPECT_EQ(j["ccsip"]["numbers"], nlohmann::json({"4155550100", "4155550101"}));
  EXPECT_EQ(j["ccsip"]["registrar"], 2);
  EXPECT_EQ(j["json"], true) << "the daemon's document (FakeHooks') is merged: " << j.dump();
  EXPECT_EQ(h.hooks.shows.back(), (FakeHooks::ShowCall{Show::debugging, true}));
  const Session::Debug before = h.s.debug;
  EXPECT_EQ(h.run("debug ccsip messages registrar 7").code(), ResultCode::invalid_input);
  EXPECT_EQ(h.run("debug ccsip messages number").code(), ResultCode::incomplete);
  EXPECT_EQ(h.run("debug ccsip messages number " + std::string(32, '1')).code(), ResultCode::rejected);
  EXPECT_EQ(h.s.debug, before);
  EXPECT_EQ(h.run("undebug ccsip messages").output, "SIP Call messages tracing is disabled\n");
  EXPECT_FALSE(h.s.debug.messages);
  EXPECT_TRUE(h.s.debug.events);
  EXPECT_EQ(h.run("undebug all").output, "All possible debugging has been turned off\n");
  EXPECT_FALSE(h.s.debug.on());
  EXPECT_EQ(h.run("show debugging").output, "");
  const nlohmann::json off = nlohmann::json::parse(h.run("show debugging | json").output);
  EXPECT_EQ(
      off["ccsip"],
      nlohmann::json(
          {{"messages", false}, {"events", false}, {"numbers", nlohmann::json::array()}, {"registrar", 0}}));
  ASSERT_TRUE(h.run("debug ccsip messages").ok());
  EXPECT_TRUE(h.s.debug.numbers.empty()) << "every number";
  ASSERT_TRUE(h.run("debug ccsip messages number 1").ok());
  EXPECT_TRUE(h.s.debug.numbers.empty()) << "every number already includes it";
  h.enter(Mode::global_config);
  ASSERT_TRUE(h.run("do no debug all").ok());
  EXPECT_FALSE(h.s.debug.on());
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(h.run("do debug ccsip events number " + std::to_string(100 + i)).ok());
  EXPECT_EQ(h.run("do debug ccsip events number 999").code(), ResultCode::rejected) << "8 numbers at most";
  EXPECT_EQ(h.s.debug.numbers.size(), 8u);
  ExecHarness user(Mode::user_exec);
  EXPECT_EQ(user.run("debug ccsip messages").code(), ResultCode::invalid_input);
  EXPECT_TRUE(user.run("show debugging").ok());
}

// show sip-ua register status [registrar N] [NUMBER]: IOS's filters, then the pipes.
TEST(ExecShow, RegisterStatusFilters) {
  ExecHarness h;
  using F = std::vector<std::tuple<int, std::string, bool>>;
  for (const char* line : {"show sip-ua register status registrar 2", "show sip-ua register status 4085550100",
                           "show sip-ua register status registrar 6 +4085550100 | json",
                           "sh sip reg stat reg 1 | include 1001"}) {
    const Result r = h.run(line);
    EXPECT_TRUE(r.ok()) << format_error(line, r);
  }
  EXPECT_EQ(h.hooks.filtered_shows, (F{{2, "", false}, {0, "4085550100", false}, {6, "+4085550100", true}, {1, "", false}}));
  EXPECT_EQ(h.run("show sip-ua register status").output, h.hooks.text) << "unfiltered: the plain show";
  for (const char* line : {"show sip-ua register status registrar 7", "show sip-ua register status 1001 registrar 1",
                           "show sip-ua register status abc"}) {
    EXPECT_EQ(h.run(line).code(), ResultCode::invalid_input) << line;
  }
  EXPECT_EQ(h.hooks.filtered_shows.size(), 4u);
}

// clear sip-ua registration [registrar N] [number NUMBER]: options in any order, each once.
TEST(ExecClear, SipUaRegistration) {
  ExecHarness h;
  using R = std::vector<std::pair<int, std::string>>;
  for (const char* line : {"clear sip-ua registration", "clear sip-ua registration registrar 2",
                           "clear sip-ua registration number 4085550100",
                           "clear sip-ua registration number +4085550100 registrar 6",
                           "cle sip registration reg 1 num 1001"}) {
    const Result r = h.run(line);
    EXPECT_TRUE(r.ok()) << format_error(line, r);
    EXPECT_EQ(r.output, "");
  }
  EXPECT_EQ(h.hooks.reregisters, (R{{0, ""}, {2, ""}, {0, "4085550100"}, {6, "+4085550100"}, {1, "1001"}}));
  for (const char* line : {"clear sip-ua registration registrar 7", "clear sip-ua registration number abc",
                           "clear sip-ua registration registrar 1 registrar 2", "clear sip-ua registration 1001"}) {
    EXPECT_EQ(h.run(line).code(), ResultCode::invalid_input) << line;
  }
  EXPECT_EQ(h.run("clear sip-ua registration number").code(), ResultCode::incomplete);
  EXPECT_EQ(h.hooks.reregisters.size(), 5u) << "a refused line calls nothing";
  // The daemon's count is printed, one line.
  h.hooks.reregister_message = "3 bindings queued to register again (registrar 2: 3)";
  EXPECT_EQ(h.run("clear sip-ua registration registrar 2").output,
            "3 bindings queued to register again (registrar 2: 3)\n");
  h.enter(Mode::sip_ua);
  EXPECT_TRUE(h.run("do clear sip-ua registration registrar 1").ok());
  ExecHarness user(Mode::user_exec);
  EXPECT_EQ(user.run("clear sip-ua registration").code(), ResultCode::invalid_input);
  EXPECT_TRUE(user.hooks.reregisters.empty());
  ExecHarness failing;
  failing.hooks.fail = true;
  const Result r = failing.run("clear sip-ua registration registrar 3");
  EXPECT_EQ(r.code(), ResultCode::rejected);
  EXPECT_NE(format_error("clear sip-ua registration registrar 3", r).find("% Registrar 3 is not configured"), std::string::npos)
      << format_error("clear sip-ua registration registrar 3", r);
}

// The JSON strings are escaped: a description may hold quotes and backslashes.
TEST(ExecShow, DialPeerSummaryJsonEscapes) {
  test::Harness h;
  h.setup({"dial-peer voice 1 voip", "description say \"hi\" \\ bye", "end"});
  Result r = h.run("show dial-peer voice summary | json");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.output.find("\"description\":\"say \\\"hi\\\" \\\\ bye\""), std::string::npos)
      << r.output;
}

// ---- output modifiers -------------------------------------------------------------------------

struct FilterCase {
  const char* line;
  const char* output;
};

const FilterCase kFilters[] = {
    {"show dataplane | include registrar", "registrar 1 up\nregistrar 2 down\nregistrar 12 up\n"},
    {"show dataplane | include up", "registrar 1 up\nregistrar 12 up\n"},
    {"show dataplane | inc registrar [0-9]+ up$", "registrar 1 up\nregistrar 12 up\n"},
    {"show dataplane | i ^worker", "worker 0 endpoints 10\n"},
    {"show dataplane | i nothing-matches", ""},
    {"show dataplane | include (down|endpoints)", "worker 0 endpoints 10\nregistrar 2 down\n"},
    {"show dataplane | exclude registrar", "worker 0 endpoints 10\n"},
    {"show dataplane | e up", "worker 0 endpoints 10\nregistrar 2 down\n"},
    {"sh sip-ua reg st | include registrar 1\\b", "registrar 1 up\n"},
    {"show running-config | include ^hostname", "hostname Router\n"},
    {"sh run | i registrar 1 dns", " registrar 1 dns:a.example.com\n"},
};

// IOS's other modifiers, on a saved running-config's shape.
TEST(ExecShow, BeginSectionAndCount) {
  ExecHarness h;
  h.enter(Mode::sip_ua);
  h.run("registrar 1 dns:a.example.com");
  h.run("registrar 2 dns:b.example.com");
  h.run("end");
  const std::string run = h.run("show running-config").output;
  ASSERT_NE(run.find("sip-ua\n registrar 1 dns:a.example.com"), std::string::npos) << run;
  // | begin: from the first match to the end.
  const std::string from = h.run("show running-config | begin ^sip-ua").output;
  EXPECT_EQ(from, run.substr(run.find("sip-ua\n")));
  // | section: the header that matches and everything indented under it.
  const std::string sec = h.run("show running-config | section sip-ua").output;
  EXPECT_EQ(sec.rfind("sip-ua\n registrar 1 dns:a.example.com\n registrar 2 dns:b.example.com\n", 0), 0u) << sec;
  for (std::size_t p = 0; (p = sec.find('\n', p)) != std::string::npos && p + 1 < sec.size(); ++p) {
    EXPECT_EQ(sec[p + 1], ' ') << "one section only:\n" << sec;
  }
  // An indented line that matches: its section's header, then the line.
  EXPECT_EQ(h.run("show running-config | section registrar 2").output, "sip-ua\n registrar 2 dns:b.example.com\n");
  EXPECT_EQ(h.run("show running-config | sec nothing-matches").output, "");
  // | count
  EXPECT_EQ(h.run("show running-config | count registrar").output, "Number of lines which match regexp = 2\n");
  EXPECT_EQ(h.run("show running-config | count zzz").output, "Number of lines which match regexp = 0\n");
  EXPECT_EQ(h.run("show dataplane | count up$").output, "Number of lines which match regexp = 2\n");
  EXPECT_EQ(h.run("show running-config | begin (").code(), ResultCode::rejected);
}

TEST(ExecShow, IncludeAndExclude) {
  for (const FilterCase& c : kFilters) {
    ExecHarness h;
    h.enter(Mode::sip_ua);
    h.run("registrar 1 dns:a.example.com");
    h.run("end");
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    EXPECT_EQ(r.output, c.output) << c.line;
    for (const auto& call : h.hooks.shows) EXPECT_FALSE(call.json) << c.line;
  }
}

// ---- errors -------------------------------------------------------------------------------------

struct ExecError {
  Mode mode;
  const char* line;
  ResultCode code;
  std::size_t marker;  // for invalid_input
  const char* message;  // for rejected: as the operator sees it (format_error())
};

const ExecError kErrors[] = {
    // Not in user exec (IOS: the commands do not exist there).
    {Mode::user_exec, "write memory", ResultCode::invalid_input, 0, ""},
    {Mode::user_exec, "write", ResultCode::invalid_input, 0, ""},
    {Mode::user_exec, "copy running-config startup-config", ResultCode::invalid_input, 0, ""},
    {Mode::user_exec, "configure terminal", ResultCode::invalid_input, 0, ""},
    {Mode::user_exec, "disable", ResultCode::invalid_input, 0, ""},
    {Mode::user_exec, "show running-config", ResultCode::invalid_input, 5, ""},
    {Mode::user_exec, "show startup-config", ResultCode::invalid_input, 5, ""},
    // `| json` only where a JSON document exists.
    {Mode::privileged_exec, "show running-config | json", ResultCode::invalid_input, 22, ""},
    {Mode::privileged_exec, "show startup-config | json", ResultCode::invalid_input, 22, ""},
    {Mode::privileged_exec, "show dataplane | json | include x", ResultCode::invalid_input, 22, ""},
    {Mode::privileged_exec, "show dataplane | append x", ResultCode::invalid_input, 17, ""},
    {Mode::privileged_exec, "show dataplane |", ResultCode::incomplete, 0, ""},
    {Mode::privileged_exec, "show dataplane | include", ResultCode::incomplete, 0, ""},
    {Mode::privileged_exec, "show dataplane | include (", ResultCode::rejected, 0,
     "% Invalid regular expression."},
    {Mode::privileged_exec, "sh run | i [a-", ResultCode::rejected, 0, "% Invalid regular expression."},
    {Mode::privileged_exec, "show", ResultCode::incomplete, 0, ""},
    {Mode::privileged_exec, "show sip-ua", ResultCode::incomplete, 0, ""},
    {Mode::privileged_exec, "sh sip-ua stat", ResultCode::ambiguous, 0, ""},  // status, statistics
    {Mode::privileged_exec, "show sip-ua register", ResultCode::incomplete, 0, ""},
    {Mode::privileged_exec, "show bogus", ResultCode::invalid_input, 5, ""},
    {Mode::privileged_exec, "write memory now", ResultCode::invalid_input, 13, ""},
    {Mode::privileged_exec, "copy running-config flash:x", ResultCode::invalid_input, 20, ""},
    {Mode::privileged_exec, "copy startup-config running-config", ResultCode::invalid_input, 5, ""},
    {Mode::privileged_exec, "do show dataplane", ResultCode::invalid_input, 0, ""},
    {Mode::privileged_exec, "end", ResultCode::invalid_input, 0, ""},
    // Configuration modes: exec commands only through `do`, and only the exec commands.
    {Mode::global_config, "show dataplane", ResultCode::invalid_input, 0, ""},
    {Mode::sip_ua, "write memory", ResultCode::invalid_input, 0, ""},
    {Mode::global_config, "do", ResultCode::incomplete, 0, ""},
    {Mode::sip_ua, "do configure terminal", ResultCode::invalid_input, 3, ""},
    {Mode::dial_peer, "do disable", ResultCode::invalid_input, 3, ""},
    {Mode::dial_peer, "do exit", ResultCode::invalid_input, 3, ""},
    {Mode::global_config, "do do show dataplane", ResultCode::invalid_input, 3, ""},
    {Mode::sip_ua, "do sh run | json", ResultCode::invalid_input, 12, ""},
    {Mode::sip_ua, "shard 3 of 3", ResultCode::rejected, 0, "% Shard 3 does not exist: 3 shards are numbered 0 to 2"},
};

TEST(ExecErrors, CodesMarkersAndMessages) {
  for (const ExecError& c : kErrors) {
    ExecHarness h;
    h.enter(c.mode);
    Config before = h.cfg;
    Result r = h.run(c.line);
    EXPECT_EQ(r.code(), c.code) << c.line << "\n" << format_error(c.line, r);
    if (c.code == ResultCode::invalid_input) {
      EXPECT_EQ(r.marker, c.marker) << c.line;
    }
    if (c.code == ResultCode::rejected) {
      EXPECT_EQ(format_error(c.line, r), c.message) << c.line;
    }
    EXPECT_TRUE(h.hooks.shows.empty()) << c.line;  // a bad line never reaches the daemon
    EXPECT_TRUE(h.hooks.writes.empty()) << c.line;
    EXPECT_EQ(h.cfg, before) << c.line;
    EXPECT_EQ(h.s.mode, c.mode) << c.line;
    EXPECT_FALSE(r.changed) << c.line;
    EXPECT_FALSE(r.end_session) << c.line;
  }
}

TEST(ExecErrors, WithoutHooksTheDaemonCommandsAreNotAvailable) {
  test::Harness h(Mode::privileged_exec);  // Interpreter without hooks
  for (const char* line : {"show sip-ua register status", "show sip-ua status registrar",
                           "show sip-ua register registrars", "show sip-ua statistics", "show dataplane | json",
                           "show startup-config", "write memory", "write",
                           "copy running-config startup-config"}) {
    Result r = h.run(line);
    EXPECT_EQ(r.code(), ResultCode::rejected) << line;
    EXPECT_EQ(r.status.code(), StatusCode::failed_precondition) << line;
    EXPECT_EQ(format_error(line, r), "% Command not available") << line;
  }
  EXPECT_TRUE(h.run("show running-config").ok());
}

TEST(ExecErrors, HookFailuresBecomeIosMessages) {
  ExecHarness h;
  h.hooks.fail = true;
  Result r = h.run("show dataplane");
  EXPECT_EQ(r.code(), ResultCode::rejected);
  EXPECT_EQ(r.status.message(), "No space left on device");
  EXPECT_EQ(format_error("show dataplane", r), "% No space left on device");
  r = h.run("write memory");
  EXPECT_EQ(r.code(), ResultCode::rejected);
  EXPECT_EQ(format_error("write memory", r), "% No space left on device");
  EXPECT_TRUE(r.output.empty());
  // The daemon's own "% " is not doubled; its newline is dropped.
  h.hooks.failure = "% Startup-config is being written by another session\n";
  r = h.run("wr");
  EXPECT_EQ(r.status.message(), "Startup-config is being written by another session");
  EXPECT_EQ(format_error("wr", r), "% Startup-config is being written by another session");
  h.hooks.failure = "";
  EXPECT_EQ(format_error("copy run start", h.run("copy run start")),
            "% Failed to save the configuration");
}

// ---- write memory and copy --------------------------------------------------------------------

TEST(ExecWrite, EveryFormSavesTheRunningConfig) {
  const struct {
    Mode mode;
    const char* line;
  } cases[] = {
      {Mode::privileged_exec, "write memory"},
      {Mode::privileged_exec, "write"},
      {Mode::privileged_exec, "wr"},
      {Mode::privileged_exec, "wr mem"},
      {Mode::privileged_exec, "copy running-config startup-config"},
      {Mode::privileged_exec, "copy run start"},
      {Mode::global_config, "do write memory"},
      {Mode::sip_ua, "do wr"},
      {Mode::dial_peer, "do copy run start"},
  };
  for (const auto& c : cases) {
    ExecHarness h;
    h.enter(c.mode);
    h.cfg.hostname = "saved";
    Result r = h.run(c.line);
    ASSERT_TRUE(r.ok()) << c.line << "\n" << format_error(c.line, r);
    ASSERT_EQ(h.hooks.writes.size(), 1u) << c.line;
    EXPECT_EQ(h.hooks.writes[0], h.cfg) << c.line;
    EXPECT_EQ(r.output, "Building configuration...\n[OK]\n") << c.line;
    EXPECT_FALSE(r.changed) << c.line;
    EXPECT_EQ(h.s.mode, c.mode) << c.line;
  }
}

// ---- modes and session end --------------------------------------------------------------------

TEST(ExecModes, EnableDisableConfigureEndExit) {
  ExecHarness h(Mode::user_exec);
  struct Step {
    const char* line;
    Mode after;
    bool end_session;
  };
  const Step steps[] = {
      {"enable", Mode::privileged_exec, false},
      {"enable", Mode::privileged_exec, false},
      {"configure terminal", Mode::global_config, false},
      {"sip-ua", Mode::sip_ua, false},
      {"end", Mode::privileged_exec, false},  // also what the CLI sends for Ctrl-Z
      {"conf t", Mode::global_config, false},
      {"dial-peer voice 5 pots", Mode::dial_peer, false},
      {"end", Mode::privileged_exec, false},
      {"configure", Mode::global_config, false},
      {"exit", Mode::privileged_exec, false},
      {"disable", Mode::user_exec, false},
      {"en", Mode::privileged_exec, false},
      {"dis", Mode::user_exec, false},
  };
  for (const Step& st : steps) {
    Result r = h.run(st.line);
    ASSERT_TRUE(r.ok()) << st.line;
    EXPECT_EQ(h.s.mode, st.after) << st.line;
    EXPECT_EQ(r.end_session, st.end_session) << st.line;
  }
}

TEST(ExecModes, ExitFromExecEndsTheSession) {
  for (Mode m : {Mode::user_exec, Mode::privileged_exec}) {
    for (const char* line : {"exit", "ex", "logout", "lo"}) {
      ExecHarness h(m);
      Result r = h.run(line);
      ASSERT_TRUE(r.ok()) << line;
      EXPECT_TRUE(r.end_session) << line;
      EXPECT_FALSE(r.changed) << line;
    }
  }
  for (Mode m : {Mode::global_config, Mode::sip_ua, Mode::dial_peer}) {
    ExecHarness h;
    h.enter(m);
    Result r = h.run("exit");
    EXPECT_FALSE(r.end_session);
    EXPECT_EQ(h.s.mode, m == Mode::global_config ? Mode::privileged_exec : Mode::global_config);
  }
  // A startup-config's `exit` lines never end anything.
  Config cfg;
  EXPECT_TRUE(load_startup_config("exit\nexit\nhostname h\n", cfg).ok());
  EXPECT_EQ(cfg.hostname, "h");
}

// ---- Result::changed ----------------------------------------------------------------------------

struct ChangeCase {
  std::vector<const char*> setup;  // from global configuration
  const char* line;
  bool changed;
};

const ChangeCase kChanges[] = {
    {{}, "hostname gw", true},
    {{}, "hostname Router", false},
    {{"hostname gw"}, "no hostname", true},
    {{}, "no hostname", false},
    {{}, "service password-encryption", true},
    {{"service password-encryption"}, "service password-encryption", false},
    {{}, "no service password-encryption", false},
    {{}, "sip-ua", true},
    {{"sip-ua", "exit"}, "sip-ua", false},
    {{}, "no sip-ua", false},
    {{"sip-ua", "exit"}, "no sip-ua", true},
    {{}, "dial-peer voice 1 pots", true},
    {{"dial-peer voice 1 pots", "exit"}, "dial-peer voice 1 pots", false},
    {{}, "no dial-peer voice 1", false},
    {{"dial-peer voice 1 pots", "exit"}, "no dial-peer voice 1", true},
    {{"sip-ua"}, "registrar 1 dns:a.com", true},
    {{"sip-ua", "registrar 1 dns:a.com"}, "registrar 1 dns:a.com", false},
    {{"sip-ua", "registrar 1 dns:a.com"}, "registrar 1 dns:a.com expires 60", true},
    {{"sip-ua"}, "no registrar 1", false},
    {{"sip-ua", "registrar 1 dns:a.com"}, "no registrar 1", true},
    {{"sip-ua", "registrar dns:a.com"}, "no registrar 1", false},  // legacy entry: not this one
    {{"sip-ua"}, "authentication username U password P realm R", true},
    {{"sip-ua", "auth user U pass P realm R"}, "authentication username U password P realm R", false},
    {{"sip-ua", "auth user U pass P realm R"}, "authentication username U password Q realm R", true},
    {{"sip-ua", "auth user U pass P realm R"}, "authentication username U password 7 0822455D0A16 realm R", true},
    {{"sip-ua"}, "no authentication username U realm R", false},
    {{"sip-ua", "auth user U pass P realm R"}, "no authentication username U realm R", true},
    {{"sip-ua"}, "credentials number 1 username U password P realm R", true},
    {{"sip-ua", "cred num 1 user U pass P realm R"}, "credentials number 1 username U password P realm R", false},
    {{"sip-ua", "cred num 1 user U pass P realm R"}, "credentials number 1 username V password P realm R", true},
    {{"sip-ua"}, "no credentials number 1 realm R", false},
    {{"sip-ua", "cred num 1 user U pass P realm R"}, "no credentials number 1 realm R", true},
    {{"sip-ua"}, "credentials dhcp password P realm R", true},
    {{"sip-ua", "credentials dhcp password P realm R"}, "credentials dhcp password P realm R", false},
    {{"sip-ua"}, "no credentials dhcp", false},
    {{"sip-ua"}, "localhost dns:a.com", true},
    {{"sip-ua", "localhost dns:a.com"}, "localhost dns:a.com", false},
    {{"sip-ua", "localhost dns:a.com"}, "localhost dns:a.com preferred", true},
    {{"sip-ua"}, "no localhost", false},
    {{"sip-ua"}, "retry register 6", false},  // the default
    {{"sip-ua"}, "retry register 3", true},
    {{"sip-ua"}, "no retry register", false},
    {{"sip-ua"}, "timers register 500", false},
    {{"sip-ua"}, "timers register 501", true},
    {{"sip-ua"}, "registration rate 500", false},
    {{"sip-ua"}, "registration rate 5", true},
    {{"dial-peer voice 1 pots"}, "destination-pattern 1234", true},
    {{"dial-peer voice 1 pots", "destination-pattern 1234"}, "destination-pattern 1234", false},
    {{"dial-peer voice 1 pots"}, "no destination-pattern", false},
    {{"dial-peer voice 1 pots"}, "authentication username U password P", true},
    {{"dial-peer voice 1 pots"}, "voice-class sip localhost dns:a.com", true},
    {{"dial-peer voice 1 pots"}, "no voice-class sip localhost", false},
    // Refused commands and exec commands change nothing.
    {{"sip-ua", "registrar dns:a.com"}, "registrar 1 dns:b.com", false},  // R1
    {{"sip-ua"}, "registrar 9 dns:b.com", false},
    {{}, "end", false},
    {{}, "do show running-config", false},
};

TEST(ExecChanged, OnlyWhenTheConfigChanges) {
  for (const ChangeCase& c : kChanges) {
    ExecHarness h;
    h.enter(Mode::global_config);
    for (const char* l : c.setup) ASSERT_TRUE(h.run(l).ok()) << l;
    Config before = h.cfg;
    Result r = h.run(c.line);
    EXPECT_EQ(r.changed, c.changed) << c.line;
    EXPECT_EQ(r.changed, !(h.cfg == before)) << c.line;
  }
}

// ---- help -----------------------------------------------------------------------------------------

TEST(ExecHelp, ShowsAndModifiers) {
  ExecHarness h(Mode::user_exec);
  auto words = [&](std::string_view line) {
    std::vector<std::string> out;
    for (const auto& i : h.in.help(line, h.s)) out.push_back(i.word);
    return out;
  };
  EXPECT_EQ(words("show "), (std::vector<std::string>{"clock", "control", "dataplane", "debugging", "history",
                                                     "logging", "sip-ua", "terminal", "users", "version"}));
  h.s.mode = Mode::privileged_exec;
  EXPECT_EQ(words("show "), (std::vector<std::string>{"clock", "control", "dataplane", "debugging", "dial-peer",
                                                     "history", "logging", "running-config", "sip-ua",
                                                     "startup-config", "terminal", "users", "version"}));
  EXPECT_EQ(words("show dial-peer "), (std::vector<std::string>{"voice"}));
  EXPECT_EQ(words("show dial-peer voice "), (std::vector<std::string>{"summary"}));
  EXPECT_EQ(words("show dial-peer voice summary | "),
            (std::vector<std::string>{"begin", "count", "exclude", "include", "json", "section"}));
  EXPECT_EQ(h.in.complete("show dial", h.s), "show dial-peer ");
  EXPECT_EQ(h.in.complete("show dial-peer voice su", h.s), "show dial-peer voice summary ");
  EXPECT_EQ(h.in.complete("sh d", h.s), "sh d");  // dataplane, dial-peer: no single completion
  EXPECT_EQ(words("show dataplane "), (std::vector<std::string>{"|", "<cr>"}));
  EXPECT_EQ(words("show dataplane | "),
            (std::vector<std::string>{"begin", "count", "exclude", "include", "json", "section"}));
  EXPECT_EQ(words("show running-config | "),
            (std::vector<std::string>{"begin", "count", "exclude", "include", "section"}));
  EXPECT_EQ(words("show dataplane | include "), (std::vector<std::string>{"LINE"}));
  EXPECT_EQ(h.in.complete("sh sip-ua reg", h.s), "sh sip-ua register ");
  EXPECT_EQ(h.in.complete("copy run", h.s), "copy running-config ");
  h.s.mode = Mode::sip_ua;
  EXPECT_EQ(words("do "),
            (std::vector<std::string>{"clear", "copy", "debug", "no", "show", "terminal", "undebug", "write"}));
  EXPECT_EQ(words("do sh sip-ua "),
            (std::vector<std::string>{"calls", "register", "retry", "statistics", "status", "timers"}));
}

// ---- passwords never in messages ------------------------------------------------------------------

TEST(ExecPasswords, RefusedCommandsDoNotRepeatThePassword) {
  // Every error form, each with the password "S3cretPw" in the line. Result::status never
  // has it; format_error() repeats the line above the marker as IOS does on the operator's
  // own terminal, and nothing else.
  ExecHarness h;
  h.enter(Mode::sip_ua);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(h.run("authentication username U password P realm R" + std::to_string(i)).ok());
  }
  h.run("registrar 1 dns:a.com");
  const char* lines[] = {
      "authentication username U password S3cretPw realm R12",                // R5: rejected
      "credentials dhcp password S3cretPw realm R",                            // R2: rejected
      "authentication username U password S3cretPw realm R bogus",           // invalid input
      "authentication username U password 7 S3cretPw realm R",               // bad type 7
      "credentials number 1 username U password S3cretPw",                     // incomplete
      "credentials number 1 username U password S3cretPw realm",               // incomplete
      "authentication username U pass S3cretPw e",                             // invalid input
  };
  for (const char* line : lines) {
    Result r = h.run(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.status.message().find("S3cretPw"), std::string::npos) << line << "\n"
                                                                        << r.status.message();
    std::string shown = format_error(line, r);
    if (r.code() == ResultCode::invalid_input) {
      EXPECT_EQ(shown.substr(0, std::string_view(line).size()), line);  // IOS echo
      EXPECT_EQ(shown.substr(std::string_view(line).size()).find("S3cretPw"), std::string::npos);
    } else {
      EXPECT_EQ(shown.find("S3cretPw"), std::string::npos) << line;
    }
  }
  // Loader errors go to logs: the line is redacted and the marker still points at its word.
  Config cfg;
  LoadResult lr = load_startup_config(
      "sip-ua\n"
      " credentials number 1 username U password 0 S3cretPw realm R extra\n"
      " authentication username U password S3cretPw realm\n"
      " authentication username U password 7 S3cretPw\n"
      " authentication username U password 9 S3cretPw realm R\n",
      cfg);
  ASSERT_EQ(lr.errors.size(), 4u);
  for (const auto& e : lr.errors) {
    EXPECT_EQ(e.format().find("S3cretPw"), std::string::npos) << e.format();
    EXPECT_NE(e.text.find("*****"), std::string::npos) << e.text;
  }
  EXPECT_EQ(lr.errors[0].format(),
            "2: % Invalid input detected at '^' marker.\n"
            "   credentials number 1 username U password 0 ***** realm R extra\n"
            "                                                            ^");
}

TEST(ExecPasswords, Redaction) {
  const struct {
    const char* in;
    const char* out;
    long column, moved;
  } cases[] = {
      {"authentication username U password P realm R", "authentication username U password ***** realm R", 44, 48},
      {"auth user U pass 0 LongPassword123 re R x", "auth user U pass 0 ***** re R x", 40, 30},
      {"auth user U p 7 0822455D0A16", "auth user U p 7 *****", 16, 16},
      {"auth user U password 7", "auth user U password *****", 21, 21},
      {"auth user U password 0 7", "auth user U password 0 *****", -1, -1},
      // A username that abbreviates `password` hides the keyword; the password is still hidden.
      {"credentials number 1 username password password pw realm R",
       "credentials number 1 username password ***** ***** realm R", 51, 51},
      {"auth user pa password secret", "auth user pa ***** *****", 27, 19},
      {"no password here", "no password *****", 3, 3},
      {"hostname x", "hostname x", 9, 9},
      // IOS types regfront does not take (5, 8, 9: hashes): the hash is not the type.
      {"auth user U password 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkO realm R",
       "auth user U password 9 ***** realm R", 23, 23},
      {"auth user U password 8 $8$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc realm R",
       "auth user U password 8 ***** realm R", 23, 23},
      {"auth user U password 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "auth user U password 5 *****", 23, 23},
  };
  for (const auto& c : cases) {
    long col = c.column;
    EXPECT_EQ(redact_passwords(c.in, &col), c.out) << c.in;
    EXPECT_EQ(col, c.moved) << c.in;
  }
}

}  // namespace
}  // namespace regfront::config
