#include "shmrpc/probe.hpp"

#include <optional>
#include <system_error>

#include "shmrpc/layout.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

ServerProbe probe_server(std::string_view name) {
  validate_name(name);
  std::optional<Segment> segment;
  try {
    segment.emplace(Segment::open_read_only(name));
  } catch (const std::system_error& error) {
    if (error.code().value() == ENOENT) {
      return {};
    }
    if (error.code().value() == ENODATA) {
      return {Liveness::kStarting, {}};  // created, not yet sized
    }
    throw;
  }
  return probe_header(segment->data(), segment->size());
}

ServerProbe probe_header(const std::byte* segment, std::size_t size) {
  if (size < sizeof(layout::SegmentHeader)) {
    return {Liveness::kStarting, {}};
  }
  const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment);
  if (header.magic != layout::kMagic) {
    return {Liveness::kStarting, {}};
  }
  const detail::ProcessIdentity server{header.server_pid, header.server_start_time};
  const auto state = static_cast<layout::ServerState>(header.state.load(std::memory_order_acquire));
  const bool alive = state != layout::ServerState::kStopped && detail::is_alive(server);
  return {alive ? Liveness::kAlive : Liveness::kDead, server};
}

}  // namespace shmrpc
