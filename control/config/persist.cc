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

#include <cerrno>
#include <cstring>

namespace regfront::config {

namespace {

std::string errno_text(const char* what, const std::string& name) {
  return std::string(what) + " " + name + ": " + std::strerror(errno);
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

bool save_startup_config(const std::string& path, const std::string& text, std::string& err) {
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());

  mode_t mode = 0600;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    err = errno_text("cannot create", tmp);
    return false;
  }
  // O_CREAT applies the umask and does not touch an existing stale temporary file.
  if (::fchmod(fd, mode) != 0 || !write_all(fd, text) || ::fsync(fd) != 0) {
    err = errno_text("cannot write", tmp);
    close_keep_errno(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::close(fd) != 0) {
    err = errno_text("cannot write", tmp);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno_text("cannot replace", path);
    ::unlink(tmp.c_str());
    return false;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    err = errno_text("cannot open directory", dir);
    return false;  // the new file is in place; only its durability is not confirmed
  }
  if (::fsync(dfd) != 0) {
    err = errno_text("cannot flush directory", dir);
    close_keep_errno(dfd);
    return false;
  }
  ::close(dfd);
  return true;
}

}  // namespace regfront::config
