#include "shmrpc/segment.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstdint>
#include <cstdio>  // renameat2
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace shmrpc {
namespace {

constexpr const char* kShmDirectory = "/dev/shm";

// A name changes hands in a few steps (section 9.4 of SPEC); another server racing for the same
// name can make a step fail, which is then retried. A bounded number of retries turns a livelock
// (which the protocol rules out) into an error instead of a hang.
constexpr int kNameAttempts = 1000;

// Throws std::system_error for `error` with the message fmt::format(format, args...).
template <class... Args>
[[noreturn]] void throw_errno(int error, fmt::format_string<Args...> format, Args&&... args) {
  throw std::system_error(error, std::generic_category(),
                          fmt::format(format, std::forward<Args>(args)...));
}

std::string describe(std::string_view name) {
  return fmt::format("shared memory segment '{}'", name);
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
      throw_errno(errno, "{} {}", action, describe(name));
    }
  }
}

// Closes a descriptor it owns. Don't retry close on EINTR: the descriptor is released either way.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
};

std::byte* map(int fd, std::size_t size, std::string_view name,
               int protection = PROT_READ | PROT_WRITE) {
  void* p = ::mmap(nullptr, size, protection, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    throw_errno(errno, "cannot map {}", describe(name));
  }
  return static_cast<std::byte*>(p);
}

std::string free_space_note() {
  const auto free_bytes = shared_memory_free_bytes();
  if (!free_bytes) {
    return "";
  }
  return fmt::format(" (/dev/shm has {} bytes free)", *free_bytes);
}

std::string user_name(uid_t uid) {
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::array<char, 1024> buffer{};
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return fmt::format("user '{}' (uid {})", found->pw_name, uid);
  }
  return fmt::format("uid {}", uid);
}

const char* file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISLNK(mode)) {
    return "a symbolic link";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  return "a device";
}

// Segments are regular files; anything else under the name (a FIFO would block open(), a device
// would map something else) is refused.
void require_regular_file(const struct stat& st, std::string_view name) {
  if (!S_ISREG(st.st_mode)) {
    throw_errno(EINVAL, "{} is {}, not a shared memory segment; remove it or choose another name",
                segment_path(name), file_kind(st.st_mode));
  }
}

// Only the process's own user's segments change hands: another user's file cannot be removed
// from the sticky /dev/shm anyway, and taking it over would let that user see our calls.
void require_own_file(const struct stat& st, std::string_view name) {
  if (st.st_uid != ::geteuid()) {
    throw_errno(EACCES,
                "{} belongs to {}, not to this process's {}; choose another name, or ask its owner "
                "to stop its server",
                segment_path(name), user_name(st.st_uid), user_name(::geteuid()));
  }
}

// Byte locks are open-file-description locks: they belong to the open file description, not the
// process, so a Client of the same process that opens and closes the segment does not drop the
// server's lock (as it would a classic fcntl lock), and each connection's description holds its
// own channel's byte.
struct flock byte_range(short type, std::uint64_t byte) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = static_cast<off_t>(byte);
  range.l_len = 1;
  return range;
}

// Takes the write lock on `byte` without waiting; false when another description holds it.
bool try_lock_byte(int fd, std::uint64_t byte, std::string_view name) {
  struct flock range = byte_range(F_WRLCK, byte);
  for (;;) {
    if (::fcntl(fd, F_OFD_SETLK, &range) == 0) {
      return true;
    }
    if (errno == EAGAIN || errno == EACCES) {
      return false;
    }
    if (errno != EINTR) {
      throw_errno(errno, "cannot lock {}", describe(name));
    }
  }
}

bool try_lock_holder(int fd, std::string_view name) {
  return try_lock_byte(fd, Segment::kHolderByte, name);
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

enum class Take { kTaken, kHeld, kGone, kChanged };

// Opens the file under `name` and takes its holder lock if no one holds it, checking that the name
// still refers to the file locked (else kChanged: someone replaced it meanwhile; look again).
// Holding that lock, the caller may change the name: every other process that would change it
// needs the same lock first. Throws for a file that is not our own regular file.
Take take_unheld(std::string_view name, UniqueFd& out) {
  const std::string path = segment_path(name);
  struct stat seen {};
  if (::lstat(path.c_str(), &seen) != 0) {
    if (errno == ENOENT) {
      return Take::kGone;
    }
    throw_errno(errno, "cannot look at {}", describe(name));
  }
  require_regular_file(seen, name);
  require_own_file(seen, name);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return Take::kGone;
    }
    if (errno == EINTR) {
      return Take::kChanged;
    }
    throw_errno(errno, "cannot open {}", describe(name));
  }
  struct stat opened {};
  if (::fstat(fd.get(), &opened) != 0) {
    throw_errno(errno, "cannot stat {}", describe(name));
  }
  require_regular_file(opened, name);
  require_own_file(opened, name);
  if (!try_lock_holder(fd.get(), name)) {
    return Take::kHeld;
  }
  struct stat now {};
  if (::lstat(path.c_str(), &now) != 0 || !same_file(now, opened)) {
    return Take::kChanged;
  }
  out = std::move(fd);
  return Take::kTaken;
}

