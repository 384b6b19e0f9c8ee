// regfront/protocol/protocol.h — the control socket's session protocol (regfrontd ⇄ regfront-cli).
//
// One connection is one CLI session: the daemon keeps its mode (user exec `>`, privileged `#`,
// configuration modes) for as long as the connection lives. The client sends requests, one
// per line:
//
//   exec LINE        run LINE as typed at the prompt
//   help LINE        `?` context help for LINE (what may come next / what the last word may be)
//   complete LINE    tab completion of LINE's last word
//   prompt           the current prompt (no-op)
//
// and reads, for each, a header line and a payload of exactly LENGTH bytes:
//
//   STATUS LENGTH PROMPT\n PAYLOAD
//
// STATUS is 0 (done), 1 (refused: the payload is the IOS error, marker line included) or 2
// (the session ended: `exit` from exec mode). PROMPT is the prompt to show next, e.g.
// "Router(config-sip-ua)#". Lines longer than kMaxRequest are refused.
//
//   regfront::protocol::Client c;
//   if (c.connect(path, err)) { auto r = c.request("exec", "show sip-ua statistics"); }
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace regfront::protocol {

inline constexpr std::size_t kMaxRequest = 65536;

enum class ReplyStatus : int { ok = 0, refused = 1, ended = 2 };

struct Reply {
  ReplyStatus status = ReplyStatus::ok;
  std::string prompt;
  std::string payload;
};

// Formats a reply (daemon side).
std::string format_reply(const Reply& r);

class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connect(const std::string& socket_path, std::string& err);
  // Sends one request and reads its reply. False (and `err`) when the connection failed.
  bool request(std::string_view verb, std::string_view line, Reply& out, std::string& err);

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace regfront::protocol
