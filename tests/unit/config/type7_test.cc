#include <gtest/gtest.h>
#include "regfront/config/commands.h"
namespace regfront::config { namespace {
TEST(Type7, KnownPair) {
  EXPECT_EQ(type7_encode("cisco", 2), "02050D480809");
}
} }
