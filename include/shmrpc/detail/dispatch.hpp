#pragma once
/// Server side of one call, between taking a request and posting its end: decode, invoke,
/// encode, and turn every failure into a Status and error text. The fuzz target drives it
/// directly with arbitrary channel bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "shmrpc/call_frame.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/registry.hpp"

namespace shmrpc::detail {

/// Where a call is served, for what its function may ask beyond the frame: the server's segment
/// and the channel's index (whether the client lives, CallContext::client_alive) and the
/// function's statistics record on that channel (a stream's element counts). Empty: unknown.
struct ServingChannel {
  const Segment* segment = nullptr;
  std::uint32_t index = 0;
  layout::StatsRecord* stats = nullptr;
};

/// Runs the request in `block` (function index, result window) whose frame and heap are given,
/// against `functions`, or the buffer request it names (layout::kMakeBufferIndex,
/// kReleaseBufferIndex) against `buffers`. Writes the result, status and error text; leaves the
/// state word alone. `buffers` (nullptr: this server takes no buffer handles) collects what the
/// call holds; the caller ends it (CallBuffers::end_call) once the end is posted. Never throws:
/// malformed requests and the function's exceptions become the returned Status.
layout::Status dispatch(const std::vector<FunctionDefinition>& functions,
                        layout::CommandBlock& block, std::byte* frame, std::byte* heap,
                        std::uint64_t heap_size, CallBuffers* buffers = nullptr,
                        const ServingChannel& channel = {}) noexcept;

/// Writes a failed call's status and NUL-terminated, truncated error text into `block`.
void write_failure(layout::CommandBlock& block, layout::Status status, const std::string& type,
                   const std::string& message) noexcept;

}  // namespace shmrpc::detail
