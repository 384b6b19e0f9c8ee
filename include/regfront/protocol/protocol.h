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
//   terminal         the session's "LENGTH WIDTH" (terminal length|width), which regfront-cli
//                    pages by on a terminal
//
// and reads, for each, a header line and a payload of exactly LENGTH bytes:
//
//   STATUS LENGTH PROMPT\n PAYLOAD
//
// STATUS is 0 (done), 1 (refused: the payload is the IOS error, marker line included), 2
// (the session ended: `exit` from exec mode) or 3 (debug output the session asked for, sent at
// any time between replies; not a reply). PROMPT is the prompt to show next, e.g.
// "Router(config-sip-ua)#". Lines longer than kMaxRequest are refused.
//
// This module is all a client needs (regfront-cli links it and libedit, nothing of the daemon):
//
//   regfront::protocol::Client c;
//   if (regfront::Status s = c.connect(regfront::protocol::default_control_socket()); !s.ok())
//     return fail(s.message());                      // e.g. "No such file or directory"
//   regfront::StatusOr<regfront::protocol::Reply> r = c.request("exec", "show sip-ua statistics");
//   if (r.ok()) print(r->payload);
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "regfront/common/status.h"

namespace regfront::protocol {

// The longest request line the daemon reads; a longer one ends the session.
inline constexpr std::size_t kMaxRequest = 65536;

// The STATUS of a reply, as a number on the wire.
enum class ReplyStatus : int {
  ok = 0,       // done; the payload is the command's output
  refused = 1,  // the payload is the IOS error (config::format_error())
  ended = 2,    // the session is over; the daemon closes the connection
  // Unsolicited: output of `debug …` for this session (IOS's terminal monitor), sent between
  // replies, never in place of one; its prompt is empty.
  monitor = 3,
};

// One reply: what happened, the prompt to show next, and the text to show.
struct Reply {
  ReplyStatus status = ReplyStatus::ok;
  std::string prompt;
  std::string payload;
};

// Where regfrontd listens unless told otherwise: /run/regfront/regfrontd.sock for root,
// /tmp/regfrontd-UID.sock for any other user (the effective user id of this process).
std::string default_control_socket();

// Where a client looks unless told otherwise: the packaged service's socket,
// /run/regfront/regfrontd.sock, when it exists (an operator in the regfront group need not
// name it) or cannot be looked at (anyone else is told "Permission denied" there), else
// default_control_socket().
std::string default_client_socket();

// A reply as it goes on the wire (daemon side): header line, then the payload.
std::string format_reply(const Reply& r);

// Reads one reply from the front of `buffer` (client side) into `out`: the number of bytes it
// took, 0 when `buffer` holds only part of a reply (read more and call again), or
// invalid_argument when the header is not "STATUS LENGTH PROMPT\n".
StatusOr<std::size_t> parse_reply(std::string_view buffer, Reply& out);
// Reads only the header line of a reply: its size (0 when the line is not all there yet),
// status and prompt in `out` (payload untouched) and the payload's LENGTH in `length`.
StatusOr<std::size_t> parse_reply_header(std::string_view buffer, Reply& out, std::size_t& length);

// The client end of one session.
class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects to the daemon's socket at `socket_path`. Failures: invalid_argument (the path is
  // too long for a UNIX socket), not_found (no socket there), unavailable (nobody accepts),
  // internal; the message is the system's ("Connection refused").
  Status connect(const std::string& socket_path);
  // Sends one request (`verb` and `line`, see above) and reads its reply. A failure means the
  // session is over: failed_precondition when not connected, unavailable when the connection
  // broke ("connection closed by regfrontd"), invalid_argument for a malformed reply.
  StatusOr<Reply> request(std::string_view verb, std::string_view line);
  // As request(), but the payload is not kept: `sink` gets it in pieces as they arrive, with
  // the reply's status and prompt (`head`, payload empty), so that a reply of any size costs a
  // read buffer here. The returned Reply is the head. `sink` is called at least once.
  using Sink = std::function<void(const Reply& head, std::string_view piece)>;
  StatusOr<Reply> request_streamed(std::string_view verb, std::string_view line, const Sink& sink);

  // Debug output (ReplyStatus::monitor) that arrives while request() waits goes to `fn`.
  void on_monitor(std::function<void(const std::string&)> fn) { on_monitor_ = std::move(fn); }
  // Waits up to `timeout_ms` for debug output and hands each to on_monitor(); false when the
  // connection is over. For a client idle at its prompt.
  bool poll_monitor(int timeout_ms);
  // The connection's descriptor (-1 when not connected), for a client that polls it beside its input.
  int fd() const { return fd_; }

 private:
  // Sends one request line. When sending fails, a whole reply the daemon sent before it closed
  // (too many sessions) is put in `early` and the failure is not returned.
  Status send_request(std::string_view verb, std::string_view line, std::optional<Reply>& early);

  std::function<void(const std::string&)> on_monitor_;
  int fd_ = -1;
  std::string buffer_;  // bytes read past the last reply
};

}  // namespace regfront::protocol
