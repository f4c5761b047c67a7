#pragma once
/// How fuzz_dispatch reads one input, shared with make_seeds, which writes valid requests.
///
/// Byte map of an input (integers little-endian; a short input reads as if padded with zeros):
///    0  u8   function index; kIndexMaxByte stands for 0xFFFFFFFF (a probe), kMakeBufferByte
///            and kReleaseBufferByte for the buffer requests, other values are taken as they
///            are (at or above the function count they are out of range)
///    1  u8   heap size: kMaxHeapSize - 64 * (byte % 65), so 0 gives the whole 4 KiB, 64 none
///    2  u64  CommandBlock::result_offset
///   10  u64  CommandBlock::result_capacity
///   18  ...  the call frame: exactly the function's frame_size bytes (the largest frame_size of
///            all functions when the index is out of range)
///    ...     the first bytes of the heap; the rest of the heap is zero

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shmrpc/layout.hpp"
#include "shmrpc/registry.hpp"

namespace shmrpc::fuzz {

inline constexpr std::size_t kInputHeaderSize = 18;
inline constexpr std::size_t kIndexOffset = 0;
inline constexpr std::size_t kHeapSelectorOffset = 1;
inline constexpr std::size_t kResultOffsetOffset = 2;
inline constexpr std::size_t kResultCapacityOffset = 10;
inline constexpr std::uint8_t kIndexMaxByte = 0xFF;
inline constexpr std::uint8_t kMakeBufferByte = 0xFE;
inline constexpr std::uint8_t kReleaseBufferByte = 0xFD;
inline constexpr std::uint64_t kMaxHeapSize = 4096;

/// The function index an input's first byte stands for.
constexpr std::uint32_t function_index(std::uint8_t byte) {
  switch (byte) {
    case kIndexMaxByte:
      return layout::kProbeIndex;
    case kMakeBufferByte:
      return layout::kMakeBufferIndex;
    case kReleaseBufferByte:
      return layout::kReleaseBufferIndex;
    default:
      return byte;
  }
}

/// The buffers every fuzz_dispatch input may name (VarSlot::buffer): ids 1 and 2, made once per
/// process, of these sizes, owned by another client than the one sending the input (so that it
/// cannot release them). Their bytes are zero.
inline constexpr std::uint64_t kFixedBufferSizes[] = {256, 4096};
/// Bytes of buffers the input's client may make (requests, results): bounds what a hostile size
/// can cost the fuzzer.
inline constexpr std::uint64_t kBufferQuota = std::uint64_t{1} << 20U;

/// The heap size an input's second byte stands for: a multiple of 64 from 0 to kMaxHeapSize.
constexpr std::uint64_t heap_size(std::uint8_t byte) {
  return kMaxHeapSize - 64U * (byte % 65U);
}

/// Bytes of the call frame an input carries for `index`.
inline std::size_t frame_size(const std::vector<FunctionDefinition>& functions,
                              std::uint32_t index) {
  if (index < functions.size()) {
    return functions[index].frame_size;
  }
  std::size_t largest = 0;
  for (const FunctionDefinition& function : functions) {
    largest = function.frame_size > largest ? function.frame_size : largest;
  }
  return largest;
}

}  // namespace shmrpc::fuzz
