// show version and show users as regfrontd renders them: IOS's lines and columns.
#include "regfront/daemon/session_info.h"

#include <gtest/gtest.h>

namespace regfront::daemon {
namespace {

TEST(SessionInfo, UptimeAsIos) {
  EXPECT_EQ(format_uptime(0), "0 minutes");
  EXPECT_EQ(format_uptime(61), "1 minute");
  EXPECT_EQ(format_uptime(3600), "1 hour, 0 minutes");
  EXPECT_EQ(format_uptime(93784), "1 day, 2 hours, 3 minutes");
  EXPECT_EQ(format_uptime(2 * 604800 + 60 * 7), "2 weeks, 0 days, 0 hours, 7 minutes");
}

TEST(SessionInfo, Version) {
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

}  // namespace
}  // namespace regfront::daemon
