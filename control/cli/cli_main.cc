// regfront-cli — the operator's shell: one session on regfrontd's control socket.
//
//   regfront-cli [--socket PATH] -c "conf t" -c "sip-ua" -c "no registrar 2"   (in order)
//   regfront-cli [--socket PATH] < script           (one command per line, one session)
//   regfront-cli [--socket PATH]                     (interactive: libedit, IOS keys)
//
// The session protocol is regfront/protocol/protocol.h: the daemon keeps the IOS mode and owns
// the grammar; this client only sends lines (`exec`), `?` (`help`) and TAB (`complete`) and
// shows what comes back. Output of accepted commands goes to stdout, IOS errors to stderr.
// Exit status: 0 when every command was accepted, 1 when one was refused, 2 when the daemon
// could not be reached or the connection broke (or on a usage error).
//
// Interactive keys: `?` help for the input up to the cursor (printed below it, the input is
// kept and `?` is not inserted), TAB completion of the word before the cursor, Ctrl-Z = `end`,
// Ctrl-C drops the line, Ctrl-D on an empty line leaves. History is kept in memory only: a
// history file would hold the passwords typed in `credentials`/`authentication` commands.
// On a terminal, output pauses at ` --More-- ` by the session's `terminal length` (see the
// paging section below), and `configure` alone asks where from, as IOS does.
#include <getopt.h>
#include <histedit.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cwchar>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pager.h"
#include "regfront/protocol/protocol.h"

