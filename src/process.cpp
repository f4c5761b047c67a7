#include "shmrpc/detail/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

namespace shmrpc::detail {
namespace {

struct StatFields {
  char state = '?';
  std::uint64_t start_time = 0;
};

// Reads /proc/PID/stat. The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
bool read_stat(pid_t pid, StatFields& out) {
  const std::string path = fmt::format("/proc/{}/stat", pid);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  std::array<char, 1024> buffer{};
  const ssize_t n = ::read(fd, buffer.data(), buffer.size() - 1);
  ::close(fd);
  if (n <= 0) {
    return false;
  }
  const std::string_view text(buffer.data(), static_cast<std::size_t>(n));
  const auto paren = text.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= text.size()) {
    return false;
  }
  // After ") " comes field 3 (state); starttime is field 22, i.e. 19 fields further on.
  std::string_view rest = text.substr(paren + 2);
  out.state = rest.front();
  for (int field = 3; field < 22; ++field) {
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) {
      return false;
    }
    rest.remove_prefix(space + 1);
  }
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out.start_time);
  return ec == std::errc{};
}

}  // namespace

std::uint64_t process_start_time(pid_t pid) {
  StatFields fields;
  if (pid <= 0 || !read_stat(pid, fields) || fields.state == 'Z' || fields.state == 'X') {
    return 0;
  }
  return fields.start_time;
}

std::uint64_t current_pid_namespace() {
  struct stat st {};
  return ::stat("/proc/self/ns/pid", &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

ProcessIdentity current_process() {
  // Cached per pid: a forked child gets its own identity.
  thread_local ProcessIdentity cached;
  const pid_t pid = ::getpid();
  if (cached.pid != pid) {
    cached = {pid, process_start_time(pid)};
  }
  return cached;
}

}  // namespace shmrpc::detail
