// regfrontd --dpdk-profile FILE (see regfront/daemon/dpdk_profile.h).
#include "regfront/daemon/dpdk_profile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace regfront::daemon {
namespace {

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool hex_digits(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// A PCI address as the EAL's -a takes it: [DOMAIN:]BUS:DEVICE.FUNCTION, then ",DEVARGS" if any.
bool pci_address(std::string_view w) {
  std::string_view addr = w.substr(0, w.find(','));
  if (w.find(',') != std::string_view::npos && w.find(',') + 1 == w.size()) return false;  // "…," alone
  const std::size_t dot = addr.rfind('.');
  if (dot == std::string_view::npos || dot + 2 != addr.size()) return false;
  const char fn = addr[dot + 1];
  if (fn < '0' || fn > '7') return false;
  addr = addr.substr(0, dot);
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = addr.find(':', start);
    parts.push_back(addr.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() == 3) return hex_digits(parts[0], 4) && hex_digits(parts[1], 2) && hex_digits(parts[2], 2);
  if (parts.size() == 2) return hex_digits(parts[0], 2) && hex_digits(parts[1], 2);
  return false;
}

}  // namespace

StatusOr<std::string> parse_dpdk_profile(std::string_view text, const std::string& file) {
  std::string eal, errors;
  std::size_t arguments = 0;
  int number = 0;
  auto refuse = [&](std::string_view line, const std::string& reason) {
    errors += file + ":" + std::to_string(number) + ": % " + reason + "\n  " + std::string(line) + "\n";
  };
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool printable = true;
    for (unsigned char c : line) printable = printable && (c == '\t' || (c >= 0x20 && c != 0x7f));
    if (!printable) {
      refuse("", "a control character in the line");
      continue;
    }
    const std::vector<std::string_view> w = words_of(line);
    if (w.empty() || w[0][0] == '!' || w[0][0] == '#') continue;
    std::vector<std::string_view> add;
    if (w[0] == "port") {
      if (w.size() != 2) {
        refuse(line, "port takes one PCI address, e.g. port 0000:03:00.0 (devices arguments after a comma)");
        continue;
      }
      if (!pci_address(w[1])) {
        refuse(line, "not a PCI address (DOMAIN:BUS:DEVICE.FUNCTION, e.g. 0000:03:00.0, as lspci -D prints it)");
        continue;
      }
      add = {"-a", w[1]};
    } else if (w[0] == "vdev") {
      if (w.size() != 2 || w[1][0] == '-' || w[1][0] == ',') {
        refuse(line, "vdev takes one virtual device, e.g. vdev net_tap0,iface=rftap0");
        continue;
      }
      add = {"--vdev", w[1]};
    } else if (w[0][0] == '-' && w[0].size() > 1 && w[0] != "--") {
      std::string_view second_option;
      for (std::size_t i = 1; i < w.size() && second_option.empty(); ++i) {
        if (w[i][0] == '-' && w[i].size() > 1 && !(w[i][1] >= '0' && w[i][1] <= '9')) second_option = w[i];
      }
      if (!second_option.empty()) {
        refuse(line, "one EAL option per line (" + std::string(second_option) + " goes on a line of its own)");
        continue;
      }
      if (w.size() > 2) {
        refuse(line, "one EAL option and at most one value on a line");
        continue;
      }
      add = w;
    } else {
      refuse(line, "expected an EAL option (-x VALUE, --name[=VALUE]), port ADDRESS or vdev DEVICE");
      continue;
    }
    arguments += add.size();
    if (arguments > kMaxProfileArguments) {
      refuse(line, "more than " + std::to_string(kMaxProfileArguments) + " EAL arguments in the profile");
      break;
    }
    for (std::string_view a : add) {
      if (!eal.empty()) eal += ' ';
      eal += a;
    }
  }
  if (!errors.empty()) return Status::invalid_argument(errors);
  return eal;
}

StatusOr<std::string> load_dpdk_profile(const std::string& path) {
  // O_NONBLOCK: a FIFO given by mistake must not hang start-up; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::not_found(path + ": " + std::strerror(errno) + "\n");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::failed_precondition(path + ": not a regular file\n");
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxProfileBytes) {
    ::close(fd);
    return Status::resource_exhausted(path + ": " + std::to_string(st.st_size) + " bytes; a profile is at most " +
                                      std::to_string(kMaxProfileBytes) + "\n");
  }
  std::string text(kMaxProfileBytes + 1, '\0');
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Status::internal(path + ": read error: " + std::strerror(e) + "\n");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (got > kMaxProfileBytes) {  // grew since fstat
      ::close(fd);
      return Status::resource_exhausted(path + ": more than " + std::to_string(kMaxProfileBytes) + " bytes\n");
    }
  }
  ::close(fd);
  text.resize(got);
  return parse_dpdk_profile(text, path);
}

}  // namespace regfront::daemon
