// control/config/persist.cc — crash-safe replacement of the startup-config (see persist.h).
//
// The order, and why:
//   1. write PATH.tmp.PID (same directory: rename(2) only replaces within one file system);
//   2. fsync it: its data must be on disk before any name points at it, or a crash after the
//      rename could leave the new name on an empty or partial file (ext4 delalloc, xfs);
//   3. rename over PATH: atomic for every process that opens PATH, before and after a kill;
//   4. fsync the directory: the rename is a directory change; until it is on disk a power cut
//      may bring back the old name (the old content, whole — still acceptable, but `write
//      memory` must not claim [OK] before the new one is durable).
#include "regfront/config/persist.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace regfront::config {

namespace {

// "WHAT NAME: reason" for errno, as a Status whose code fits errno.
Status errno_status(const char* what, const std::string& name) {
  const int e = errno;
  std::string text = std::string(what) + " " + name + ": " + std::strerror(e);
  switch (e) {
    case ENOENT:
    case ENOTDIR:
      return Status::not_found(std::move(text));
    case ENOSPC:
    case EDQUOT:
      return Status::resource_exhausted(std::move(text));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::failed_precondition(std::move(text));
    default:
      return Status::internal(std::move(text));
  }
}

bool write_all(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

int close_keep_errno(int fd) {
  int saved = errno;
  int r = ::close(fd);
  errno = saved;
  return r;
}

}  // namespace

Status save_startup_config(const std::string& path, const std::string& text) {
  remove_stale_temporaries(path);
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());

  mode_t mode = 0600;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno_status("cannot create", tmp);
  // O_CREAT applies the umask and does not touch an existing stale temporary file.
  if (::fchmod(fd, mode) != 0 || !write_all(fd, text) || ::fsync(fd) != 0) {
    Status s = errno_status("cannot write", tmp);
    close_keep_errno(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::close(fd) != 0) {
    Status s = errno_status("cannot write", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = errno_status("cannot replace", path);
    ::unlink(tmp.c_str());
    return s;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  // The new file is in place; only its durability is not confirmed.
  if (dfd < 0) return errno_status("cannot open directory", dir);
  if (::fsync(dfd) != 0) {
    Status s = errno_status("cannot flush directory", dir);
    close_keep_errno(dfd);
    return s;
  }
  ::close(dfd);
  return {};
}

namespace {

// What a file that is not a regular file is, for the refusal.
const char* file_kind(mode_t m) {
  if (S_ISDIR(m)) return "is a directory";
  if (S_ISFIFO(m)) return "is a FIFO";
  if (S_ISCHR(m)) return "is a character device";
  if (S_ISBLK(m)) return "is a block device";
  if (S_ISSOCK(m)) return "is a socket";
  return "is not a regular file";
}

}  // namespace

StatusOr<std::string> read_startup_config(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below); for a
  // regular file the flag changes nothing.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int e = errno;
    std::string text = path + ": " + std::strerror(e);
    if (e == ENOENT || e == ENOTDIR) return Status::not_found(std::move(text));
    return Status::failed_precondition(std::move(text));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = errno_status("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::failed_precondition(path + ": " + file_kind(st.st_mode) + ", not a startup-config file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxStartupConfigBytes) {
    ::close(fd);
    return Status::resource_exhausted(path + ": larger than " + std::to_string(kMaxStartupConfigBytes >> 20) +
                                      " MiB");
  }
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return Status::internal(path + ": read error after " + std::to_string(text.size()) +
                              " bytes: " + std::strerror(e));
    }
    if (n == 0) break;
    // The size is checked again as it is read: the file may grow meanwhile.
    if (text.size() + static_cast<std::size_t>(n) > kMaxStartupConfigBytes) {
      ::close(fd);
      return Status::resource_exhausted(path + ": larger than " + std::to_string(kMaxStartupConfigBytes >> 20) +
                                        " MiB");
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

std::size_t remove_stale_temporaries(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  std::size_t removed = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (!name.starts_with(prefix)) continue;
    const std::string_view digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 10 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      continue;
    }
    const long pid = std::strtol(std::string(digits).c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    // A save in progress in another live process (or a reused id) keeps its file.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const std::string full = (dir == "/" ? "" : dir) + "/" + std::string(name);
    if (::unlink(full.c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace regfront::config