namespace {

using regfront::protocol::Client;
using regfront::protocol::Reply;
using regfront::protocol::ReplyStatus;

constexpr int kExitRefused = 1;
constexpr int kExitConnection = 2;

void print_payload(const std::string& text, std::FILE* to) {
  std::fwrite(text.data(), 1, text.size(), to);
  if (!text.empty() && text.back() != '\n') std::fputc('\n', to);
  std::fflush(to);
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

// ---- non-interactive: -c commands or a script on standard input ----

// Runs the lines `next` yields, in order, in one session. Stops when the session ends or the
// connection breaks.
template <typename NextLine>
int run_batch(Client& client, NextLine next) {
  int status = 0;
  for (std::string line; next(line);) {
    if (blank(line)) continue;
    // The output is written as it arrives: a show of any size costs a read buffer here.
    char last = '\n';
    std::FILE* to = stdout;
    regfront::StatusOr<Reply> r =
        client.request_streamed("exec", line, [&](const Reply& head, std::string_view piece) {
          to = head.status == ReplyStatus::refused ? stderr : stdout;
          if (piece.empty()) return;
          std::fwrite(piece.data(), 1, piece.size(), to);
          last = piece.back();
        });
    if (!r.ok()) {
      std::fflush(stdout);
      std::fprintf(stderr, "%% regfrontd: %s\n", r.status().message().c_str());
      return kExitConnection;
    }
    if (last != '\n') std::fputc('\n', to);
    std::fflush(to);
    if (r->status == ReplyStatus::refused) status = kExitRefused;
    if (r->status == ReplyStatus::ended) break;
  }
  return status;
}

// ---- interactive ----

struct Shell {
  Client& client;
  std::string prompt;
  bool lost = false;  // the connection broke inside a key binding
  bool at_prompt = false;      // reading the operator's keys (debug output goes above the line)
  bool monitor_shown = false;  // debug output was printed since the line was last drawn
};

Shell& shell_of(EditLine* el) {
  void* p = nullptr;
  el_get(el, EL_CLIENTDATA, &p);
  return *static_cast<Shell*>(p);
}

char* prompt_fn(EditLine* el) { return shell_of(el).prompt.data(); }

// Sends one request from inside a key binding; false (and the error shown) when the
// connection is gone.
bool ask(Shell& sh, std::string_view verb, std::string_view line, Reply& r) {
  regfront::StatusOr<Reply> got = sh.client.request(verb, line);
  if (got.ok()) {
    r = std::move(*got);
    if (!r.prompt.empty()) sh.prompt = r.prompt;
    return true;
  }
  std::fprintf(stdout, "\n%% regfrontd: %s\n", got.status().message().c_str());
  std::fflush(stdout);
  sh.lost = true;
  return false;
}

// The input from the start of the line to the cursor.
std::string before_cursor(EditLine* el) {
  const LineInfo* li = el_line(el);
  return std::string(li->buffer, static_cast<std::size_t>(li->cursor - li->buffer));
}

// `?`: the daemon's help for the input so far, printed under it; the input stays as it was.
unsigned char on_help(EditLine* el, int) {
  Shell& sh = shell_of(el);
  const std::string line = before_cursor(el);
  Reply r;
  std::fputs("?\n", stdout);
  if (!ask(sh, "help", line, r)) return CC_EOF;
  print_payload(r.payload, stdout);
  return CC_REDISPLAY;
}

// TAB: the word before the cursor replaced by the daemon's completion of it.
unsigned char on_complete(EditLine* el, int) {
  Shell& sh = shell_of(el);
  const std::string line = before_cursor(el);
  Reply r;
  if (!ask(sh, "complete", line, r)) return CC_EOF;
  if (r.status != ReplyStatus::ok || r.payload == line) return CC_REFRESH_BEEP;
  el_deletestr(el, static_cast<int>(line.size()));
  el_insertstr(el, r.payload.c_str());
  return CC_REFRESH;
}

// Ctrl-Z: `end`, whatever was typed; the screen shows "^Z" after the input, as on IOS.
unsigned char on_ctrl_z(EditLine* el, int) {
  const LineInfo* li = el_line(el);
  el_cursor(el, static_cast<int>(li->lastchar - li->cursor));
  el_deletestr(el, static_cast<int>(li->lastchar - li->buffer));
  el_insertstr(el, "end");
  std::fputs("^Z\n", stdout);
  std::fflush(stdout);
  return CC_NEWLINE;
}

// Ctrl-C: abandon the line, as IOS does, and start a fresh one.
unsigned char on_ctrl_c(EditLine* el, int) {
  const LineInfo* li = el_line(el);
  el_cursor(el, static_cast<int>(li->lastchar - li->cursor));
  el_deletestr(el, static_cast<int>(li->lastchar - li->buffer));
  std::fputs("^C\n", stdout);
  std::fflush(stdout);
  return CC_REDISPLAY;
}

// An invalid-input error echoes the line above its '^' marker (for scripts and logs). On a
// terminal the line is already on screen after the prompt: drop the echo and move the marker
// right by the prompt's width so that it points into the line as typed, as IOS shows it.
std::string for_terminal(const std::string& payload, const std::string& line, const std::string& prompt) {
  const std::string echo = line + "\n";
  if (payload.compare(0, echo.size(), echo) != 0) return payload;
  const std::size_t marker_end = payload.find('\n', echo.size());
  if (marker_end == std::string::npos) return payload;
  const std::string_view marker(payload.data() + echo.size(), marker_end - echo.size());
  if (marker.empty() || marker.back() != '^' || !blank(marker.substr(0, marker.size() - 1))) return payload;
  return std::string(prompt.size(), ' ') + payload.substr(echo.size());
}

// ---- paging (--More--) ----
//
// On a terminal a command's output goes through a Pager (pager.h) with the session's
// `terminal length`/`width`, asked of the daemon before each command (the `terminal` request):
// the output is shown as it arrives from the socket, so a show of any size costs a read buffer,
// and a stopped one is read to its end and dropped. Output that is not a terminal never pauses.

// One key at the --More-- prompt, read raw (no echo, no line editing), as IOS takes it.
regfront::cli::Pager::More ask_more() {
  using More = regfront::cli::Pager::More;
  std::fputs(" --More-- ", stdout);
  std::fflush(stdout);
  termios saved{};
  const bool tty = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    termios raw = saved;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  char key = 0;
  ssize_t n;
  while ((n = ::read(STDIN_FILENO, &key, 1)) < 0 && errno == EINTR) {
  }
  if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  std::fputs("\r          \r", stdout);  // the prompt erased, as IOS backs over it
  if (n != 1) return More::quit;
  if (key == ' ') return More::page;
  if (key == '\r' || key == '\n') return More::line;
  return More::quit;  // q, Ctrl-C or any other key
}

// The session's "LENGTH WIDTH" (0 0, no paging, when the daemon does not say).
bool terminal_size(Client& client, unsigned& length, unsigned& width) {
  length = width = 0;
  regfront::StatusOr<Reply> r = client.request("terminal", "");
  if (!r.ok()) return false;
  if (r->status == ReplyStatus::ok) std::sscanf(r->payload.c_str(), "%u %u", &length, &width);
  return true;
}

// Runs one exec line with its output paged to stdout (`length` 0: not paged); a refusal's
// text (short: the daemon's error) is returned in `refusal` instead.
regfront::StatusOr<Reply> exec_paged(Client& client, const std::string& line, unsigned length, unsigned width,
                                     std::string& refusal) {
  constexpr std::size_t kMaxRefusal = 64 * 1024;
  char last = '\n';
  regfront::cli::Pager pager(
      length, width,
      [&](std::string_view s) {
        if (s.empty()) return;
        std::fwrite(s.data(), 1, s.size(), stdout);
        last = s.back();
      },
      ask_more);
  regfront::StatusOr<Reply> r =
      client.request_streamed("exec", line, [&](const Reply& head, std::string_view piece) {
        if (head.status == ReplyStatus::refused) {
          refusal.append(piece.substr(0, kMaxRefusal - std::min(kMaxRefusal, refusal.size())));
        } else {
          pager.feed(piece);
        }
      });
  if (last != '\n' && !pager.stopped()) std::fputc('\n', stdout);
  std::fflush(stdout);
  return r;
}

// `configure` alone at the privileged prompt: IOS asks where from. Enter or `terminal` (any
// abbreviation) configures from the terminal; the line to send instead of `line`, or empty
// when the operator named a source regfront has not (the reason is printed).
bool bare_configure(const std::string& line, const std::string& prompt) {
  if (prompt.empty() || prompt.back() != '#' || prompt.find('(') != std::string::npos) return false;
  const std::size_t b = line.find_first_not_of(" \t");
  const std::size_t e = line.find_last_not_of(" \t");
  if (b == std::string::npos) return false;
  const std::string word = line.substr(b, e - b + 1);
  return word.size() >= 3 && std::string_view("configure").starts_with(word);
}

std::string ask_configure_source() {
  std::fputs("Configuring from terminal, memory, or network [terminal]? ", stdout);
  std::fflush(stdout);
  std::string answer;
  for (char ch; answer.size() < 256;) {
    const ssize_t n = ::read(STDIN_FILENO, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || ch == '\n' || ch == '\r') break;
    answer.push_back(ch);
  }
  const std::size_t b = answer.find_first_not_of(" \t");
  answer = b == std::string::npos ? std::string() : answer.substr(b, answer.find_last_not_of(" \t") - b + 1);
  if (answer.empty() || std::string_view("terminal").starts_with(answer)) return "configure terminal";
  if (std::string_view("memory").starts_with(answer) || std::string_view("network").starts_with(answer)) {
    std::fputs("% Only configuration from the terminal is supported (copy running-config startup-config saves it)\n",
               stderr);
  } else {
    std::fputs("?Must be \"terminal\", \"memory\" or \"network\"\n", stderr);
  }
  return {};
}

// Debug output while the operator sits at the prompt (IOS's console): the keys are read here, a
// byte at a time, while the control socket is watched too; debug output is printed on lines of
// its own and the prompt with what was typed is drawn again under it.
int read_key_or_debug(EditLine* el, wchar_t* out) {
  Shell& sh = shell_of(el);
  static std::mbstate_t state{};
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {sh.client.fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (fds[1].revents != 0) {
      sh.at_prompt = true;
      sh.monitor_shown = false;
      const bool open = sh.client.poll_monitor(0);
      sh.at_prompt = false;
      if (sh.monitor_shown) el_set(el, EL_REFRESH);
      if (!open) {
        sh.lost = true;
        return 0;  // the daemon closed the session: end of input
      }
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    char c;
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0 ? 0 : -1;
    wchar_t wc;
    const std::size_t r = std::mbrtowc(&wc, &c, 1, &state);
    if (r == static_cast<std::size_t>(-2)) continue;  // more bytes of one character
    if (r == static_cast<std::size_t>(-1)) {
      state = std::mbstate_t{};
      wc = static_cast<unsigned char>(c);
    }
    *out = wc;
    return 1;
  }
}

int run_interactive(Client& client) {
  Shell sh{client, {}};
  client.on_monitor([&sh](const std::string& text) {
    if (sh.at_prompt && !sh.monitor_shown) std::fputc('\n', stdout);  // off the line being typed
    sh.monitor_shown = true;
    print_payload(text, stdout);
  });
  Reply r;
  if (!ask(sh, "prompt", "", r)) return kExitConnection;

  EditLine* el = el_init("regfront-cli", stdin, stdout, stderr);
  History* hist = history_init();
  HistEvent ev;
  history(hist, &ev, H_SETSIZE, 1000);
  history(hist, &ev, H_SETUNIQUE, 1);
  el_set(el, EL_CLIENTDATA, &sh);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_SIGNAL, 1);
  el_set(el, EL_HIST, history, hist);
  el_set(el, EL_PROMPT, prompt_fn);
  // Ctrl-Z and Ctrl-C are keys of the shell, not job control: no signals while editing.
  el_set(el, EL_SETTY, "-d", "-isig", nullptr);
  el_set(el, EL_ADDFN, "regfront-help", "IOS context help", on_help);
  el_set(el, EL_ADDFN, "regfront-complete", "complete the word", on_complete);
  el_set(el, EL_ADDFN, "regfront-end", "end (Ctrl-Z)", on_ctrl_z);
  el_set(el, EL_ADDFN, "regfront-abort", "drop the line", on_ctrl_c);
  el_set(el, EL_BIND, "?", "regfront-help", nullptr);
  el_set(el, EL_BIND, "^I", "regfront-complete", nullptr);
  el_set(el, EL_BIND, "^Z", "regfront-end", nullptr);
  el_set(el, EL_BIND, "^C", "regfront-abort", nullptr);
  el_set(el, EL_GETCFN, read_key_or_debug);

  int status = 0;
  const bool paging = ::isatty(STDOUT_FILENO) != 0;
  for (;;) {
    const std::string shown_prompt = sh.prompt;
    int count = 0;
    const char* raw = el_gets(el, &count);
    if (raw == nullptr || count <= 0 || sh.lost) {
      if (!sh.lost) std::fputc('\n', stdout);  // Ctrl-D: leave on a fresh line
      break;
    }
    std::string line(raw, static_cast<std::size_t>(count));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (blank(line)) continue;
    history(hist, &ev, H_ENTER, line.c_str());
    if (bare_configure(line, shown_prompt)) {
      line = ask_configure_source();
      if (line.empty()) continue;
    }
    unsigned length = 0, width = 0;
    if (paging && !terminal_size(client, length, width)) {
      status = kExitConnection;
      break;
    }
    std::string refusal;
    regfront::StatusOr<Reply> got = exec_paged(client, line, length, width, refusal);
    if (!got.ok()) {
      std::fprintf(stdout, "%% regfrontd: %s\n", got.status().message().c_str());
      status = kExitConnection;
      break;
    }
    r = std::move(*got);
    if (!r.prompt.empty()) sh.prompt = r.prompt;
    if (r.status == ReplyStatus::refused) print_payload(for_terminal(refusal, line, shown_prompt), stderr);
    if (r.status == ReplyStatus::ended) break;
  }
  if (sh.lost) status = kExitConnection;
  history_end(hist);
  el_end(el);
  return status;
}

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: regfront-cli [--socket PATH] [-c COMMAND]...\n"
               "  -s, --socket PATH   regfrontd's control socket (default %s)\n"
               "  -c, --command CMD   run CMD (repeatable, in order, in one session)\n"
               "Without -c, runs the lines of standard input, or an interactive shell on a terminal.\n",
               regfront::protocol::default_client_socket().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path = regfront::protocol::default_client_socket();
  std::vector<std::string> commands;
  static const option longopts[] = {{"socket", required_argument, nullptr, 's'},
                                    {"command", required_argument, nullptr, 'c'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "s:c:h", longopts, nullptr)) != -1) {
    switch (c) {
      case 's': socket_path = optarg; break;
      case 'c':  // one request is one line: a multi-line argument is several commands
        for (std::string_view arg = optarg;;) {
          const auto nl = arg.find('\n');
          commands.emplace_back(arg.substr(0, nl));
          if (nl == std::string_view::npos) break;
          arg.remove_prefix(nl + 1);
        }
        break;
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return kExitConnection;
    }
  }
  if (optind < argc) {
    usage(stderr);
    return kExitConnection;
  }

  Client client;
  if (const regfront::Status s = client.connect(socket_path); !s.ok()) {
    std::fprintf(stderr, "%% regfrontd is not reachable at %s: %s\n", socket_path.c_str(), s.message().c_str());
    return kExitConnection;
  }
  // debug output (the daemon's monitor frames) arriving with a reply is printed before it.
  client.on_monitor([](const std::string& text) { print_payload(text, stdout); });
  if (!commands.empty()) {
    std::size_t i = 0;
    return run_batch(client, [&](std::string& line) { return i < commands.size() && (line = commands[i++], true); });
  }
  if (!::isatty(STDIN_FILENO)) {
    return run_batch(client, [](std::string& line) { return static_cast<bool>(std::getline(std::cin, line)); });
  }
  return run_interactive(client);
}
