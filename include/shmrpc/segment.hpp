#pragma once
/// One named POSIX shared-memory segment, mapped read-write. Owns the descriptor and the mapping.
/// The name "demo" is the file /dev/shm/shmrpc.demo.

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace shmrpc {

/// Longest server name: NAME_MAX less the "shmrpc." prefix.
inline constexpr std::size_t kMaxNameLength = 200;

/// Throws std::invalid_argument unless `name` is 1..kMaxNameLength characters of letters, digits,
/// '.', '_' and '-', not starting with '.'. So no name can leave /dev/shm.
void validate_name(std::string_view name);

/// "/shmrpc.NAME", the shm_open name of a server's segment.
std::string shm_object_name(std::string_view name);

class Segment {
 public:
  /// Creates a new segment of `size` bytes with permission bits `mode`, owned by group `group`
  /// unless it is -1 (the creator's group); fails with
  /// std::system_error(EEXIST) when the name is taken. The space is reserved with
  /// posix_fallocate, so a full /dev/shm is an error here and never a SIGBUS later.
  static Segment create(std::string_view name, std::size_t size, mode_t mode,
                        gid_t group = static_cast<gid_t>(-1));

  /// Maps an existing segment. Throws std::system_error (ENOENT when there is none).
  static Segment open(std::string_view name);

  /// Maps an existing segment read-only, for inspection (tools): writing through data() faults.
  /// Throws as open().
  static Segment open_read_only(std::string_view name);

  /// Removes the name; existing mappings stay valid. Returns false if it did not exist.
  static bool unlink(std::string_view name) noexcept;

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  const std::string& name() const noexcept { return name_; }

 private:
  Segment(std::string name, int fd, std::byte* data, std::size_t size) noexcept;
  static Segment open_mapped(std::string_view name, bool read_only);
  void reset() noexcept;

  std::string name_;
  int fd_ = -1;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace shmrpc
