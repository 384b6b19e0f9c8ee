// The control socket (daemon::ControlServer) over a real UNIX socket, with a handler that
// records what it is asked: framing, one session (mode) per connection, refusal of unknown
// requests, the socket's mode, and its removal.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <mutex>
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
  explicit ServerThread(ControlServer::Handler& h, ControlServer::Limits limits = {},
                        std::atomic<std::uint64_t>* clock = nullptr,
                        std::function<void(ControlServer&)> each_loop = {})
      : server_(h, limits,
                clock ? std::function<std::uint64_t()>([clock] { return clock->load(); })
                      : std::function<std::uint64_t()>()),
        each_loop_(std::move(each_loop)) {
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
        if (each_loop_) each_loop_(server_);
        sessions_.store(server_.sessions());
        std::lock_guard<std::mutex> lock(mu_);
        counters_ = server_.counters();
      }
    });
  }
  ~ServerThread() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& path() const { return path_; }
  std::size_t sessions() const { return sessions_.load(); }
  ControlServer::Counters counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
  }

 private:
  mutable std::mutex mu_;
  ControlServer::Counters counters_;
  ControlServer server_;
  std::function<void(ControlServer&)> each_loop_;
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

// Waits (bounded) until `pred` holds; the tests assert on what happened, never on how long.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 2000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

int raw_connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) return -1;
  return fd;
}

// Answers every request with a reply of `size` bytes (a large show command).
class BigReplyHandler : public ControlServer::Handler {
 public:
  explicit BigReplyHandler(std::size_t size) : size_(size) {}
  protocol::Reply handle(config::Session&, std::string_view, std::string_view) override {
    ++calls;
    protocol::Reply r;
    r.payload.assign(size_, 'x');
    return r;
  }
  std::atomic<int> calls{0};

 private:
  std::size_t size_;
};

TEST(ControlServer, AtMostMaxSessionsTheNextIsToldSoAndCounted) {
  EchoHandler h;
  ServerThread st(h, ControlServer::Limits{2, 600});
  protocol::Client a, b, c;
  ASSERT_TRUE(a.connect(st.path()).ok());
  ASSERT_TRUE(b.connect(st.path()).ok());
  EXPECT_EQ(request(a, "exec", "x").status, protocol::ReplyStatus::ok);
  EXPECT_EQ(request(b, "exec", "x").status, protocol::ReplyStatus::ok);
  ASSERT_TRUE(c.connect(st.path()).ok());
  StatusOr<protocol::Reply> r = c.request("exec", "show");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, protocol::ReplyStatus::refused);
  EXPECT_EQ(r->payload, "% Too many control sessions (2 at most); try again later\n");
  EXPECT_TRUE(eventually([&] { return st.counters().refused_full == 1; }));
  EXPECT_EQ(st.sessions(), 2u);
  EXPECT_EQ(h.calls.load(), 2) << "the refused session ran nothing";
  EXPECT_FALSE(c.request("exec", "show").ok()) << "and was closed";
  // A session that ends makes room.
  EXPECT_EQ(request(a, "exec", "exit").status, protocol::ReplyStatus::ended);
  ASSERT_TRUE(eventually([&] { return st.sessions() == 1; }));
  protocol::Client d;
  ASSERT_TRUE(d.connect(st.path()).ok());
  EXPECT_EQ(request(d, "exec", "x").status, protocol::ReplyStatus::ok);
  EXPECT_EQ(st.counters().accepted, 3u);
}

