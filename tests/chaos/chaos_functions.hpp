#pragma once
// The functions of the chaos server, computed the same way by the server (shmrpc_chaos_server)
// and by the clients that check every result against their own computation.

#include <cstddef>
#include <cstdint>

namespace shmrpc::chaos {

/// splitmix64's output function: equal inputs give equal, well-mixed outputs in every process.
constexpr std::uint64_t mix(std::uint64_t x) {
  x += 0x9E37'79B9'7F4A'7C15U;
  x = (x ^ (x >> 30U)) * 0xBF58'476D'1CE4'E5B9U;
  x = (x ^ (x >> 27U)) * 0x94D0'49BB'1331'11EBU;
  return x ^ (x >> 31U);
}

/// checksum(seed, n): n rounds of mix, each folding in its index (n sets the cost of the call).
constexpr std::uint64_t checksum(std::uint64_t seed, std::uint32_t n) {
  std::uint64_t x = seed;
  for (std::uint32_t i = 0; i < n; ++i) {
    x = mix(x ^ i);
  }
  return x;
}

/// Element `index` of what fill(out, seed) writes.
constexpr std::uint64_t fill_value(std::uint64_t seed, std::size_t index) {
  return mix(seed + index);
}

/// What slow(ms, seed) returns once it has slept `ms` milliseconds.
constexpr std::uint64_t slow_value(std::uint32_t ms, std::uint64_t seed) {
  return mix(seed ^ (std::uint64_t{ms} << 40U));
}

/// A random number generator whose sequence depends on the seed alone (the suite's replay).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : seed_(seed) {}
  std::uint64_t next() { return mix(seed_ + 0x632B'E59B'D9B4'E019U * counter_++); }
  /// Uniform in [0, n); 0 when n is 0.
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  /// Uniform in [low, high].
  std::int64_t between(std::int64_t low, std::int64_t high) {
    return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
  }
  /// True with probability `percent` / 100.
  bool percent(std::uint64_t percent) { return below(100) < percent; }

 private:
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
};

}  // namespace shmrpc::chaos
