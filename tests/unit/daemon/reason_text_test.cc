// The reason a `show sip-ua register status` row gives, as an engineer acts on it: a wrong
// password and a realm nothing answers read differently, and so do DNS and a registrar the
// keepalive holds.
#include <gtest/gtest.h>

#include "regfront/daemon/status.h"

namespace regfront::daemon {
namespace {

reg::BindingStatus row(reg::BindingState state, reg::FailReason reason, std::uint16_t code) {
  reg::BindingStatus b{};
  b.state = state;
  b.reason = reason;
  b.last_code = code;
  return b;
}

TEST(BindingReasonText, SaysWhatToDo) {
  using reg::BindingState;
  using reg::FailReason;
  EXPECT_EQ(binding_reason_text(row(BindingState::registered, FailReason::none, 200), "r", 0, ""), "");
  EXPECT_EQ(binding_reason_text(row(BindingState::backoff, FailReason::auth_failed, 401), "r.example", 0, ""),
            "auth failed");
  EXPECT_EQ(binding_reason_text(row(BindingState::backoff, FailReason::no_credential, 401), "stranger.example", 0, ""),
            "no credential for realm stranger.example");
  EXPECT_EQ(binding_reason_text(row(BindingState::backoff, FailReason::timeout, 408), "", 0, ""), "timeout");
  EXPECT_EQ(binding_reason_text(row(BindingState::backoff, FailReason::unreachable, 503), "", 0, ""), "unreachable");
  EXPECT_EQ(binding_reason_text(row(BindingState::backoff, FailReason::retry_after, 503), "", 120, ""),
            "503 Retry-After 120");
  EXPECT_EQ(binding_reason_text(row(BindingState::backoff, FailReason::rejected, 403), "", 0, ""), "rejected 403");
  EXPECT_EQ(binding_reason_text(row(BindingState::waiting_dns, FailReason::none, 0), "", 0, "NXDOMAIN for x.example"),
            "DNS: NXDOMAIN for x.example");
  EXPECT_EQ(binding_reason_text(row(BindingState::waiting_dns, FailReason::none, 0), "", 0, ""), "DNS: not resolved yet");
  // Held by the keepalive: that, whatever failed before.
  EXPECT_EQ(binding_reason_text(row(BindingState::held, FailReason::timeout, 408), "", 0, ""), "registrar down");
}

}  // namespace
}  // namespace regfront::daemon