TEST(ControlServer, AClientThatNeverReadsIsBoundedThenDisconnected) {
  // 200 requests for a 1 MiB reply each, never read: before, the server ran all 200 and held
  // 200 MiB for this one client. Now it runs a request only while the session's unsent output
  // is under the high-water mark, and drops the session when nothing moves for the timeout.
  constexpr std::size_t kReply = 1 << 20;
  BigReplyHandler h(kReply);
  std::atomic<std::uint64_t> clock{1000000};
  ServerThread st(h, ControlServer::Limits{16, 60}, &clock);
  const int fd = raw_connect(st.path());
  ASSERT_GE(fd, 0);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  const std::string req = "exec show sip-ua register status\n";
  // The server stops reading once a request waits: the kernel buffer then fills up and the
  // client cannot even send them all (a send would block: it stops there).
  int sent = 0;
  std::string all;
  for (int i = 0; i < 200; ++i) all += req;
  for (std::size_t off = 0; off < all.size();) {
    const ssize_t n = ::send(fd, all.data() + off, all.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) {
      // Give the server the time to take more, were it to read on; then stop.
      if (h.calls.load() >= 1 && sent > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++sent;
      continue;
    }
    ASSERT_GT(n, 0) << std::strerror(errno);
    off += static_cast<std::size_t>(n);
  }
  ASSERT_TRUE(eventually([&] { return h.calls.load() >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it run more, were it to
  const ControlServer::Counters c = st.counters();
  EXPECT_EQ(h.calls.load(), 1) << "requests ran with a whole reply unsent";
  EXPECT_LE(c.pending_output, ControlServer::kOutputHighWater + kReply + 64)
      << "one reply at most waits for a client that does not read";
  EXPECT_EQ(st.sessions(), 1u);
  // Nothing moves for the idle timeout: the session goes, counted as a slow reader.
  clock += 61 * 1000;
  ASSERT_TRUE(eventually([&] { return st.sessions() == 0; }));
  EXPECT_EQ(st.counters().slow_readers, 1u);
  EXPECT_EQ(st.counters().idle_timeouts, 0u);
  EXPECT_EQ(st.counters().pending_output, 0u);
  ::close(fd);
}

TEST(ControlServer, DebugOutputToASlowReaderIsBoundedCountedAndToldAndItsCommandsStillRun) {
  // The control loop queues debug output (monitor frames) to every session as fast as it can;
  // the client does not read for a while.
  EchoHandler h;
  std::atomic<bool> flood{false};
  std::atomic<std::uint64_t> queued{0};
  ServerThread st(h, {}, nullptr, [&](ControlServer& server) {
    if (!flood.load()) return;
    for (std::size_t i = 0; i < server.sessions(); ++i) {
      for (int k = 0; k < 100; ++k) queued += server.monitor(i, std::string(1000, 'm') + "\n") ? 1 : 0;
    }
  });
  protocol::Client c;
  ASSERT_TRUE(c.connect(st.path()).ok());
  EXPECT_EQ(request(c, "exec", "enable").payload, "exec:enable\n");
  flood = true;
  ASSERT_TRUE(eventually([&] { return st.counters().monitor_dropped > 10000; }));
  EXPECT_LE(st.counters().pending_output, ControlServer::kMonitorHighWater + 1100)
      << "what a session that does not read holds is bounded";
  flood = false;
  const std::uint64_t dropped = st.counters().monitor_dropped;
  // The client reads again: the frames come before its reply; a frame that follows drops says
  // how many were lost before it ("%N debug messages lost …"), so the lines add up to at most
  // the drops counted.
  std::size_t frames = 0;
  std::uint64_t told = 0;
  std::string lost_line;
  c.on_monitor([&](const std::string& text) {
    ++frames;
    if (!text.starts_with("%")) return;
    lost_line = text.substr(0, text.find('\n'));
    told += std::stoull(lost_line.substr(1));
  });
  EXPECT_EQ(request(c, "exec", "show").payload, "exec:show\n") << "its commands run meanwhile";
  EXPECT_GT(frames, 0u);
  EXPECT_TRUE(lost_line.ends_with("debug messages lost (this session read too slowly)")) << lost_line;
  EXPECT_GT(told, 0u);
  EXPECT_LE(told, dropped);
  EXPECT_EQ(st.sessions(), 1u) << "not disconnected for it";
}

TEST(ControlServer, AReaderThatKeepsUpGetsEveryReply) {
  // The same 1 MiB replies, read as they come: all of them, in order, no session closed.
  constexpr std::size_t kReply = 1 << 20;
  BigReplyHandler h(kReply);
  ServerThread st(h);
  protocol::Client c;
  ASSERT_TRUE(c.connect(st.path()).ok());
  for (int i = 0; i < 20; ++i) {
    const protocol::Reply r = request(c, "exec", "show");
    ASSERT_EQ(r.payload.size(), kReply);
  }
  EXPECT_EQ(h.calls.load(), 20);
  EXPECT_EQ(st.counters().slow_readers, 0u);
}

TEST(ControlServer, AnIdleSessionIsClosedAfterTheTimeoutAnActiveOneIsNot) {
  EchoHandler h;
  std::atomic<std::uint64_t> clock{1000000};
  ServerThread st(h, ControlServer::Limits{16, 30}, &clock);
  protocol::Client idle, busy;
  ASSERT_TRUE(idle.connect(st.path()).ok());
  ASSERT_TRUE(busy.connect(st.path()).ok());
  EXPECT_EQ(request(idle, "exec", "x").status, protocol::ReplyStatus::ok);
  for (int i = 0; i < 4; ++i) {
    clock += 10 * 1000;  // 40 s in all, a request every 10 s
    EXPECT_EQ(request(busy, "exec", "x").status, protocol::ReplyStatus::ok);
  }
  ASSERT_TRUE(eventually([&] { return st.counters().idle_timeouts == 1; }));
  EXPECT_EQ(st.sessions(), 1u);
  EXPECT_FALSE(idle.request("exec", "x").ok()) << "the idle session was closed";
  EXPECT_EQ(request(busy, "exec", "x").status, protocol::ReplyStatus::ok);
  EXPECT_EQ(st.counters().slow_readers, 0u);
}

TEST(ControlServer, AcceptOutOfDescriptorsBacksOffInsteadOfSpinning) {
  // No thread here: the test drives poll() and serve() itself and lowers its own descriptor
  // limit until accept() fails with EMFILE.
  EchoHandler h;
  std::uint64_t now = 1000000;
  ControlServer server(h, ControlServer::Limits{}, [&now] { return now; });
  const std::string path = "/tmp/regfront-cs-emfile-" + std::to_string(::getpid()) + ".sock";
  ASSERT_TRUE(server.open(path).ok());
  const int client = raw_connect(path);  // waits in the backlog
  ASSERT_GE(client, 0);

  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  std::vector<int> filler;
  rlimit low = before;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);
  ASSERT_EQ(errno, EMFILE);

  std::vector<pollfd> fds;
  server.add_pollfds(fds);
  ASSERT_EQ(::poll(fds.data(), fds.size(), 1000), 1) << "the pending connection";
  server.serve(fds.data());
  const ControlServer::Counters c = server.counters();
  EXPECT_EQ(c.accept_errors, 1u);
  EXPECT_TRUE(server.accept_paused());
  EXPECT_EQ(server.sessions(), 0u);
  // Paused: poll() no longer reports the pending connection, so the loop sleeps its timeout
  // instead of waking at once (before: POLLIN again and again, 100 % CPU).
  for (int i = 0; i < 3; ++i) {
    fds.clear();
    server.add_pollfds(fds);
    EXPECT_EQ(fds[0].events, 0);
    EXPECT_EQ(::poll(fds.data(), fds.size(), 0), 0);
    server.serve(fds.data());
  }
  EXPECT_EQ(server.counters().accept_errors, 1u) << "no accept() tried while paused";

  for (const int fd : filler) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &before), 0);
  now += ControlServer::kAcceptBackoffMs;
  EXPECT_FALSE(server.accept_paused());
  fds.clear();
  server.add_pollfds(fds);
  ASSERT_EQ(::poll(fds.data(), fds.size(), 1000), 1);
  server.serve(fds.data());
  EXPECT_EQ(server.sessions(), 1u) << "accepting resumed";
  ::close(client);
}

TEST(ControlServer, APathThatIsNotASocketIsLeftAlone) {
  EchoHandler h;
  const std::string path = "/tmp/regfront-cs-file-" + std::to_string(::getpid());
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("hostname Router\n", f);
    std::fclose(f);
  }
  {
    ControlServer s(h);
    const Status st = s.open(path);
    EXPECT_EQ(st.code(), StatusCode::already_exists) << st.message();
  }
  EXPECT_EQ(::access(path.c_str(), F_OK), 0) << "a file given as --control-socket was deleted";
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace regfront::daemon

namespace regfront::daemon {
namespace {

// Answers with the session's line number (show users' Line).
class LineHandler : public ControlServer::Handler {
 public:
  protocol::Reply handle(config::Session& s, std::string_view verb, std::string_view line) override {
    protocol::Reply r;
    if (line == "exit") r.status = protocol::ReplyStatus::ended;
    r.payload = std::string(verb) + " " + std::to_string(s.line);
    return r;
  }
};

TEST(ControlServer, EachSessionHasTheLowestFreeLineAndTheTerminalRequest) {
  LineHandler h;
  ServerThread st(h);
  protocol::Client a, b;
  ASSERT_TRUE(a.connect(st.path()).ok());
  EXPECT_EQ(request(a, "exec", "x").payload, "exec 0");
  ASSERT_TRUE(b.connect(st.path()).ok());
  EXPECT_EQ(request(b, "terminal", "").payload, "terminal 1") << "terminal is a request of the protocol";
  EXPECT_EQ(request(a, "exec", "exit").status, protocol::ReplyStatus::ended);
  ASSERT_TRUE(eventually([&] { return st.sessions() == 1; }));
  protocol::Client c;
  ASSERT_TRUE(c.connect(st.path()).ok());
  EXPECT_EQ(request(c, "exec", "x").payload, "exec 0") << "line 0 was free again";
}

TEST(ControlServer, AStreamedReplyComesInBoundedPiecesAndKeepsTheFraming) {
  constexpr std::size_t kSize = 10u << 20;
  BigReplyHandler h(kSize);
  ServerThread st(h);
  protocol::Client c;
  ASSERT_TRUE(c.connect(st.path()).ok());
  for (int round = 0; round < 2; ++round) {
    std::size_t total = 0, largest = 0, calls = 0;
    bool only_x = true;
    StatusOr<protocol::Reply> r =
        c.request_streamed("exec", "show", [&](const protocol::Reply& head, std::string_view piece) {
          EXPECT_EQ(head.status, protocol::ReplyStatus::ok);
          EXPECT_TRUE(head.payload.empty());
          total += piece.size();
          largest = std::max(largest, piece.size());
          only_x = only_x && piece.find_first_not_of('x') == std::string_view::npos;
          ++calls;
        });
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(total, kSize);
    EXPECT_LE(largest, 65536u) << "no piece is the whole reply";
    EXPECT_GT(calls, 1u);
    EXPECT_TRUE(only_x);
  }
  // The same connection still frames plain requests.
  StatusOr<protocol::Reply> r = c.request("exec", "show");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload.size(), kSize);
}

}  // namespace
}  // namespace regfront::daemon
