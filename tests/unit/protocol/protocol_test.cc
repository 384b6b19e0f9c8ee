// regfront/protocol/protocol.h: the reply framing (a table, every truncated prefix of each
// reply, malformed headers) and the Client against a daemon stand-in on a temporary UNIX
// socket, which answers in pieces as a busy daemon's sends arrive.
#include "regfront/protocol/protocol.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace regfront::protocol {
namespace {

// ---- framing ----------------------------------------------------------------------------------

const Reply kReplies[] = {
    {ReplyStatus::ok, "Router#", ""},
    {ReplyStatus::ok, "Router(config-sip-ua)#", "registrar 1 dns:a.example.com\n"},
    {ReplyStatus::refused, "Router(config)#",
     "registrar 9 dns:x\n          ^\n% Invalid input detected at '^' marker.\n"},
    {ReplyStatus::ended, "", "bye"},
    {ReplyStatus::ok, "Router>", std::string("a\0b\n\n", 5)},  // payload bytes, not lines
};

TEST(Framing, FormatThenParseGivesTheReplyBack) {
  for (const Reply& r : kReplies) {
    const std::string wire = format_reply(r);
    Reply back;
    StatusOr<std::size_t> took = parse_reply(wire, back);
    ASSERT_TRUE(took.ok()) << took.status().message();
    EXPECT_EQ(*took, wire.size());
    EXPECT_EQ(back.status, r.status);
    EXPECT_EQ(back.prompt, r.prompt);
    EXPECT_EQ(back.payload, r.payload);
  }
  EXPECT_EQ(format_reply({ReplyStatus::refused, "R#", "% Incomplete command.\n"}),
            "1 22 R#\n% Incomplete command.\n");
}

TEST(Framing, EveryTruncatedPrefixAsksForMore) {
  for (const Reply& r : kReplies) {
    const std::string wire = format_reply(r);
    for (std::size_t n = 0; n < wire.size(); ++n) {
      Reply back;
      StatusOr<std::size_t> took = parse_reply(std::string_view(wire).substr(0, n), back);
      ASSERT_TRUE(took.ok()) << n << ": " << took.status().message();
      EXPECT_EQ(*took, 0u) << "prefix of " << n << " bytes of " << wire;
    }
  }
}

TEST(Framing, TwoRepliesInOneBufferAreReadOneAtATime) {
  const std::string wire = format_reply(kReplies[1]) + format_reply(kReplies[3]);
  Reply first, second;
  StatusOr<std::size_t> a = parse_reply(wire, first);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(first.payload, kReplies[1].payload);
  StatusOr<std::size_t> b = parse_reply(std::string_view(wire).substr(*a), second);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a + *b, wire.size());
  EXPECT_EQ(second.status, ReplyStatus::ended);
}

TEST(Framing, MalformedHeadersAreRefused) {
  for (const char* wire : {"\n", "x 0 R#\n", "4 0 R#\n", "-1 0 R#\n", "0 R#\n", "0 x R#\n", "0 0\n", "00\n",
                           " 0 0 R#\n", "0  0 R#\n"}) {
    Reply r;
    StatusOr<std::size_t> took = parse_reply(wire, r);
    ASSERT_FALSE(took.ok()) << wire;
    EXPECT_EQ(took.status().code(), StatusCode::invalid_argument);
    EXPECT_EQ(took.status().message(), "malformed reply from regfrontd");
  }
}

TEST(Framing, DefaultControlSocketDependsOnTheUser) {
  const std::string expected = ::geteuid() == 0
                                   ? "/run/regfront/regfrontd.sock"
                                   : "/tmp/regfrontd-" + std::to_string(::geteuid()) + ".sock";
  EXPECT_EQ(default_control_socket(), expected);
}

// ---- client -----------------------------------------------------------------------------------

