// regfront/daemon/control_server.h — the control socket: a UNIX stream socket (mode 0660: root
// and the socket's group), one operator session per connection, requests and replies framed as
// regfront/protocol/protocol.h says. It knows nothing of IOS: each request goes to a Handler,
// which runs it in the connection's session (its CLI mode) and returns the reply.
//
//   ControlServer server(handler);
//   if (Status s = server.open("/run/regfront/regfrontd.sock"); !s.ok()) …;
//   for (;;) {
//     std::vector<pollfd> fds; server.add_pollfds(fds);  poll(…);
//     server.serve(fds.data());            // accept, read, dispatch, write
//   }
#pragma once

#include <poll.h>

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
    // One request of a session: `verb` is exec, help, complete or prompt; `line` the rest. The
    // handler may change the session (its mode); a reply with status `ended` closes it.
    virtual protocol::Reply handle(config::Session& session, std::string_view verb, std::string_view line) = 0;
  };

  explicit ControlServer(Handler& h) : handler_(h) {}
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

 private:
  struct Client {
    int fd = -1;
    std::string in;
    std::string out;
    config::Session session;  // starts in user exec (set on accept)
    bool closing = false;      // close once `out` is sent
    bool peer_closed = false;
    bool closed = false;
  };
  void serve_client(Client& c, short revents);
  void dispatch(Client& c, const std::string& line);

  Handler& handler_;
  std::string path_;
  int listen_fd_ = -1;
  std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace regfront::daemon
