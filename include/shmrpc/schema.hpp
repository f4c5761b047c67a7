#pragma once
/// What a server publishes, as a client reads it back from the segment: every function with its
/// argument names, wire types, docs and frame slots. Built by validating every byte of the
/// metadata, so a damaged or foreign segment is a ProtocolError, never a crash.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shmrpc/types.hpp"

namespace shmrpc {

struct ArgumentSchema {
  std::string name;
  const TypeInfo* type = nullptr;
  std::uint32_t offset = 0;  ///< in the call frame
  std::uint32_t size = 0;
};

struct FunctionSchema {
  std::uint32_t index = 0;  ///< what the client writes into CommandBlock::function_index
  std::string name;
  std::string doc;
  std::string
      signature;  ///< "add(a: int64, b: int64) -> int64", "ticks(n: int32) -> stream<int64>"
  /// The signature with every type's full layout (format_layout_key); signature_hash hashes it.
  std::string layout;
  std::uint64_t signature_hash = 0;
  std::vector<ArgumentSchema> arguments;
  const TypeInfo* return_type = nullptr;
  std::uint32_t return_offset = 0;
  std::uint32_t return_size = 0;
  std::uint32_t frame_size = 0;
  /// The function streams elements of return_type (docs/SPEC.md, section 7.8): call it with
  /// DynamicCall::start_stream, read them with next_element.
  bool streams = false;
};

/// Where the channels lie in the segment.
struct ChannelGeometry {
  std::uint64_t table_offset = 0;
  std::uint32_t count = 0;
  std::uint32_t frame_size = 0;
  std::uint64_t stride = 0;
  std::uint64_t heap_offset = 0;
  std::uint64_t heap_size = 0;
};

class Schema {
 public:
  /// Reads and validates the header and metadata of a mapped segment whose server is ready.
  /// Throws ProtocolError that names `server` and what is wrong.
  static Schema read(const std::byte* segment, std::size_t size, std::string_view server);

  /// The function called `name`, or nullptr.
  const FunctionSchema* find(std::string_view name) const noexcept;
  const std::vector<FunctionSchema>& functions() const noexcept { return functions_; }
  /// "add, dot, greet" for error messages.
  std::string function_names() const;
  std::uint64_t layout_hash() const noexcept { return layout_hash_; }
  const ChannelGeometry& channels() const noexcept { return channels_; }

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  std::deque<TypeInfo> types_;  // deque: element pointers stay valid as it grows and moves
  std::vector<FunctionSchema> functions_;
  std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>> by_name_;
  std::uint64_t layout_hash_ = 0;
  ChannelGeometry channels_;
};

}  // namespace shmrpc
