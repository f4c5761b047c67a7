#pragma once
/// The functions fuzz_dispatch serves and make_seeds writes requests and segments for: at least
/// one of every wire type a server can publish (scalars of every width, bool, arrays and nested
/// arrays, read-only and mutable spans, spans of bools, string_view and std::string arguments,
/// string and vector results, void, values that nest: vectors of strings and vectors, maps,
/// optionals and tuples of them, a tuple of ndarrays) and functions that throw. Both programs link
/// this file, so a function's index in a seed is its index in the fuzz target.

#include <vector>

#include "shmrpc/registry.hpp"

namespace shmrpc::fuzz {

/// The functions, registered on first use. The handlers are deterministic, allocate at most a
/// few tens of KiB and have no undefined behaviour for any argument bytes (integer arithmetic
/// wraps through unsigned types), so anything a sanitizer reports is shmrpc's.
const std::vector<FunctionDefinition>& fuzz_functions();

/// The functions of server_example (add, dot, scale, stats, greet, range, step, energy, heaviest,
/// sleep_ms, fail) with its names and docs, for a realistic seed segment. Their handlers are never
/// called.
const std::vector<FunctionDefinition>& example_functions();

}  // namespace shmrpc::fuzz
