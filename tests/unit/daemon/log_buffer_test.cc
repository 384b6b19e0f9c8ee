// The logging buffer of `show logging`: bounded in bytes, the oldest lines dropped and
// counted, the level filter, clear, and the IOS header; and event() filling it in IOS's form.
#include "regfront/daemon/log_buffer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "regfront/daemon/log.h"

namespace regfront::daemon {
namespace {

std::string line_of(int i) {
  std::string l = "line " + std::to_string(i) + " ";
  l.resize(99, 'x');  // 100 bytes with its newline
  return l;
}

TEST(LogBufferTest, BoundedInBytesTheOldestGoCounted) {
  LogBuffer b;
  b.configure(true, 4096, kDebugging);
  for (int i = 0; i < 100; ++i) b.add(kNotifications, line_of(i));
  EXPECT_EQ(b.lines(), 40u) << "40 lines of 100 bytes fit in 4096";
  EXPECT_LE(b.used(), 4096u);
  EXPECT_EQ(b.counters().logged, 100u);
  EXPECT_EQ(b.counters().overwritten, 60u);
  const std::string text = b.render();
  EXPECT_EQ(text.find("line 59 "), std::string::npos) << "dropped";
  EXPECT_LT(text.find("line 60 "), text.find("line 99 ")) << "oldest first";
  EXPECT_NE(text.find("Log Buffer (4096 bytes):\n\nline 60 "), std::string::npos) << text;
  EXPECT_NE(text.find("60 overruns"), std::string::npos) << text;
  // Shrinking drops the oldest again, counted.
  b.configure(true, 1000, kDebugging);
  EXPECT_EQ(b.lines(), 10u);
  EXPECT_EQ(b.counters().overwritten, 90u);
  // A line longer than the buffer is cut to fit, and leaves it alone in the buffer.
  b.add(kErrors, std::string(5000, 'y'));
  EXPECT_EQ(b.lines(), 1u);
  EXPECT_EQ(b.used(), 1000u);
}

TEST(LogBufferTest, LevelClearAndOff) {
  LogBuffer b;
  b.configure(true, 4096, kWarnings);
  b.add(kInformational, "informational");
  b.add(kWarnings, "warning");
  b.add(kErrors, "error");
  EXPECT_EQ(b.lines(), 2u);
  EXPECT_EQ(b.counters().filtered, 1u);
  std::string text = b.render();
  EXPECT_NE(text.find("Buffer logging:  level warnings, 2 messages logged"), std::string::npos) << text;
  EXPECT_EQ(text.find("informational\n"), std::string::npos);
  b.clear();
  EXPECT_EQ(b.lines(), 0u);
  EXPECT_EQ(b.used(), 0u);
  EXPECT_EQ(b.counters().logged, 2u) << "clear logging keeps the counters";
  b.add(kErrors, "after the clear");
  EXPECT_NE(b.render().find("Log Buffer (4096 bytes):\n\nafter the clear\n"), std::string::npos);
  b.configure(false, 4096, kDebugging);
  b.add(kErrors, "while off");
  EXPECT_EQ(b.lines(), 0u);
  text = b.render();
  EXPECT_NE(text.find("Buffer logging:  disabled"), std::string::npos) << text;
  EXPECT_EQ(text.find("Log Buffer"), std::string::npos) << text;
}

TEST(LogBufferTest, EventsReachTheProcessBufferInIosForm) {
  LogBuffer& b = log_buffer();
  b.configure(true, 8192, kDebugging);
  b.clear();
  event(kNotifications, "SYS", "CONFIG_I", "Configured from console by %s", "vty0 (uid 0)");
  event(kDebugging + 0, "SIP", "TEST", "a debugging line %d", 7);
  const std::string text = b.render();
  EXPECT_TRUE(std::regex_search(
      text,
      std::regex(
          R"(\n\*[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: %SYS-5-CONFIG_I: Configured from console by vty0 \(uid 0\)\n)")))
      << text;
  EXPECT_NE(text.find(": %SIP-7-TEST: a debugging line 7\n"), std::string::npos) << text;
  b.configure(true, 8192, kNotifications);
  event(kDebugging, "SIP", "TEST", "filtered");
  EXPECT_EQ(b.render().find("filtered\n"), std::string::npos);
}

// show logging | json: the buffer's lines and the header's counters, as the text has them.
TEST(LogBufferTest, JsonHasTheTextsLinesAndCounters) {
  LogBuffer b;
  b.configure(true, 1000, kWarnings);
  for (int i = 0; i < 15; ++i) b.add(kErrors, line_of(i));
  b.add(kDebugging, "above the level");
  b.count_stderr();
  b.count_monitor();
  b.count_monitor();
  const std::string text = b.render();
  const nlohmann::json j = nlohmann::json::parse(b.render_json());
  EXPECT_EQ(j["buffer_enabled"], true);
  EXPECT_EQ(j["buffer_level"], "warnings");
  EXPECT_EQ(j["buffer_bytes"], 1000);
  EXPECT_EQ(j["buffer_used"], b.used());
  EXPECT_EQ(j["logged"], 15);
  EXPECT_EQ(j["overruns"], 5);
  EXPECT_EQ(j["filtered"], 1);
  EXPECT_EQ(j["stderr_logged"], 1);
  EXPECT_EQ(j["monitor_logged"], 2);
  EXPECT_EQ(j["monitor_level"], "debugging");
  // The same figures in the text.
  EXPECT_NE(text.find(std::to_string(j["overruns"].get<int>()) + " overruns"), std::string::npos) << text;
  EXPECT_NE(text.find("Buffer logging:  level warnings, 15 messages logged"), std::string::npos) << text;
  EXPECT_NE(text.find("Monitor logging: level debugging, 2 messages logged"), std::string::npos) << text;
  EXPECT_NE(text.find("Standard error logging: every level, 1 messages logged"), std::string::npos) << text;
  EXPECT_NE(text.find("5 messages dropped (oldest first), 1 above the buffer's level"), std::string::npos)
      << text;
  // The lines: those after "Log Buffer (1000 bytes):", in order.
  const std::string head = "Log Buffer (1000 bytes):\n\n";
  std::string lines;
  for (const auto& l : j["lines"]) lines += l.get<std::string>() + "\n";
  ASSERT_EQ(j["lines"].size(), 10u) << "ten lines of 100 bytes fill 1000";
  EXPECT_EQ(text.substr(text.find(head) + head.size()), lines);
  b.configure(false, 1000, kWarnings);
  const nlohmann::json off = nlohmann::json::parse(b.render_json());
  EXPECT_EQ(off["buffer_enabled"], false);
  EXPECT_TRUE(off["lines"].empty());
}

// event() hands each line to the monitor sink (terminal monitor) as the buffer keeps it.
TEST(LogBufferTest, EventsGoToTheMonitorSink) {
  LogBuffer& b = log_buffer();
  b.configure(true, 8192, kDebugging);
  b.clear();
  std::vector<std::pair<int, std::string>> seen;
  set_monitor_sink(
      [&](int severity, std::string_view line) { seen.emplace_back(severity, std::string(line)); });
  event(kNotifications, "SYS", "CONFIG_I", "Configured from console by %s", "vty1 (uid 0)");
  set_monitor_sink({});
  event(kNotifications, "SYS", "CONFIG_I", "after the sink went");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, kNotifications);
  const nlohmann::json j = nlohmann::json::parse(b.render_json());
  ASSERT_EQ(j["lines"].size(), 2u);
  EXPECT_EQ(seen[0].second, j["lines"][0]) << "the buffer's line, stamp and tag included";
  EXPECT_TRUE(seen[0].second.ends_with("%SYS-5-CONFIG_I: Configured from console by vty1 (uid 0)"))
      << seen[0].second;
}

}  // namespace
}  // namespace regfront::daemon
