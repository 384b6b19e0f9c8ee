// The operator's own exec commands: terminal length|width|history size (and their `no` forms),
// show terminal, show history (kept per session, masked passwords, bounded), show clock's
// format, and show version / show users through ExecHooks::info.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"

namespace regfront::config {
namespace {

class InfoHooks : public ExecHooks {
 public:
  std::vector<Info> asked;
  std::uint32_t self_line = 99;
  bool show(Show, bool, std::string& out) override {
    out = "x\n";
    return true;
  }
  bool write_memory(const Config&, std::string& m) override {
    m = "[OK]";
    return true;
  }
  bool info(Info what, const Session& self, std::string& out) override {
    asked.push_back(what);
    self_line = self.line;
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
  EXPECT_EQ(r.output, "Length: 0 lines, Width: 80 columns\nHistory is enabled, history size is 10.\n");
  ASSERT_TRUE(t.run("terminal history size 0").ok());
  r = t.run("show terminal | include History");
  EXPECT_EQ(r.output, "History is disabled.\n");
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

}  // namespace
}  // namespace regfront::config
