// The EAL/port profile of regfrontd --dpdk-profile: what each line gives the EAL, every bad line
// reported as FILE:LINE, and the file-level refusals (size, not a regular file).
#include "regfront/daemon/dpdk_profile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace regfront::daemon {
namespace {

TEST(DpdkProfile, LinesBecomeEalArgumentsInOrder) {
  const auto eal = parse_dpdk_profile(
      "! appliance profile\n"
      "# both comment forms\n"
      "\n"
      "--file-prefix regfront\n"
      "  -l 2-4   \n"
      "--socket-mem=1024\r\n"
      "port 0000:03:00.0\n"
      "port 03:00.1,rx_low_latency=1\n"
      "vdev net_tap0,iface=rftap0\n"
      "--no-telemetry\n",
      "p");
  ASSERT_TRUE(eal.ok()) << eal.status().message();
  EXPECT_EQ(*eal,
            "--file-prefix regfront -l 2-4 --socket-mem=1024 -a 0000:03:00.0 -a 03:00.1,rx_low_latency=1 "
            "--vdev net_tap0,iface=rftap0 --no-telemetry");
}

TEST(DpdkProfile, EmptyProfileGivesNothing) {
  const auto eal = parse_dpdk_profile("! nothing\n\n", "p");
  ASSERT_TRUE(eal.ok());
  EXPECT_EQ(*eal, "");
}

TEST(DpdkProfile, EveryBadLineIsReportedWithFileAndLine) {
  const auto eal = parse_dpdk_profile(
      "--file-prefix rf\n"
      "lcores 2-4\n"                 // 2: not an option
      "-l 2-4 -n 4\n"                // 3: two options
      "port 0000:3:00.0\n"           // 4: short bus
      "port\n"                       // 5: no address
      "vdev\n"                       // 6: no device
      "--in-memory --no-huge\n"      // 7: two options on a line
      "port 0000:03:00.8\n"          // 8: function > 7
      "port 0000:03:00.0 extra\n",   // 9: two words
      "/etc/regfront/dpdk.profile");
  ASSERT_FALSE(eal.ok());
  const std::string m = eal.status().message();
  for (int line : {2, 3, 4, 5, 6, 7, 8, 9}) {
    EXPECT_NE(m.find("/etc/regfront/dpdk.profile:" + std::to_string(line) + ": % "), std::string::npos)
        << "line " << line << " in:\n" << m;
  }
  EXPECT_EQ(m.find("dpdk.profile:1:"), std::string::npos) << m;
  EXPECT_NE(m.find("one EAL option per line (-n goes on a line of its own)\n  -l 2-4 -n 4\n"), std::string::npos) << m;
  EXPECT_NE(m.find("expected an EAL option"), std::string::npos) << m;
}

TEST(DpdkProfile, ControlCharactersAreRefusedWithoutEchoingThem) {
  const auto eal = parse_dpdk_profile("--file-prefix rf\x1b[2J\n", "p");
  ASSERT_FALSE(eal.ok());
  EXPECT_NE(eal.status().message().find("p:1: % a control character"), std::string::npos);
  EXPECT_EQ(eal.status().message().find('\x1b'), std::string::npos);
}

TEST(DpdkProfile, ArgumentCountIsBounded) {
  std::string text;
  for (std::size_t i = 0; i < kMaxProfileArguments; ++i) text += "--no-telemetry\n";
  ASSERT_TRUE(parse_dpdk_profile(text, "p").ok());
  text += "--no-telemetry\n";
  const auto eal = parse_dpdk_profile(text, "p");
  ASSERT_FALSE(eal.ok());
  EXPECT_NE(eal.status().message().find("p:" + std::to_string(kMaxProfileArguments + 1) + ": % more than"),
            std::string::npos)
      << eal.status().message();
}

class DpdkProfileFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/regfront-profile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/p").c_str());
    std::remove((dir_ + "/fifo").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(DpdkProfileFile, ReadsAFileAndNamesItInErrors) {
  std::ofstream(dir_ + "/p") << "--file-prefix rf\nbogus\n";
  const auto eal = load_dpdk_profile(dir_ + "/p");
  ASSERT_FALSE(eal.ok());
  EXPECT_NE(eal.status().message().find(dir_ + "/p:2: % "), std::string::npos) << eal.status().message();
}

TEST_F(DpdkProfileFile, RefusesMissingDirectoriesFifosAndOversizedFiles) {
  EXPECT_EQ(load_dpdk_profile(dir_ + "/missing").status().code(), StatusCode::not_found);
  EXPECT_EQ(load_dpdk_profile(dir_).status().code(), StatusCode::failed_precondition);
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(load_dpdk_profile(dir_ + "/fifo").status().code(), StatusCode::failed_precondition);
  std::ofstream(dir_ + "/p") << std::string(kMaxProfileBytes + 1, '!');
  EXPECT_EQ(load_dpdk_profile(dir_ + "/p").status().code(), StatusCode::resource_exhausted);
}

}  // namespace
}  // namespace regfront::daemon
