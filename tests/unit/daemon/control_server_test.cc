// The control socket (daemon::ControlServer) over a real UNIX socket, with a handler that
// records what it is asked: framing, one session (mode) per connection, refusal of unknown
// requests, the socket's mode, and its removal.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "regfront/protocol/protocol.h"
#include "regfront/daemon/control_server.h"

namespace regfront::daemon {
namespace {

// Echoes the request; `enable` moves the session to privileged exec, `exit` ends it.
class EchoHandler : public ControlServer::Handler {
 public:
  protocol::Reply handle(config::Session& s, std::string_view verb, std::string_view line) override {
    ++calls;
    protocol::Reply r;
    if (line == "enable") s.mode = config::Mode::privileged_exec;
    if (line == "exit") r.status = protocol::ReplyStatus::ended;
    r.payload = std::string(verb) + ":" + std::string(line) + "\n";
    r.prompt = s.mode == config::Mode::privileged_exec ? "Router#" : "Router>";
    return r;
  }
  std::atomic<int> calls{0};
};

protocol::Reply request(protocol::Client& c, std::string_view verb, std::string_view line) {
  StatusOr<protocol::Reply> r = c.request(verb, line);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : protocol::Reply{};
}

class ServerThread {
 public:
  explicit ServerThread(ControlServer::Handler& h) : server_(h) {
    path_ = "/tmp/regfront-cs-test-" + std::to_string(::getpid()) + ".sock";
    const Status s = server_.open(path_);
    EXPECT_TRUE(s.ok()) << s.message();
    thread_ = std::thread([this] {
      std::vector<pollfd> fds;
      while (!stop_.load()) {
        fds.clear();
        server_.add_pollfds(fds);
        ::poll(fds.data(), fds.size(), 10);
        server_.serve(fds.data());
        sessions_.store(server_.sessions());
      }
    });
  }
  ~ServerThread() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& path() const { return path_; }
  std::size_t sessions() const { return sessions_.load(); }

 private:
  ControlServer server_;
  std::string path_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> sessions_{0};
  std::thread thread_;
};

TEST(ControlServer, RepliesAreFramedAndSessionsKeepTheirMode) {
  EchoHandler h;
  ServerThread st(h);
  struct stat sb {};
  ASSERT_EQ(::stat(st.path().c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0660u) << "root and the socket's group only";

  protocol::Client a, b;
  ASSERT_TRUE(a.connect(st.path()).ok());
  ASSERT_TRUE(b.connect(st.path()).ok());
  protocol::Reply r = request(a, "exec", "enable");
  EXPECT_EQ(r.status, protocol::ReplyStatus::ok);
  EXPECT_EQ(r.payload, "exec:enable\n");
  EXPECT_EQ(r.prompt, "Router#");
  r = request(b, "help", "show ");
  EXPECT_EQ(r.payload, "help:show \n");
  EXPECT_EQ(r.prompt, "Router>") << "the other connection is another session";
  r = request(a, "prompt", "");
  EXPECT_EQ(r.prompt, "Router#");
  r = request(a, "exec", "exit");
  EXPECT_EQ(r.status, protocol::ReplyStatus::ended);
  EXPECT_FALSE(a.request("exec", "show").ok()) << "the session ended: the connection is closed";
  EXPECT_EQ(h.calls.load(), 4);
}

TEST(ControlServer, AnUnknownRequestIsRefusedAndTheSessionClosed) {
  EchoHandler h;
  ServerThread st(h);
  protocol::Client c;
  ASSERT_TRUE(c.connect(st.path()).ok());
  const protocol::Reply r = request(c, "format", "flash:");
  EXPECT_EQ(r.status, protocol::ReplyStatus::refused);
  EXPECT_EQ(r.payload, "% Unknown request format\n");
  EXPECT_FALSE(c.request("exec", "show").ok());
  EXPECT_EQ(h.calls.load(), 0) << "never reached the handler";
}

TEST(ControlServer, TheSocketFileGoesAwayWithTheServer) {
  EchoHandler h;
  std::string path;
  {
    ServerThread st(h);
    path = st.path();
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(ControlServer, APathTooLongIsRefused) {
  EchoHandler h;
  ControlServer s(h);
  const Status st = s.open("/tmp/" + std::string(200, 'x'));
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace regfront::daemon
