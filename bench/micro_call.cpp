// Google Benchmark micro suite of the in-process parts of a call, without a second process:
// what the client does to encode arguments, what the server does to decode, invoke and encode
// (detail::dispatch), next to a direct call of the same function. stats_record measures the
// third in-process part, the call statistics.
//
//   micro_call [--benchmark_filter=...]

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "shmrpc/detail/dispatch.hpp"
#include "shmrpc/detail/slot_codec.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/reflect.hpp"
#include "shmrpc/registry.hpp"

namespace bench {

struct Particle {
  std::array<double, 3> pos;
  std::array<double, 3> vel;
  float mass;
};
SHMRPC_FIELDS(Particle, pos, vel, mass);

}  // namespace bench

namespace {

using shmrpc::layout::CommandBlock;

constexpr std::size_t kHeapSize = std::size_t{1} << 20;

std::int64_t add(std::int64_t a, std::int64_t b) {
  return a + b;
}

std::int64_t length(std::span<const double> values) {
  return static_cast<std::int64_t>(values.size());
}

float total_mass(std::span<const bench::Particle> particles) {
  float mass = 0;
  for (const bench::Particle& p : particles) {
    mass += p.mass;
  }
  return mass;
}

// A channel's command block, frame and heap in this process, with the registered functions.
struct Channel {
  Channel() {
    registry.def("add", add, {"a", "b"});
    registry.def("length", length, {"values"});
    registry.def("total_mass", total_mass, {"particles"});
    block->result_offset = 0;
    block->result_capacity = 0;
  }
  const shmrpc::FunctionDefinition& function(std::uint32_t index) {
    block->function_index = index;
    return registry.functions()[index];
  }
  shmrpc::layout::Status dispatch() {
    return shmrpc::detail::dispatch(registry.functions(), *block, frame.data(), heap.get(),
                                    kHeapSize);
  }

  shmrpc::FunctionRegistry registry;
  std::unique_ptr<CommandBlock> block = std::make_unique<CommandBlock>();
  alignas(16) std::array<std::byte, 256> frame{};
  std::unique_ptr<std::byte[]> heap = std::make_unique<std::byte[]>(kHeapSize);
};

// Baseline: the function called directly, through the std::function the invoker also uses.
void BM_Baseline_DirectCall(benchmark::State& state) {
  std::int64_t sum = 0;
  for (auto _ : state) {
    sum = add(sum, 1);
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_Baseline_DirectCall);

// Client side: the two int64 arguments of a null call written into their slots.
void BM_Encode_NullCallArguments(benchmark::State& state) {
  Channel channel;
  const auto& function = channel.function(0);
  std::int64_t a = 1;
  for (auto _ : state) {
    shmrpc::detail::write_slot(channel.frame.data() + function.argument_slots[0].offset, a);
    shmrpc::detail::write_slot(channel.frame.data() + function.argument_slots[1].offset, a + 1);
    benchmark::DoNotOptimize(channel.frame);
    ++a;
  }
}
BENCHMARK(BM_Encode_NullCallArguments);

// Client side: one struct (56 bytes with padding) written into a slot, padding zeroed.
void BM_Encode_Struct(benchmark::State& state) {
  alignas(16) std::array<std::byte, 64> slot{};
  bench::Particle particle{{1, 2, 3}, {4, 5, 6}, 7};
  for (auto _ : state) {
    shmrpc::detail::write_slot(slot.data(), particle);
    benchmark::DoNotOptimize(slot);
    particle.mass += 1;
  }
}
BENCHMARK(BM_Encode_Struct);

// Server side of a null call: decode two int64, invoke, encode the result.
void BM_Dispatch_NullCall(benchmark::State& state) {
  Channel channel;
  const auto& function = channel.function(0);
  shmrpc::detail::write_slot(channel.frame.data() + function.argument_slots[0].offset,
                             std::int64_t{2});
  shmrpc::detail::write_slot(channel.frame.data() + function.argument_slots[1].offset,
                             std::int64_t{3});
  for (auto _ : state) {
    benchmark::DoNotOptimize(channel.dispatch());
  }
}
BENCHMARK(BM_Dispatch_NullCall);

// Server side of an array call: the span's bounds checked, its elements not read.
void BM_Dispatch_Span(benchmark::State& state) {
  Channel channel;
  const auto& function = channel.function(1);
  const shmrpc::layout::VarSlot slot{0, static_cast<std::uint64_t>(state.range(0)), 0};
  std::memcpy(channel.frame.data() + function.argument_slots[0].offset, &slot, sizeof slot);
  for (auto _ : state) {
    benchmark::DoNotOptimize(channel.dispatch());
  }
}
BENCHMARK(BM_Dispatch_Span)->Arg(128)->Arg(kHeapSize / sizeof(double));

// Server side of a span of structs: float fields need no check, so the elements are not read
// before the function runs; the function reads every mass.
void BM_Dispatch_StructSpan(benchmark::State& state) {
  Channel channel;
  const auto& function = channel.function(2);
  const auto count = static_cast<std::uint64_t>(state.range(0));
  const shmrpc::layout::VarSlot slot{0, count, 0};
  std::memcpy(channel.frame.data() + function.argument_slots[0].offset, &slot, sizeof slot);
  for (auto _ : state) {
    benchmark::DoNotOptimize(channel.dispatch());
  }
}
BENCHMARK(BM_Dispatch_StructSpan)->Arg(16)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
