// regfront/common/status.h: codes, context, StatusOr's value or failure.
#include "regfront/common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace regfront {
namespace {

TEST(Status, DefaultIsOk) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::ok);
  EXPECT_TRUE(s.message().empty());
}

TEST(Status, NamedConstructorsCarryCodeAndMessage) {
  const Status s = Status::not_found("interface dpdk3 does not exist");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::not_found);
  EXPECT_EQ(s.message(), "interface dpdk3 does not exist");
  EXPECT_EQ(status_code_name(s.code()), "not_found");
  EXPECT_EQ(Status::unavailable("x").code(), StatusCode::unavailable);
  EXPECT_EQ(Status::resource_exhausted("x").code(), StatusCode::resource_exhausted);
  EXPECT_EQ(Status::internal("x").code(), StatusCode::internal);
}

TEST(Status, ContextIsPrependedToFailuresOnly) {
  EXPECT_EQ(Status::invalid_argument("expected IP:PORT").with_context("--listen").message(),
            "--listen: expected IP:PORT");
  EXPECT_TRUE(Status{}.with_context("--listen").ok());
  EXPECT_TRUE(Status{}.with_context("--listen").message().empty());
}

TEST(Status, Equality) {
  EXPECT_EQ(Status::internal("a"), Status::internal("a"));
  EXPECT_FALSE(Status::internal("a") == Status::unavailable("a"));
  EXPECT_FALSE(Status::internal("a") == Status::internal("b"));
}

StatusOr<int> parse_small(int v) {
  if (v > 9) return Status::out_of_range(std::to_string(v) + " is above 9");
  return v;
}

TEST(StatusOr, HoldsValueOrStatus) {
  auto good = parse_small(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_TRUE(good.status().ok());
  auto bad = parse_small(12);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::out_of_range);
  EXPECT_EQ(bad.status().message(), "12 is above 9");
}

TEST(StatusOr, MoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> p(std::make_unique<int>(3));
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> taken = std::move(p).value();
  EXPECT_EQ(*taken, 3);
}

TEST(StatusOr, FromOkStatusIsAnInternalError) {
  StatusOr<int> s{Status{}};
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::internal);
}

}  // namespace
}  // namespace regfront
