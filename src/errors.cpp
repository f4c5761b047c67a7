#include "shmrpc/errors.hpp"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace shmrpc {

RemoteError::RemoteError(std::string function, std::string remote_type, std::string remote_message)
    : Error(fmt::format("{}: {}: {}", function, remote_type, remote_message)),
      function_(std::move(function)),
      remote_type_(std::move(remote_type)),
      remote_message_(std::move(remote_message)) {}

namespace {

std::string out_of_shared_memory_message(std::string_view server_name,
                                         std::uint64_t requested_bytes,
                                         std::optional<std::uint64_t> free_bytes) {
  if (!free_bytes) {
    return fmt::format(
        "shmrpc: cannot make a buffer of {} bytes for server '{}': /dev/shm is full (it does not "
        "tell how many bytes are free)",
        requested_bytes, server_name);
  }
  return fmt::format(
      "shmrpc: cannot make a buffer of {} bytes for server '{}': /dev/shm has {} "
      "bytes free",
      requested_bytes, server_name, *free_bytes);
}

}  // namespace

OutOfSharedMemoryError::OutOfSharedMemoryError(std::string_view server_name,
                                               std::uint64_t requested_bytes,
                                               std::optional<std::uint64_t> free_bytes)
    : message_(std::make_shared<const std::string>(
          out_of_shared_memory_message(server_name, requested_bytes, free_bytes))),
      requested_bytes_(requested_bytes),
      free_bytes_(free_bytes) {}

OutOfSharedMemoryError::OutOfSharedMemoryError(std::string message, std::uint64_t requested_bytes)
    : message_(std::make_shared<const std::string>(std::move(message))),
      requested_bytes_(requested_bytes) {}

}  // namespace shmrpc
