// show version and show users as regfrontd renders them: IOS's lines and columns.
#include "regfront/daemon/session_info.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace regfront::daemon {
namespace {

TEST(SessionInfo, UptimeAsIos) {
  EXPECT_EQ(format_uptime(0), "0 minutes");
  EXPECT_EQ(format_uptime(61), "1 minute");
  EXPECT_EQ(format_uptime(3600), "1 hour, 0 minutes");
  EXPECT_EQ(format_uptime(93784), "1 day, 2 hours, 3 minutes");
  EXPECT_EQ(format_uptime(2 * 604800 + 60 * 7), "2 weeks, 0 days, 0 hours, 7 minutes");
}

VersionInfo sample_version() {
  VersionInfo v;
  v.version = "0.1.0";
  v.build = "GCC 12.2.0 (Release)";
  v.hostname = "cube1";
  v.uptime_s = 93784;
  v.image = "/usr/sbin/regfrontd";
  v.system = "Linux 6.1.0 x86_64";
  v.io = "kernel sockets";
  v.workers = 2;
  v.config_path = "/etc/regfront/startup-config";
  return v;
}

TEST(SessionInfo, Version) {
  const VersionInfo v = sample_version();
  EXPECT_EQ(render_version(v),
            "regfront Software, Version 0.1.0\n"
            "SIP registration front end and SBC for Linux\n"
            "Compiled by GCC 12.2.0 (Release)\n"
            "\n"
            "cube1 uptime is 1 day, 2 hours, 3 minutes\n"
            "System image file is \"/usr/sbin/regfrontd\"\n"
            "\n"
            "Linux 6.1.0 x86_64\n"
            "2 workers, I/O kernel sockets\n"
            "Configuration file is \"/etc/regfront/startup-config\"\n");
}

TEST(SessionInfo, UsersColumnsLineUpUnderIosHeader) {
  std::vector<UserRow> rows(2);
  rows[0] = {false, 0, "root", 75, "pid 100", "privileged exec"};
  rows[1] = {true, 1, "oper", 0, "pid 200", "user exec"};
  const std::string out = render_users(rows);
  EXPECT_EQ(out,
            "    Line       User       Host(s)              Idle       Location         Mode\n"
            "   0 vty 0     root       idle                 00:01:15   pid 100          privileged exec\n"
            "*  1 vty 1     oper       idle                 00:00:00   pid 200          user exec\n");
}

// show version | json: every fact of the text, each found in the text as the JSON has it.
TEST(SessionInfo, VersionJsonHasTheTextsFacts) {
  const VersionInfo v = sample_version();
  const std::string text = render_version(v);
  const nlohmann::json j = nlohmann::json::parse(render_version_json(v));
  EXPECT_EQ(j, nlohmann::json({{"version", "0.1.0"},
                               {"build", "GCC 12.2.0 (Release)"},
                               {"hostname", "cube1"},
                               {"uptime_seconds", 93784},
                               {"image", "/usr/sbin/regfrontd"},
                               {"system", "Linux 6.1.0 x86_64"},
                               {"workers", 2},
                               {"io", "kernel sockets"},
                               {"config_file", "/etc/regfront/startup-config"}}));
  EXPECT_NE(text.find("Version " + j["version"].get<std::string>() + "\n"), std::string::npos);
  EXPECT_NE(text.find("Compiled by " + j["build"].get<std::string>() + "\n"), std::string::npos);
  EXPECT_NE(
      text.find(j["hostname"].get<std::string>() + " uptime is " + format_uptime(j["uptime_seconds"]) + "\n"),
      std::string::npos);
  EXPECT_NE(text.find("\"" + j["image"].get<std::string>() + "\""), std::string::npos);
  EXPECT_NE(text.find(j["system"].get<std::string>() + "\n"), std::string::npos);
  EXPECT_NE(
      text.find(std::to_string(j["workers"].get<int>()) + " workers, I/O " + j["io"].get<std::string>()),
      std::string::npos);
  EXPECT_NE(text.find("\"" + j["config_file"].get<std::string>() + "\""), std::string::npos);
}

// show users | json: one element per row of the text, same line, user, idle, location, mode.
TEST(SessionInfo, UsersJsonHasTheTextsRows) {
  std::vector<UserRow> rows(2);
  rows[0] = {false, 0, "root", 75, "pid 100", "privileged exec"};
  rows[1] = {true, 1, "oper", 3725, "pid 200", "user exec"};
  const std::string text = render_users(rows);
  const nlohmann::json j = nlohmann::json::parse(render_users_json(rows));
  ASSERT_EQ(j["users"].size(), 2u);
  EXPECT_EQ(j["users"][1], nlohmann::json({{"line", 1},
                                           {"name", "vty 1"},
                                           {"self", true},
                                           {"user", "oper"},
                                           {"host", "idle"},
                                           {"idle_seconds", 3725},
                                           {"location", "pid 200"},
                                           {"mode", "user exec"}}));
  std::size_t at = text.find('\n') + 1;  // past the header
  for (const auto& u : j["users"]) {
    const std::size_t nl = text.find('\n', at);
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    const long idle = u["idle_seconds"];
    char hms[64];
    std::snprintf(hms, sizeof hms, "%02ld:%02ld:%02ld", idle / 3600, idle / 60 % 60, idle % 60);
    EXPECT_EQ(line[0] == '*', u["self"].get<bool>()) << line;
    for (const std::string& field :
         {u["name"].get<std::string>(), u["user"].get<std::string>(), std::string(hms),
          u["location"].get<std::string>(), u["mode"].get<std::string>()}) {
      EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
    }
  }
  EXPECT_EQ(nlohmann::json::parse(render_users_json({})),
            nlohmann::json({{"users", nlohmann::json::array()}}));
}

}  // namespace
}  // namespace regfront::daemon
