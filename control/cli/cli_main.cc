// regfront-cli — the operator's client of regfrontd's control socket.
//
//   regfront-cli [--socket PATH] -c "show sip-ua register status" [-c …]
//   regfront-cli [--socket PATH] < script           (one command per line)
//   regfront-cli [--socket PATH]                     (interactive, line editing and history)
//
// Each command is one request on a fresh connection; the daemon answers "0\n" (success) or
// "1\n" (refused) followed by the text. The exit status is non-zero when any command failed.
#include <editline/readline.h>
#include <getopt.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "daemon.h"

namespace {

// Sends one command; prints the answer. Returns 0 on success, 1 if refused, 2 if unreachable.
int run_command(const std::string& socket_path, const std::string& cmd) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, socket_path.c_str(), sizeof sun.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    std::fprintf(stderr, "%% regfrontd is not reachable at %s: %s\n", socket_path.c_str(), std::strerror(errno));
    ::close(fd);
    return 2;
  }
  const std::string line = cmd + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    ::close(fd);
    return 2;
  }
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (out.size() < 2) {
    std::fprintf(stderr, "%% no answer from regfrontd\n");
    return 2;
  }
  const bool ok = out[0] == '0';
  std::fwrite(out.data() + 2, 1, out.size() - 2, ok ? stdout : stderr);
  if (!ok && out.back() != '\n') std::fputc('\n', stderr);
  return ok ? 0 : 1;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path = regfront::daemon::default_control_socket();
  std::vector<std::string> commands;
  static const option longopts[] = {{"socket", required_argument, nullptr, 's'},
                                    {"command", required_argument, nullptr, 'c'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "s:c:h", longopts, nullptr)) != -1) {
    switch (c) {
      case 's': socket_path = optarg; break;
      case 'c': commands.emplace_back(optarg); break;
      case 'h':
        std::printf("usage: regfront-cli [--socket PATH] [-c COMMAND]...\n");
        return 0;
      default: return 2;
    }
  }
  int status = 0;
  if (!commands.empty()) {
    for (const auto& cmd : commands) status = std::max(status, run_command(socket_path, cmd));
    return status;
  }
  if (!::isatty(STDIN_FILENO)) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (blank(line) || line[0] == '!') continue;
      status = std::max(status, run_command(socket_path, line));
    }
    return status;
  }
  using_history();
  while (char* raw = readline("regfront# ")) {
    std::string line(raw);
    std::free(raw);
    if (blank(line)) continue;
    add_history(line.c_str());
    if (line == "exit" || line == "quit" || line == "end") break;
    run_command(socket_path, line);
  }
  return 0;
}
