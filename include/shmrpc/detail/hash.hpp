#pragma once
/// FNV-1a, 64 bit: the hashes in the segment (a function's signature_hash, the header's
/// layout_hash), both over layout keys (docs/SPEC.md, section 5.6).

#include <cstdint>
#include <string_view>

namespace shmrpc::detail {

inline constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;

constexpr std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = kFnvOffset) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/// Layout hash: every function's layout key in table order, each followed by a newline.
class LayoutHasher {
 public:
  void add(std::string_view layout_key) { hash_ = fnv1a("\n", fnv1a(layout_key, hash_)); }
  std::uint64_t value() const noexcept { return hash_; }

 private:
  std::uint64_t hash_ = kFnvOffset;
};

}  // namespace shmrpc::detail
