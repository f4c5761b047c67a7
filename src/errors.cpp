#include "shmrpc/errors.hpp"

#include <fmt/format.h>

#include <utility>

namespace shmrpc {

RemoteError::RemoteError(std::string function, std::string remote_type, std::string remote_message)
    : Error(fmt::format("{}: {}: {}", function, remote_type, remote_message)),
      function_(std::move(function)),
      remote_type_(std::move(remote_type)),
      remote_message_(std::move(remote_message)) {}

}  // namespace shmrpc
