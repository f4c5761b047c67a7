#pragma once
/// Server side of one call, between taking a request and posting its end: decode, invoke,
/// encode, and turn every failure into a Status and error text. The fuzz target drives it
/// directly with arbitrary channel bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "shmrpc/layout.hpp"
#include "shmrpc/registry.hpp"

namespace shmrpc::detail {

/// Runs the request in `block` (function index, result window) whose frame and heap are given,
/// against `functions`. Writes the result, status and error text; leaves the state word alone.
/// Never throws: malformed requests and the function's exceptions become the returned Status.
layout::Status dispatch(const std::vector<FunctionDefinition>& functions,
                        layout::CommandBlock& block, std::byte* frame, std::byte* heap,
                        std::uint64_t heap_size) noexcept;

/// Writes a failed call's status and NUL-terminated, truncated error text into `block`.
void write_failure(layout::CommandBlock& block, layout::Status status, const std::string& type,
                   const std::string& message) noexcept;

}  // namespace shmrpc::detail
