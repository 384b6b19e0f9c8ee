// Test helpers: a configuration, an interpreter and a session placed in a mode.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "regfront/config/commands.h"
#include "regfront/config/model.h"

namespace regfront::config::test {

struct Harness {
  Config cfg;
  Interpreter in{cfg};
  Session s;

  explicit Harness(Mode m = Mode::global_config) { s.mode = m; }
  Result run(std::string_view line) { return in.execute(line, s); }
  // Runs lines that must all succeed.
  void setup(std::initializer_list<std::string_view> lines) {
    for (auto l : lines) {
      Result r = run(l);
      ASSERT_TRUE(r.ok()) << l << "\n" << format_error(l, r);
    }
  }
};

inline Harness in_sip_ua() {
  Harness h;
  h.setup({"sip-ua"});
  return h;
}

}  // namespace regfront::config::test
