// libFuzzer target for what a control-socket client can send: request lines ("exec LINE",
// "help LINE", "complete LINE", "prompt") run through one CLI session of the IOS grammar on a
// configuration that starts from a real startup-config, and the reply framing both ways.
// Oracles beside "no crash, no sanitizer report":
//  - a refused line changes nothing (the running-config renders the same before and after);
//  - a refusal is reported IOS-style ("% " first) and an accepted line never is;
//  - every reply, framed as the daemon frames it, parses back to itself on the client side;
//  - the client's reply parser never claims more bytes than it was given.
// Exec commands that need the daemon (show, write memory) run without hooks and are refused:
// their rendering is covered by the daemon's own tests.
// Replayed by ctest through fuzz_replay_control_session.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "regfront/config/commands.h"
#include "regfront/config/model.h"
#include "regfront/protocol/protocol.h"

namespace {

using namespace regfront;

constexpr std::size_t kMaxInput = 1 << 16;
constexpr int kMaxLines = 256;

// Registrars, realms, credentials and dial peers of both kinds, so that `no` forms and
// sub-modes have something to act on.
constexpr std::string_view kStartup = R"(hostname edge-1
dial-peer voice 1 pots
 destination-pattern 4085550100
 authentication username alice password 0 secret realm realm-a.ux
dial-peer voice 100 voip
 destination-pattern 1T
 session target registrar
 preference 1
sip-ua
 registrar 1 ipv4:192.0.2.10 expires 600
 registrar 2 dns:reg-b.ux expires 3600
 credentials number 4085550101 username bob password 0 pw realm realm-b.ux
)";

void check_reply(const protocol::Reply& r) {
  const std::string wire = protocol::format_reply(r);
  protocol::Reply back;
  const StatusOr<std::size_t> n = protocol::parse_reply(wire, back);
  if (!n.ok() || *n != wire.size()) __builtin_trap();
  if (back.status != r.status || back.prompt != r.prompt || back.payload != r.payload) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // The client side: whatever a daemon (or an impostor on the socket) sends.
  protocol::Reply parsed;
  const StatusOr<std::size_t> took = protocol::parse_reply(input, parsed);
  if (took.ok() && *took > input.size()) __builtin_trap();

  static config::Config base = [] {
    config::Config c;
    if (!config::load_startup_config(kStartup, c).ok()) __builtin_trap();
    return c;
  }();
  config::Config cfg = base;
  config::Interpreter interp(cfg);
  config::Session session;
  session.mode = config::Mode::user_exec;

  std::size_t pos = 0;
  for (int lines = 0; pos < input.size() && lines < kMaxLines; ++lines) {
    std::size_t end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    std::string_view req = input.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t sp = req.find(' ');
    const std::string_view verb = req.substr(0, sp);
    const std::string_view line = sp == std::string_view::npos ? std::string_view() : req.substr(sp + 1);
    protocol::Reply reply;
    if (verb == "exec") {
      const std::string before = config::render_running_config(cfg);
      const config::Result r = interp.execute(line, session);
      const std::string shown = config::format_error(line, r);
      if (r.status.ok()) {
        if (!shown.empty()) __builtin_trap();
      } else {
        if (config::render_running_config(cfg) != before) __builtin_trap();  // refused yet changed
        if (shown.find("% ") == std::string::npos) __builtin_trap();
        reply.status = protocol::ReplyStatus::refused;
        reply.payload = shown;
      }
    } else if (verb == "help") {
      for (const auto& item : interp.help(line, session)) reply.payload += item.word + "  " + item.help + "\n";
    } else if (verb == "complete") {
      reply.payload = interp.complete(line, session);
    }
    (void)config::redact_passwords(line);
    reply.prompt = config::prompt(cfg, session);
    check_reply(reply);
  }
  return 0;
}