// Links the open file `fd` (the segment `name`) under `path`. Returns false when the name is
// taken, whatever has it: linkat fails with EEXIST then, so taking a free name is atomic and
// nothing under it is replaced. Retries EINTR; throws std::system_error for other failures.
bool link_as(int fd, const std::string& path, std::string_view name) {
  const std::string self = fmt::format("/proc/self/fd/{}", fd);
  for (;;) {
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      return true;
    }
    if (errno == EEXIST) {
      return false;
    }
    if (errno != EINTR) {
      throw_errno(errno, "cannot publish {} as {}", describe(name), path);
    }
  }
}

}  // namespace

void validate_name(std::string_view name) {
  if (name.empty()) {
    throw std::invalid_argument("shmrpc: server name is empty");
  }
  if (name.size() > kMaxNameLength) {
    throw std::invalid_argument(
        fmt::format("shmrpc: server name is {} characters long; at most {} are allowed",
                    name.size(), kMaxNameLength));
  }
  if (name.front() == '.') {
    throw std::invalid_argument(fmt::format(
        "shmrpc: server name '{}' starts with '.'; names start with a letter, digit, '_' or '-'",
        name));
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      throw std::invalid_argument(fmt::format(
          "shmrpc: server name '{}' contains '{}'; allowed are letters, digits, '.', '_' and '-'",
          name, c));
    }
  }
}

std::string shm_object_name(std::string_view name) {
  return fmt::format("/shmrpc.{}", name);
}

std::string segment_path(std::string_view name) {
  return fmt::format("{}{}", kShmDirectory, shm_object_name(name));
}

std::string buffer_name(std::string_view server_name, std::uint64_t id) {
  validate_name(server_name);
  return fmt::format("{}@{}", server_name, id);
}

std::optional<std::uint64_t> shared_memory_free_bytes() noexcept {
  struct statvfs fs {};
  if (::statvfs(kShmDirectory, &fs) != 0) {
    return std::nullopt;
  }
  // f_bavail, not f_bfree: what an unprivileged server may still allocate.
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

Segment Segment::create(std::string_view name, std::size_t size, mode_t mode, gid_t group) {
  validate_name(name);
  return create_named(std::string(name), size, mode, group);
}

Segment Segment::create_buffer(std::string_view server_name, std::size_t size, mode_t mode,
                               gid_t group) {
  validate_name(server_name);
  // Unpublished, so it has no id yet: "NAME@" is no file name any server or buffer has.
  return create_named(fmt::format("{}@", server_name), size, mode, group);
}

// `name` is validated: a server name, or a buffer name built by buffer_name().
Segment Segment::create_named(std::string name, std::size_t size, mode_t mode, gid_t group) {
  // O_TMPFILE: a file without a name, so nobody sees it half made; publish() links it.
  UniqueFd fd(checked([&] { return ::open(kShmDirectory, O_TMPFILE | O_RDWR | O_CLOEXEC, mode); },
                      name, "cannot create"));
  if (group != static_cast<gid_t>(-1) && ::fchown(fd.get(), static_cast<uid_t>(-1), group) != 0) {
    const int error = errno;
    throw_errno(error, "cannot give {} to group {}{}", describe(name), group,
                error == EPERM ? ": this process's user is not a member of it" : "");
  }
  // open() applies the umask; the requested mode is what the user asked for, so set it exactly.
  if (::fchmod(fd.get(), mode) != 0) {
    throw_errno(errno, "cannot set the mode of {}", describe(name));
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    throw_errno(errno, "cannot size {} to {} bytes", describe(name), size);
  }
  // posix_fallocate returns the error instead of setting errno, and does not retry EINTR itself.
  int error = 0;
  do {
    error = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size));
  } while (error == EINTR);
  if (error != 0) {
    throw_errno(error, "cannot reserve {} bytes for {}{}", size, describe(name), free_space_note());
  }
  if (!try_lock_holder(fd.get(), name)) {
    throw_errno(EDEADLK, "cannot lock the new {}", describe(name));  // nobody else can see it
  }
  std::byte* data = map(fd.get(), size, name);
  return {std::move(name), fd.release(), data, size, ::geteuid()};
}

bool Segment::publish() {
  const std::string path = segment_path(name_);
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    if (link_as(fd_, path, name_)) {
      return true;
    }
    UniqueFd previous;
    switch (take_unheld(name_, previous)) {
      case Take::kHeld:
        return false;
      case Take::kTaken:
        // Ours to replace: a leftover no live process holds. Holding its lock, nobody else
        // changes the name until we close it; after the unlink anyone may link, us included.
        ::unlink(path.c_str());
        break;
      case Take::kGone:
      case Take::kChanged:
        break;
    }
  }
  throw_errno(EAGAIN, "cannot publish {}: the name keeps changing hands", describe(name_));
}

