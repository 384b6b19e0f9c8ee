// The IOS rendering of refusals: Result and LoadError carry plain Status messages, and
// format_error() / LoadError::format() alone add the `%`. The strings below are what an operator
// (regfront-cli) and the start-up log show; the e2e tests match them byte for byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace regfront::config {
namespace {

using test::Harness;

TEST(FormatError, InvalidInputRepeatsTheLineWithAMarker) {
  const Result r = Result::invalid_input(10);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ResultCode::invalid_input);
  EXPECT_EQ(r.status.code(), StatusCode::invalid_argument);
  EXPECT_EQ(r.status.message(), "Invalid input detected at '^' marker.");
  EXPECT_EQ(format_error("registrar 9 dns:x", r),
            "registrar 9 dns:x\n"
            "          ^\n"
            "% Invalid input detected at '^' marker.");
  EXPECT_EQ(format_error("x", Result::invalid_input(0)),
            "x\n"
            "^\n"
            "% Invalid input detected at '^' marker.");
}

TEST(FormatError, IncompleteAndAmbiguousAreOneLine) {
  const Result incomplete = Result::incomplete();
  EXPECT_EQ(incomplete.code(), ResultCode::incomplete);
  EXPECT_EQ(incomplete.status.message(), "Incomplete command.");
  EXPECT_EQ(format_error("registrar 1", incomplete), "% Incomplete command.");

  const Result ambiguous = Result::ambiguous("sh sip-ua stat");
  EXPECT_EQ(ambiguous.code(), ResultCode::ambiguous);
  EXPECT_EQ(ambiguous.status.message(), "Ambiguous command:  \"sh sip-ua stat\"");
  EXPECT_EQ(format_error("sh sip-ua stat", ambiguous), "% Ambiguous command:  \"sh sip-ua stat\"");
}

TEST(FormatError, RejectedIsThePercentAndTheReason) {
  const Result r = Result::rejected(Status::failed_precondition("Command not available"));
  EXPECT_EQ(r.code(), ResultCode::rejected);
  EXPECT_EQ(r.syntax, SyntaxError::none);
  EXPECT_EQ(format_error("write memory", r), "% Command not available");
  // A refusal always has a reason; an OK one is a programming error made visible.
  const Result no_reason = Result::rejected(Status{});
  EXPECT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.status.code(), StatusCode::internal);
}

TEST(FormatError, AcceptedLinesRenderNothing) {
  Harness h;
  const Result r = h.run("hostname edge1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.code(), ResultCode::ok);
  EXPECT_EQ(format_error("hostname edge1", r), "");
}

// What the interpreter returns for each kind of refusal, rendered.
TEST(FormatError, InterpreterRefusalsAsTheOperatorSeesThem) {
  const struct {
    std::vector<const char*> setup;
    const char* line;
    const char* shown;
  } cases[] = {
      {{"sip-ua"}, "registrar 9 dns:x",
       "registrar 9 dns:x\n          ^\n% Invalid input detected at '^' marker."},
      {{"sip-ua"}, "registrar 1", "% Incomplete command."},
      {{"sip-ua"}, " e ", "% Ambiguous command:  \"e\""},
      {{"sip-ua", "registrar 1 dns:a.com"}, "registrar dns:b.com",
       "% Multiple registrars (indexed form) and primary/secondary form cannot be configured "
       "together"},
      {{"sip-ua", "registrar 2 dns:a.com"}, "credentials dhcp password P realm R",
       "% DHCP is not supported with multiple registrars (indexed form); use the "
       "primary/secondary form"},
      {{}, "no interface dpdk0", "% Removal of physical interfaces is not permitted"},
      {{"interface dpdk0"}, "ip address 10.77.0.1 255.0.255.0",
       "% Bad mask 0xFF00FF00 for address 10.77.0.1"},
      {{"voice service voip", "sip"}, "bind control source-interface dpdk0.100",
       "% Interface dpdk0.100 does not exist"},
      {{}, "do show running-config | include (", "% Invalid regular expression."},
      {{}, "do write memory", "% Command not available"},
  };
  for (const auto& c : cases) {
    Harness h;
    for (const char* l : c.setup) h.setup({l});
    const Result r = h.run(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_FALSE(r.status.message().starts_with('%')) << r.status.message();
    EXPECT_FALSE(r.status.message().ends_with('\n')) << r.status.message();
    EXPECT_EQ(format_error(c.line, r), c.shown) << c.line;
  }
}

TEST(FormatError, ActionsSayWhatKindOfRefusal) {
  Harness h;
  h.setup({"sip-ua", "registrar 1 dns:a.com"});
  EXPECT_EQ(h.run("registrar dns:b.com").status.code(), StatusCode::failed_precondition);  // R1
  EXPECT_EQ(h.run("registrar 7 dns:a.com").status.code(), StatusCode::invalid_argument);  // grammar
  h.setup({"exit", "interface dpdk0.5"});
  EXPECT_EQ(h.run("encapsulation dot1Q 4094").status.code(), StatusCode::ok);
  h.setup({"exit", "interface dpdk0.6"});
  EXPECT_EQ(h.run("encapsulation dot1Q 4094").status.code(), StatusCode::already_exists);
  h.setup({"exit", "voice service voip", "sip"});
  EXPECT_EQ(h.run("bind control source-interface dpdk1.9").status.code(), StatusCode::not_found);
}

TEST(LoadErrorFormat, FileLineReasonTextAndMarker) {
  LoadError e;
  e.line = 5;
  e.text = " registrar 7 dns:reg7.example.com";
  e.status = Result::invalid_input(11).status;
  e.column = 11;
  EXPECT_EQ(e.format("bad.cfg"),
            "bad.cfg:5: % Invalid input detected at '^' marker.\n"
            "   registrar 7 dns:reg7.example.com\n"
            "             ^");
  EXPECT_EQ(e.format(),
            "5: % Invalid input detected at '^' marker.\n"
            "   registrar 7 dns:reg7.example.com\n"
            "             ^");
  LoadError r;
  r.line = 3;
  r.text = " registrar dns:b.com";
  r.status = Status::failed_precondition("Multiple registrars (indexed form) and primary/secondary "
                                         "form cannot be configured together");
  EXPECT_EQ(r.format("startup-config"),
            "startup-config:3: % Multiple registrars (indexed form) and primary/secondary form "
            "cannot be configured together\n"
            "   registrar dns:b.com");
}

TEST(LoadErrorFormat, TheLoaderKeepsThePlainStatus) {
  Config cfg;
  const LoadResult r = load_startup_config("sip-ua\n registrar 1\n bogus\n", cfg);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].status, Result::incomplete().status);
  EXPECT_EQ(r.errors[0].column, -1);
  EXPECT_EQ(r.errors[0].format("f"), "f:2: % Incomplete command.\n   registrar 1");
  EXPECT_EQ(r.errors[1].status, Result::invalid_input(1).status);
  EXPECT_EQ(r.errors[1].format("f"),
            "f:3: % Invalid input detected at '^' marker.\n"
            "   bogus\n"
            "   ^");
}

}  // namespace
}  // namespace regfront::config
