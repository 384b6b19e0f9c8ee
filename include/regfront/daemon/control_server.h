// regfront/daemon/control_server.h — the control socket: a UNIX stream socket (mode 0660: root
// and the socket's group), one operator session per connection, requests and replies framed as
// regfront/protocol/protocol.h says. It knows nothing of IOS: each request goes to a Handler,
// which runs it in the connection's session (its CLI mode) and returns the reply.
//
//   ControlServer server(handler);
//   if (Status s = server.open("/run/regfront/regfrontd.sock"); !s.ok()) …;
//   for (;;) {
//     std::vector<pollfd> fds; server.add_pollfds(fds);  poll(…);
//     server.serve(fds.data());            // accept, read, dispatch, write, time out
//   }
//
// Every session is bounded (docs/config-limits.md): at most
// `max_sessions` at once (one more is told so and closed); a request is read only while the
// session's unsent output is under kOutputHighWater, so what it buffers is at most that plus one
// reply and one request line, however many requests a client sends without reading; a session
// with no progress either way (nothing read, nothing sent) for `idle_timeout_s` is closed — a
// client that stops reading its replies is one (a slow reader). accept() failing for lack of
// descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) pauses accepting for a second
// instead of waking poll() at once again. All of it is counted (Counters, `show control`).

#include <poll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/common/status.h"
#include "regfront/config/commands.h"
#include "regfront/protocol/protocol.h"

namespace regfront::daemon {

class ControlServer {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // One request of a session: `verb` is exec, help, complete, prompt or terminal; `line` the rest. The
    // handler may change the session (its mode); a reply with status `ended` closes it.
    virtual protocol::Reply handle(config::Session& session, std::string_view verb, std::string_view line) = 0;
    // The session is over (closed by either side, timed out); called once, before it goes.
    virtual void closed(const config::Session& /*session*/) {}
  };

  struct Limits {
    std::uint32_t max_sessions = 16;      // --control-sessions
    std::uint32_t idle_timeout_s = 600;   // --control-idle-timeout (IOS exec-timeout: 10 min)
  };
  // Unsent output under which a session's next request is read and run.
  static constexpr std::size_t kOutputHighWater = 64 * 1024;
  // accept() out of descriptors or memory: no accept for this long.
  static constexpr std::uint64_t kAcceptBackoffMs = 1000;

  // What the sessions did since start (single thread: the control loop's).
  struct Counters {
    std::uint64_t accepted = 0;           // sessions opened
    std::uint64_t refused_full = 0;       // connections refused: max_sessions were open
    std::uint64_t idle_timeouts = 0;      // sessions closed after idle_timeout_s, nothing pending
    std::uint64_t slow_readers = 0;       // … with replies pending the client did not read
    std::uint64_t lines_too_long = 0;     // sessions ended by a request over kMaxRequest
    std::uint64_t accept_errors = 0;      // accept() failures that paused accepting
    std::uint64_t monitor_dropped = 0;    // debug output not queued: the session's output was full
    std::size_t pending_output = 0;       // bytes of replies not yet sent, all sessions (gauge)
  };

  // `clock` returns milliseconds (monotonic); tests pass their own.
  explicit ControlServer(Handler& h) : ControlServer(h, Limits{}) {}
  ControlServer(Handler& h, Limits limits, std::function<std::uint64_t()> clock = {});
  // Closes every session and the socket, and removes the socket file.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the socket at `path` (its directory too, mode 0750), replacing a stale one.
  Status open(const std::string& path);

  // Appends the descriptors to watch: the listening socket, then one per session.
  void add_pollfds(std::vector<pollfd>& fds) const;
  // After poll(): `fds` points at the entries add_pollfds() appended, in the same order.
  void serve(const pollfd* fds);

  std::size_t sessions() const { return clients_.size(); }
  // Debug output and, for `terminal monitor` sessions, log lines (IOS's terminal monitor). The
  // session `i` (0..sessions()) as its commands left it, and `text` queued to it as a monitor
  // frame. A session whose unsent output is over
  // kMonitorHighWater gets nothing (counted, and told how many were lost with its next frame):
  // a slow reader costs the daemon at most that per session, and its commands still run.
  static constexpr std::size_t kMonitorHighWater = kOutputHighWater / 2;
  const config::Session& session(std::size_t i) const { return clients_[i]->session; }
  bool monitor(std::size_t i, std::string_view text);
  const Limits& limits() const { return limits_; }
  Counters counters() const;
  // True while accepting is paused after an accept() error (the listening socket is then left
  // out of add_pollfds()'s events).
  bool accept_paused() const { return now() < accept_resume_ms_; }

  // An open session as `show users` lists it: its line (the lowest number free when it
  // connected, as IOS gives out vty lines), the peer's credentials (SO_PEERCRED; -1 unknown)
  // and the time since its last request.
  struct SessionView {
    std::uint32_t line = 0;
    long uid = -1;
    long pid = -1;
    std::uint64_t idle_ms = 0;
    config::Mode mode = config::Mode::user_exec;
  };
  std::vector<SessionView> session_views() const;

 private:
  struct Client {
    int fd = -1;
    std::string in;
    std::string out;
    config::Session session;  // starts in user exec (set on accept)
    bool closing = false;      // close once `out` is sent
    bool peer_closed = false;
    bool closed = false;
    std::uint64_t last_progress_ms = 0;  // last byte read or sent
    std::uint64_t last_request_ms = 0;   // last request run (show users' Idle)
    long uid = -1, pid = -1;             // the peer (SO_PEERCRED)
    unsigned vty = 0;                    // its line number in session.origin
    std::uint64_t monitor_lost = 0;      // debug output dropped since its last monitor frame
  };
  void serve_client(Client& c, short revents);
  void dispatch(Client& c, const std::string& line);
  // Runs the complete request lines in `c.in` while its output is under the high-water mark.
  void run_requests(Client& c);
  bool wants_input(const Client& c) const;
  void accept_one();
  std::uint64_t now() const;

  Handler& handler_;
  Limits limits_;
  std::function<std::uint64_t()> clock_;
  Counters counters_;
  std::uint64_t accept_resume_ms_ = 0;
  std::string path_;
  int listen_fd_ = -1;
  std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace regfront::daemon