bool Segment::publish_buffer(std::uint64_t id) {
  assert(!name_.empty() && name_.back() == '@');  // made by create_buffer(), not yet published
  std::string name = fmt::format("{}{}", name_, id);
  // Unlike publish(), a taken name is never taken over: ids are the server's to choose, so a
  // taken one is only a reason to choose another.
  if (!link_as(fd_, segment_path(name), name_)) {
    return false;
  }
  name_ = std::move(name);
  return true;
}

bool Segment::rename_buffer(std::uint64_t id) {
  const std::size_t at = name_.rfind('@');
  assert(at != std::string::npos);  // a published buffer: NAME@ID
  std::string name = fmt::format("{}{}", std::string_view(name_).substr(0, at + 1), id);
  for (;;) {
    // RENAME_NOREPLACE: taking a free name is atomic, and nothing under it is replaced.
    if (::renameat2(AT_FDCWD, segment_path(name_).c_str(), AT_FDCWD, segment_path(name).c_str(),
                    RENAME_NOREPLACE) == 0) {
      name_ = std::move(name);
      return true;
    }
    if (errno == EEXIST) {
      return false;
    }
    if (errno != EINTR) {
      throw_errno(errno, "cannot rename {} to {}", describe(name_), name);
    }
  }
}

void Segment::close_file() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);  // Don't retry close on EINTR: the descriptor is released either way.
    fd_ = -1;
  }
}

bool Segment::unlink_own() noexcept {
  const std::string path = segment_path(name_);
  struct stat own {};
  struct stat named {};
  // While we hold our lock only we change a name that refers to our file (see the file comment).
  if (fd_ < 0 || ::fstat(fd_, &own) != 0 || ::lstat(path.c_str(), &named) != 0 ||
      !same_file(own, named)) {
    return false;
  }
  return ::unlink(path.c_str()) == 0;
}

RemoveOutcome Segment::remove_unheld(std::string_view name) {
  validate_name(name);
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    UniqueFd fd;
    switch (take_unheld(name, fd)) {
      case Take::kHeld:
        return RemoveOutcome::kHeld;
      case Take::kGone:
        return RemoveOutcome::kGone;
      case Take::kTaken:
        return ::unlink(segment_path(name).c_str()) == 0 ? RemoveOutcome::kRemoved
                                                         : RemoveOutcome::kGone;
      case Take::kChanged:
        break;
    }
  }
  throw_errno(EAGAIN, "cannot remove {}: the name keeps changing hands", describe(name));
}

bool Segment::try_lock(std::uint64_t byte) {
  return try_lock_byte(fd_, byte, name_);
}

// NOLINTNEXTLINE(readability-make-member-function-const): it releases a lock the Segment holds
void Segment::unlock(std::uint64_t byte) noexcept {
  struct flock range = byte_range(F_UNLCK, byte);
  ::fcntl(fd_, F_OFD_SETLK, &range);
}

bool Segment::locked(std::uint64_t byte) const noexcept {
  struct flock range = byte_range(F_WRLCK, byte);
  // F_OFD_GETLK only tests: it reports a conflicting lock without taking one.
  return fd_ >= 0 && ::fcntl(fd_, F_OFD_GETLK, &range) == 0 && range.l_type != F_UNLCK;
}

Segment Segment::open(std::string_view name) {
  validate_name(name);
  return open_mapped(std::string(name), false);
}

Segment Segment::open_buffer(std::string_view server_name, std::uint64_t id) {
  return open_mapped(buffer_name(server_name, id), false);
}

Segment Segment::open_read_only(std::string_view name) {
  validate_name(name);
  return open_mapped(std::string(name), true);
}

// `name` is validated: a server name, or a buffer name built by buffer_name().
Segment Segment::open_mapped(std::string name, bool read_only) {
  const std::string path = segment_path(name);
  // O_NONBLOCK: a FIFO under the name must not block us in open(); O_NOFOLLOW: nor a link lead us
  // elsewhere.
  UniqueFd fd(checked(
      [&] {
        return ::open(path.c_str(),
                      (read_only ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      },
      name, "cannot open"));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw_errno(errno, "cannot stat {}", describe(name));
  }
  require_regular_file(st, name);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) {
    throw_errno(ENODATA, "{} is empty", describe(name));
  }
  std::byte* data = map(fd.get(), size, name, read_only ? PROT_READ : PROT_READ | PROT_WRITE);
  return {std::move(name), fd.release(), data, size, st.st_uid};
}

bool Segment::unlink(std::string_view name) noexcept {
  return ::unlink(segment_path(name).c_str()) == 0;
}

Segment::Segment(std::string name, int fd, std::byte* data, std::size_t size, uid_t owner) noexcept
    : name_(std::move(name)), fd_(fd), data_(data), size_(size), owner_uid_(owner) {}

Segment::Segment(Segment&& other) noexcept
    : name_(std::move(other.name_)),
      fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      owner_uid_(other.owner_uid_) {}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    reset();
    name_ = std::move(other.name_);
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    owner_uid_ = other.owner_uid_;
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
  close_file();
}

}  // namespace shmrpc
