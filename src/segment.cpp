#include "shmrpc/segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace shmrpc {
namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

std::string describe(std::string_view name) {
  return "shared memory segment '" + std::string(name) + "'";
}

// Retries EINTR; any other failure throws with errno and the segment's name.
template <class Call>
auto checked(Call&& call, std::string_view name, const char* action) {
  for (;;) {
    const auto rc = call();
    if (rc >= 0) {
      return rc;
    }
    if (errno != EINTR) {
      throw_errno(errno, std::string(action) + " " + describe(name));
    }
  }
}

std::byte* map(int fd, std::size_t size, std::string_view name,
               int protection = PROT_READ | PROT_WRITE) {
  void* p = ::mmap(nullptr, size, protection, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int error = errno;
    ::close(fd);
    throw_errno(error, "cannot map " + describe(name));
  }
  return static_cast<std::byte*>(p);
}

std::string free_space_note() {
  struct statvfs fs {};
  if (::statvfs("/dev/shm", &fs) != 0) {
    return "";
  }
  const auto free_bytes = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
  return " (/dev/shm has " + std::to_string(free_bytes) + " bytes free)";
}

}  // namespace

void validate_name(std::string_view name) {
  if (name.empty()) {
    throw std::invalid_argument("shmrpc: server name is empty");
  }
  if (name.size() > kMaxNameLength) {
    throw std::invalid_argument("shmrpc: server name is " + std::to_string(name.size()) +
                                " characters long; at most " + std::to_string(kMaxNameLength) +
                                " are allowed");
  }
  if (name.front() == '.') {
    throw std::invalid_argument("shmrpc: server name '" + std::string(name) +
                                "' starts with '.'; names start with a letter, digit, '_' or '-'");
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      throw std::invalid_argument("shmrpc: server name '" + std::string(name) + "' contains '" +
                                  std::string(1, c) +
                                  "'; allowed are letters, digits, '.', '_' and '-'");
    }
  }
}

std::string shm_object_name(std::string_view name) {
  return "/shmrpc." + std::string(name);
}

Segment Segment::create(std::string_view name, std::size_t size, mode_t mode, gid_t group) {
  validate_name(name);
  const std::string object = shm_object_name(name);
  const int fd = checked(
      [&] { return ::shm_open(object.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode); }, name,
      "cannot create");
  // shm_open applies the umask; the requested mode is what the user asked for, so set it exactly.
  if ((group != static_cast<gid_t>(-1) && ::fchown(fd, static_cast<uid_t>(-1), group) != 0) ||
      ::fchmod(fd, mode) != 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int error = errno;
    ::close(fd);
    ::shm_unlink(object.c_str());
    throw_errno(error, "cannot size " + describe(name));
  }
  // posix_fallocate returns the error instead of setting errno, and does not retry EINTR itself.
  int error = 0;
  do {
    error = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  } while (error == EINTR);
  if (error != 0) {
    ::close(fd);
    ::shm_unlink(object.c_str());
    throw_errno(error, "cannot reserve " + std::to_string(size) + " bytes for " + describe(name) +
                           free_space_note());
  }
  return {std::string(name), fd, map(fd, size, name), size};
}

Segment Segment::open(std::string_view name) {
  return open_mapped(name, false);
}

Segment Segment::open_read_only(std::string_view name) {
  return open_mapped(name, true);
}

Segment Segment::open_mapped(std::string_view name, bool read_only) {
  validate_name(name);
  const std::string object = shm_object_name(name);
  const int fd = checked(
      [&] { return ::shm_open(object.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0); },
      name, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw_errno(error, "cannot stat " + describe(name));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    throw_errno(ENODATA, describe(name) + " is empty");
  }
  return {std::string(name), fd,
          map(fd, size, name, read_only ? PROT_READ : PROT_READ | PROT_WRITE), size};
}

bool Segment::unlink(std::string_view name) noexcept {
  return ::shm_unlink(shm_object_name(name).c_str()) == 0;
}

Segment::Segment(std::string name, int fd, std::byte* data, std::size_t size) noexcept
    : name_(std::move(name)), fd_(fd), data_(data), size_(size) {}

Segment::Segment(Segment&& other) noexcept
    : name_(std::move(other.name_)),
      fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    reset();
    name_ = std::move(other.name_);
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Segment::~Segment() {
  reset();
}

void Segment::reset() noexcept {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
    data_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);  // Don't retry close on EINTR: the descriptor is released either way.
    fd_ = -1;
  }
}

}  // namespace shmrpc
