// The operator's own exec commands: terminal length|width|history size (and their `no` forms),
// show terminal, show history (kept per session, masked passwords, bounded), show clock's
// format, and show version / show users through ExecHooks::info.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.h"

namespace regfront::config {
namespace {

class InfoHooks : public ExecHooks {
 public:
  std::vector<Info> asked;
  std::vector<bool> asked_json;
  std::uint32_t self_line = 99;
  bool show(Show, bool, std::string& out) override {
    out = "x\n";
    return true;
  }
  bool write_memory(const Config&, std::string& m) override {
    m = "[OK]";
    return true;
  }
  bool info(Info what, const Session& self, bool json, std::string& out) override {
    asked.push_back(what);
    asked_json.push_back(json);
    self_line = self.line;
    if (json) {
      out = what == Info::version ? "{\"version\":\"9\"}\n" : "{\"users\":[]}\n";
      return true;
    }
    out = what == Info::version ? "regfront Software, Version 9\nRouter uptime is 1 minute\n" : "users\n";
    return true;
  }
};

struct Term {
  InfoHooks hooks;
  Config cfg;
  Interpreter in{cfg, &hooks};
  Session s;
  explicit Term(Mode m = Mode::user_exec) { s.mode = m; }
  Result run(std::string_view line) { return in.execute(line, s); }
};

TEST(Terminal, DefaultsAreIosVty) {
  Session s;
  EXPECT_EQ(s.terminal_length, 24);
  EXPECT_EQ(s.terminal_width, 80);
  EXPECT_EQ(s.history_size, 10);
}

TEST(Terminal, LengthAndWidthFromUserAndPrivilegedExecAndDo) {
  for (Mode m : {Mode::user_exec, Mode::privileged_exec}) {
    Term t(m);
    ASSERT_TRUE(t.run("terminal length 0").ok());
    EXPECT_EQ(t.s.terminal_length, 0);
    ASSERT_TRUE(t.run("term len 512").ok());
    EXPECT_EQ(t.s.terminal_length, 512);
    ASSERT_TRUE(t.run("terminal width 132").ok());
    EXPECT_EQ(t.s.terminal_width, 132);
    ASSERT_TRUE(t.run("terminal no length").ok());
    ASSERT_TRUE(t.run("terminal no width").ok());
    EXPECT_EQ(t.s.terminal_length, 24);
    EXPECT_EQ(t.s.terminal_width, 80);
    EXPECT_EQ(t.s.mode, m);
  }
  Term t(Mode::privileged_exec);
  ASSERT_TRUE(t.run("configure terminal").ok());
  ASSERT_TRUE(t.run("do terminal length 40").ok());
  EXPECT_EQ(t.s.terminal_length, 40);
  EXPECT_EQ(t.s.mode, Mode::global_config);
}

TEST(Terminal, BadValuesAreRefusedAndChangeNothing) {
  Term t;
  ASSERT_TRUE(t.run("terminal length 30").ok());
  for (const char* bad : {"terminal length 513", "terminal length", "terminal length x", "terminal width 513",
                          "terminal history size 257", "terminal no length 5"}) {
    const Result r = t.run(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(t.s.terminal_length, 30) << bad;
    EXPECT_EQ(t.s.terminal_width, 80) << bad;
    EXPECT_EQ(t.s.history_size, 10) << bad;
  }
  EXPECT_EQ(t.run("terminal length 513").code(), ResultCode::invalid_input);
  EXPECT_EQ(t.run("terminal length").code(), ResultCode::incomplete);
}

TEST(Terminal, ShowTerminal) {
  Term t;
  ASSERT_TRUE(t.run("terminal length 0").ok());
  Result r = t.run("show terminal");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(
      r.output,
      "Length: 0 lines, Width: 80 columns\nHistory is enabled, history size is 10.\nCapabilities: none\n");
  ASSERT_TRUE(t.run("terminal history size 0").ok());
  r = t.run("show terminal | include History");
  EXPECT_EQ(r.output, "History is disabled.\n");
}

// show terminal | json: the facts of the text, which is parsed back here.
TEST(Terminal, ShowTerminalJsonHasTheTextsFacts) {
  Term t(Mode::privileged_exec);
  for (const char* l :
       {"terminal length 37", "terminal width 132", "terminal history size 4", "terminal monitor"}) {
    ASSERT_TRUE(t.run(l).ok()) << l;
  }
  const std::string text = t.run("show terminal").output;
  const nlohmann::json j = nlohmann::json::parse(t.run("show terminal | json").output);
  unsigned length = 0, width = 0, size = 0;
  ASSERT_EQ(std::sscanf(text.c_str(),
                        "Length: %u lines, Width: %u columns\nHistory is enabled, history size is %u.",
                        &length, &width, &size),
            3)
      << text;
  EXPECT_EQ(j["length"], length);
  EXPECT_EQ(j["width"], width);
  EXPECT_EQ(j["history_size"], size);
  EXPECT_EQ(j["history_enabled"], true);
  EXPECT_EQ(j["monitor"], text.find("Capabilities: Receives Logging Output\n") != std::string::npos);
  EXPECT_EQ(j, nlohmann::json({{"length", 37},
                               {"width", 132},
                               {"history_enabled", true},
                               {"history_size", 4},
                               {"monitor", true}}));
  ASSERT_TRUE(t.run("terminal history size 0").ok());
  ASSERT_TRUE(t.run("terminal no monitor").ok());
  const nlohmann::json off = nlohmann::json::parse(t.run("show terminal | json").output);
  EXPECT_EQ(off["history_enabled"], false);
  EXPECT_EQ(off["monitor"], false);
  EXPECT_NE(t.run("show terminal").output.find("History is disabled.\nCapabilities: none\n"),
            std::string::npos);
}

// terminal monitor / terminal no monitor: privileged exec (and `do`), as IOS; the session's
// flag, shown by show terminal; refused in user exec without changing anything.
TEST(Terminal, MonitorPerSessionFromPrivilegedExec) {
  Term t(Mode::privileged_exec);
  EXPECT_FALSE(t.s.monitor) << "off by default, as on an IOS vty";
  ASSERT_TRUE(t.run("terminal monitor").ok());
  EXPECT_TRUE(t.s.monitor);
  EXPECT_NE(t.run("show terminal").output.find("Capabilities: Receives Logging Output\n"), std::string::npos);
  ASSERT_TRUE(t.run("terminal no monitor").ok());
  EXPECT_FALSE(t.s.monitor);
  ASSERT_TRUE(t.run("term mon").ok());
  EXPECT_TRUE(t.s.monitor);
  ASSERT_TRUE(t.run("configure terminal").ok());
  ASSERT_TRUE(t.run("do terminal no monitor").ok());
  EXPECT_FALSE(t.s.monitor);
  EXPECT_EQ(t.run("terminal monitor extra").code(), ResultCode::invalid_input);
  EXPECT_FALSE(t.s.monitor);
  Term user;
  EXPECT_EQ(user.run("terminal monitor").code(), ResultCode::invalid_input);
  EXPECT_FALSE(user.s.monitor);
}

TEST(History, KeepsTheSessionsLinesInOrderBoundedBySize) {
  Term t;
  for (int i = 0; i < 12; ++i) t.run("show clock");
  t.run("enable");
  t.run("bogus command");  // refused lines are history too, as on IOS
  const Result r = t.run("show history");
  ASSERT_TRUE(r.ok());
  std::string want;
  for (int i = 0; i < 7; ++i) want += "  show clock\n";
  want += "  enable\n  bogus command\n  show history\n";
  EXPECT_EQ(r.output, want);
  ASSERT_EQ(t.s.history.size(), 10u);
  ASSERT_TRUE(t.run("terminal history size 2").ok());
  EXPECT_EQ(t.run("show history").output, "  terminal history size 2\n  show history\n");
  ASSERT_TRUE(t.run("terminal no history size").ok());
  EXPECT_EQ(t.s.history_size, 10);
  ASSERT_TRUE(t.run("terminal history size 0").ok());
  EXPECT_EQ(t.run("show history").output, "");
}

TEST(History, JsonHasTheSameLines) {
  Term t(Mode::privileged_exec);
  t.run("configure terminal");
  t.run("sip-ua");
  t.run("credentials number 1001 username u1 password 0 Secret! realm r");
  t.run("end");
  const std::string text = t.run("show history").output;
  const nlohmann::json j = nlohmann::json::parse(t.run("show history | json").output);
  ASSERT_TRUE(j["history"].is_array());
  std::string from_json;
  for (const auto& l : j["history"]) from_json += "  " + l.get<std::string>() + "\n";
  // The JSON was asked one command later: its last line is `show history | json` itself.
  EXPECT_EQ(from_json,
            text.substr(0, text.rfind("  show history\n")) + "  show history\n  show history | json\n");
  EXPECT_EQ(j.dump().find("Secret!"), std::string::npos) << "masked as in the text";
}

TEST(History, PasswordsAreMasked) {
  Term t(Mode::privileged_exec);
  t.run("configure terminal");
  t.run("sip-ua");
  t.run("credentials number 1001 username u1 password 0 Secret! realm r");
  const Result r = t.run("do show history");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.output.find("Secret!"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("password 0 *****"), std::string::npos) << r.output;
}

TEST(History, AFileLoadKeepsNone) {
  Config cfg;
  ASSERT_TRUE(load_startup_config("sip-ua\n registrar 1 dns:a.example\n", cfg).ok());
  Interpreter in(cfg);
  Session s;
  s.loading_file = true;
  in.execute("hostname X", s);
  EXPECT_TRUE(s.history.empty());
}

TEST(Clock, IosFormat) {
  using namespace std::chrono;
  // 2026-12-07 18:35:02.123 UTC, a Monday.
  const system_clock::time_point t{milliseconds(1796668502123LL)};
  EXPECT_EQ(render_clock(t, false), "*18:35:02.123 UTC Mon Dec 7 2026");
  EXPECT_EQ(render_clock(t, true), "18:35:02.123 UTC Mon Dec 7 2026");
  EXPECT_EQ(render_clock(system_clock::time_point{milliseconds(5)}, true), "00:00:00.005 UTC Thu Jan 1 1970");
}

// show clock | json: the same instant as the text, which is parsed back here.
TEST(Clock, JsonIsTheSameInstant) {
  using namespace std::chrono;
  const system_clock::time_point t{milliseconds(1796668502123LL)};
  for (const bool sync : {false, true}) {
    const std::string text = render_clock(t, sync);
    const nlohmann::json j = nlohmann::json::parse(render_clock_json(t, sync));
    EXPECT_EQ(j["synchronized"], sync);
    EXPECT_EQ(j["synchronized"], text[0] != '*') << text;
    EXPECT_EQ(j["unix_ms"], 1796668502123LL);
    EXPECT_EQ(j["utc"], "2026-12-07T18:35:02.123Z");
    // The text's time of day and date, from the JSON's fields.
    const std::string utc = j["utc"];
    EXPECT_NE(text.find(utc.substr(11, 12) + " UTC Mon Dec 7 2026"), std::string::npos) << text;
  }
  EXPECT_EQ(nlohmann::json::parse(render_clock_json(system_clock::time_point{milliseconds(5)}, true))["utc"],
            "1970-01-01T00:00:00.005Z");
}

TEST(Clock, ShowClockJsonIsNow) {
  using namespace std::chrono;
  Term t;
  const auto before = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const Result r = t.run("show clock | json");
  const auto after = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(r.ok());
  const nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_GE(j["unix_ms"].get<std::int64_t>(), before);
  EXPECT_LE(j["unix_ms"].get<std::int64_t>(), after);
  EXPECT_TRUE(j["synchronized"].is_boolean());
}

TEST(Clock, ShowClockFromEveryExecMode) {
  Term t;
  const Result r = t.run("show clock");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.output.find(" UTC "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.back(), '\n');
}

TEST(Info, VersionAndUsersGoToTheHookWithTheSession) {
  Term t;
  t.s.line = 3;
  Result r = t.run("show version");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.output, "regfront Software, Version 9\nRouter uptime is 1 minute\n");
  r = t.run("sh ver | include uptime");
  EXPECT_EQ(r.output, "Router uptime is 1 minute\n");
  r = t.run("show users");
  EXPECT_EQ(r.output, "users\n");
  EXPECT_EQ(t.hooks.self_line, 3u);
  EXPECT_EQ(t.hooks.asked, (std::vector<ExecHooks::Info>{ExecHooks::Info::version, ExecHooks::Info::version,
                                                         ExecHooks::Info::users}));
  EXPECT_EQ(t.hooks.asked_json, (std::vector<bool>{false, false, false}));
  EXPECT_EQ(t.run("show version | json").output, "{\"version\":\"9\"}\n");
  EXPECT_EQ(t.run("sh us | j").output, "{\"users\":[]}\n");
  EXPECT_EQ(t.hooks.asked_json, (std::vector<bool>{false, false, false, true, true}));
}

TEST(Info, WithoutHooksNotAvailable) {
  Config cfg;
  Interpreter in(cfg);
  Session s;
  const Result r = in.execute("show version", s);
  EXPECT_EQ(format_error("show version", r), "% Command not available");
}

TEST(SipUaShows, TimersAndRetryShowTheConfiguredValues) {
  Term t(Mode::privileged_exec);
  EXPECT_EQ(t.run("show sip-ua timers").output,
            "SIP UA Timer Values (millisecs unless noted)\nregister 500\nregistration rate 500 REGISTERs per second\n");
  EXPECT_EQ(t.run("show sip-ua retry").output, "SIP UA Retry Values\nregister retry count = 6\n");
  for (const char* l : {"configure terminal", "sip-ua", "timers register 250", "retry register 3", "registration rate 40",
                        "exit", "voice class sip-options-keepalive 7", "retry 4", "up-interval 20", "end"}) {
    const Result r = t.run(l);
    ASSERT_TRUE(r.ok()) << l << "\n" << format_error(l, r);
  }
  EXPECT_EQ(t.run("sh sip-ua tim").output,
            "SIP UA Timer Values (millisecs unless noted)\nregister 250\nregistration rate 40 REGISTERs per second\n"
            "options keepalive 7: up-interval 20 seconds, down-interval 30 seconds\n");
  EXPECT_EQ(t.run("show sip-ua retry | include register").output, "register retry count = 3\n");
  EXPECT_EQ(t.run("show sip-ua retry").output,
            "SIP UA Retry Values\nregister retry count = 3\noptions retry count = 4 (sip-options-keepalive 7)\n");
}

// show sip-ua timers | json and show sip-ua retry | json: the values of the text.
TEST(SipUaShows, TimersAndRetryJsonHaveTheTextsValues) {
  Term t(Mode::privileged_exec);
  EXPECT_EQ(nlohmann::json::parse(t.run("show sip-ua timers | json").output),
            nlohmann::json({{"register_ms", 500},
                            {"registration_rate", 500},
                            {"options_keepalive", nlohmann::json::array()}}));
  EXPECT_EQ(nlohmann::json::parse(t.run("show sip-ua retry | json").output),
            nlohmann::json({{"register", 6}, {"options_keepalive", nlohmann::json::array()}}));
  for (const char* l :
       {"configure terminal", "sip-ua", "timers register 250", "retry register 3", "registration rate 40",
        "exit", "voice class sip-options-keepalive 7", "retry 4", "up-interval 20", "exit",
        "voice class sip-options-keepalive 9", "down-interval 45", "end"}) {
    const Result r = t.run(l);
    ASSERT_TRUE(r.ok()) << l << "\n" << format_error(l, r);
  }
  const std::string timers = t.run("show sip-ua timers").output;
  const nlohmann::json tj = nlohmann::json::parse(t.run("show sip-ua timers | json").output);
  EXPECT_NE(timers.find("register " + std::to_string(tj["register_ms"].get<int>()) + "\n"),
            std::string::npos);
  EXPECT_NE(
      timers.find("registration rate " + std::to_string(tj["registration_rate"].get<int>()) + " REGISTERs"),
      std::string::npos);
  ASSERT_EQ(tj["options_keepalive"].size(), 2u);
  for (const auto& p : tj["options_keepalive"]) {
    EXPECT_NE(timers.find("options keepalive " + std::to_string(p["profile"].get<int>()) + ": up-interval " +
                          std::to_string(p["up_interval_s"].get<int>()) + " seconds, down-interval " +
                          std::to_string(p["down_interval_s"].get<int>()) + " seconds\n"),
              std::string::npos)
        << timers << tj.dump();
  }
  EXPECT_EQ(tj["options_keepalive"][1],
            nlohmann::json({{"profile", 9}, {"up_interval_s", 60}, {"down_interval_s", 45}}));
  const std::string retry = t.run("show sip-ua retry").output;
  const nlohmann::json rj = nlohmann::json::parse(t.run("show sip-ua retry | json").output);
  EXPECT_EQ(rj["register"], 3);
  EXPECT_NE(retry.find("register retry count = 3\n"), std::string::npos);
  ASSERT_EQ(rj["options_keepalive"].size(), 2u);
  for (const auto& p : rj["options_keepalive"]) {
    EXPECT_NE(retry.find("options retry count = " + std::to_string(p["retry"].get<int>()) +
                         " (sip-options-keepalive " + std::to_string(p["profile"].get<int>()) + ")\n"),
              std::string::npos)
        << retry << rj.dump();
  }
  EXPECT_EQ(rj["options_keepalive"][0], nlohmann::json({{"profile", 7}, {"retry", 4}}));
}

}  // namespace
}  // namespace regfront::config