// A listening UNIX socket in a fresh temporary directory; removed with it.
struct TempSocket {
  std::string dir, path;
  int fd = -1;
  TempSocket() {
    char tmpl[] = "/tmp/regfront-protocol-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    dir = tmpl;
    path = dir + "/s.sock";
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strcpy(sun.sun_path, path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || ::listen(fd, 1) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~TempSocket() {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

// Reads one request line from `fd`; empty when the peer went away.
std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1) {
    if (c == '\n') return line;
    line += c;
  }
  return {};
}

// Writes `text` a few bytes at a time, so the client must put replies together.
void write_in_pieces(int fd, const std::string& text) {
  for (std::size_t off = 0; off < text.size(); off += 3) {
    const std::size_t n = std::min<std::size_t>(3, text.size() - off);
    ASSERT_EQ(::write(fd, text.data() + off, n), static_cast<ssize_t>(n));
    std::this_thread::yield();
  }
}

TEST(Client, RequestsAndRepliesOverAUnixSocket) {
  TempSocket sock;
  ASSERT_GE(sock.fd, 0) << std::strerror(errno);
  std::vector<std::string> seen;
  std::thread daemon([&] {
    const int c = ::accept(sock.fd, nullptr, nullptr);
    ASSERT_GE(c, 0);
    seen.push_back(read_line(c));
    write_in_pieces(c, format_reply({ReplyStatus::ok, "Router#", ""}));
    seen.push_back(read_line(c));
    // Two replies in one write: the client keeps the second for the next request.
    const std::string two = format_reply({ReplyStatus::refused, "Router#", "% Incomplete command.\n"}) +
                            format_reply({ReplyStatus::ended, "Router#", ""});
    write_in_pieces(c, two);
    seen.push_back(read_line(c));
    ::close(c);  // the session ends
  });

  Client client;
  ASSERT_TRUE(client.connect(sock.path).ok());
  StatusOr<Reply> r = client.request("prompt", "");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, ReplyStatus::ok);
  EXPECT_EQ(r->prompt, "Router#");
  r = client.request("exec", "show");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, ReplyStatus::refused);
  EXPECT_EQ(r->payload, "% Incomplete command.\n");
  r = client.request("exec", "exit");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, ReplyStatus::ended);
  // The daemon closed the connection: the next request fails, it does not block.
  r = client.request("exec", "show");
  daemon.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::unavailable);
  EXPECT_EQ(seen, (std::vector<std::string>{"prompt", "exec show", "exec exit"}));
}

TEST(Client, ConnectFailuresSayWhy) {
  Client client;
  Status s = client.connect("/nonexistent-regfront-dir/regfrontd.sock");
  EXPECT_EQ(s.code(), StatusCode::not_found);
  EXPECT_EQ(s.message(), std::strerror(ENOENT));
  s = client.connect(std::string(200, 'x'));
  EXPECT_EQ(s.code(), StatusCode::invalid_argument);
  EXPECT_EQ(s.message(), "socket path too long");
  // A socket file nobody listens on any more.
  std::string stale;
  {
    TempSocket sock;
    ASSERT_GE(sock.fd, 0);
    stale = sock.path;
    ::close(sock.fd);
    sock.fd = -1;
    s = client.connect(stale);
    EXPECT_EQ(s.code(), StatusCode::unavailable);
    EXPECT_EQ(s.message(), std::strerror(ECONNREFUSED));
  }
  StatusOr<Reply> r = client.request("prompt", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::failed_precondition);
}

TEST(Client, MalformedReplyEndsTheRequest) {
  TempSocket sock;
  ASSERT_GE(sock.fd, 0);
  std::thread daemon([&] {
    const int c = ::accept(sock.fd, nullptr, nullptr);
    ASSERT_GE(c, 0);
    read_line(c);
    write_in_pieces(c, "ok\n");
    read_line(c);  // until the client goes
    ::close(c);
  });
  StatusOr<Reply> r = [&] {
    Client client;
    EXPECT_TRUE(client.connect(sock.path).ok());
    return client.request("prompt", "");
  }();
  daemon.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "malformed reply from regfrontd");
}

}  // namespace
}  // namespace regfront::protocol

namespace regfront::protocol {
namespace {

// Debug output (monitor frames, status 3) before and between replies: the client hands each to
// its callback, in order, and returns the reply that answers its request; poll_monitor() takes
// the frames that arrive while the client is idle and leaves a reply alone.
TEST(Client, MonitorFramesGoToTheCallbackNotForTheAnswer) {
  TempSocket sock;
  ASSERT_GE(sock.fd, 0);
  std::thread daemon([&] {
    const int c = ::accept(sock.fd, nullptr, nullptr);
    ASSERT_GE(c, 0);
    read_line(c);
    write_in_pieces(c, format_reply({ReplyStatus::monitor, "", "Sent:\nREGISTER a\n"}) +
                           format_reply({ReplyStatus::monitor, "", "Received:\nSIP/2.0 401\n"}) +
                           format_reply({ReplyStatus::ok, "Router#", "answer\n"}) +
                           format_reply({ReplyStatus::monitor, "", "later\n"}));
    read_line(c);  // until the client goes
    ::close(c);
  });
  {
    Client client;
    ASSERT_TRUE(client.connect(sock.path).ok());
    std::vector<std::string> seen;
    client.on_monitor([&](const std::string& t) { seen.push_back(t); });
    StatusOr<Reply> r = client.request("exec", "show debugging");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->payload, "answer\n");
    EXPECT_EQ(r->prompt, "Router#");
    EXPECT_EQ(seen, (std::vector<std::string>{"Sent:\nREGISTER a\n", "Received:\nSIP/2.0 401\n"}));
    for (int i = 0; i < 50 && seen.size() < 3; ++i) ASSERT_TRUE(client.poll_monitor(100));
    EXPECT_EQ(seen.back(), "later\n");
  }
  daemon.join();
  Reply bad;
  EXPECT_FALSE(parse_reply("4 0 x\n", bad).ok()) << "no status past monitor";
}

}  // namespace
}  // namespace regfront::protocol
