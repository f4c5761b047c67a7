// FunctionRegistry: the metadata the templates compute for a signature (wire types, frame slots,
// display signatures, names, docs), the checks on names, and the type-erased invoker driven
// directly over a hand-built call frame.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shmrpc/detail/frame_codec.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/registry.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc::test {
namespace {

using testing::HasSubstr;

std::int64_t twice(std::int64_t x) {
  return 2 * x;
}

void expect_slot(const SlotPlacement& slot, std::uint32_t offset, std::uint32_t size) {
  EXPECT_EQ(slot.offset, offset);
  EXPECT_EQ(slot.size, size);
}

std::vector<std::string> argument_type_names(const FunctionDefinition& function) {
  std::vector<std::string> names;
  for (const TypeInfo* type : function.argument_types) {
    names.push_back(type_name(*type));
  }
  return names;
}

// The frame and heap of one call in ordinary memory, as the server would see a channel's.
struct LocalCall {
  static constexpr std::size_t kHeapSize = 4096;
  alignas(64) std::array<std::byte, 256> frame{};
  alignas(64) std::array<std::byte, kHeapSize> heap{};

  CallFrame call(std::uint64_t result_offset = 0, std::uint64_t result_capacity = 0) {
    return {.frame = frame.data(),
            .heap = heap.data(),
            .heap_size = heap.size(),
            .result_offset = result_offset,
            .result_capacity = result_capacity};
  }
  template <class T>
  void put(std::uint32_t offset, const T& value) {
    std::memcpy(frame.data() + offset, &value, sizeof value);
  }
  template <class T>
  T get(std::uint32_t offset) const {
    T value;
    std::memcpy(&value, frame.data() + offset, sizeof value);
    return value;
  }
  // Copies `values` to heap offset `at` and writes their VarSlot to frame offset `slot`.
  template <class T>
  T* put_span(std::uint32_t slot, std::uint64_t at, const std::vector<T>& values) {
    std::memcpy(heap.data() + at, values.data(), values.size() * sizeof(T));
    put(slot, layout::VarSlot{at, values.size(), 0});
    return reinterpret_cast<T*>(heap.data() + at);
  }
};

TEST(RegistryTest, VoidFunctionWithoutArgumentsHasAnEmptyFrame) {
  FunctionRegistry registry;
  registry.def("ping", [] {});
  const FunctionDefinition& ping = registry.functions().at(0);
  EXPECT_TRUE(ping.argument_types.empty());
  EXPECT_TRUE(ping.argument_slots.empty());
  EXPECT_EQ(ping.return_type->kind, TypeKind::kVoid);
  expect_slot(ping.return_slot, 0, 0);
  EXPECT_EQ(ping.frame_size, 0U);
  EXPECT_EQ(ping.signature(), "ping() -> void");
  EXPECT_EQ(ping.doc, "");
}

TEST(RegistryTest, ScalarArgumentsComeFirstThenTheResult) {
  FunctionRegistry registry;
  registry.def(
      "add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"}, "a + b");
  const FunctionDefinition& add = registry.functions().at(0);
  ASSERT_EQ(add.argument_slots.size(), 2U);
  expect_slot(add.argument_slots[0], 0, 8);
  expect_slot(add.argument_slots[1], 8, 8);
  expect_slot(add.return_slot, 16, 8);
  EXPECT_EQ(add.frame_size, 24U);
  EXPECT_EQ(add.signature(), "add(a: int64, b: int64) -> int64");
  EXPECT_EQ(add.doc, "a + b");
  EXPECT_EQ(add.argument_names, (std::vector<std::string>{"a", "b"}));
}

TEST(RegistryTest, SpanArgumentsTakeAVarSlotEach) {
  FunctionRegistry registry;
  registry.def("dot",
               [](std::span<const double> a, std::span<const double> b) {
                 return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
               },
               {"a", "b"});
  const FunctionDefinition& dot = registry.functions().at(0);
  expect_slot(dot.argument_slots.at(0), 0, sizeof(layout::VarSlot));
  expect_slot(dot.argument_slots.at(1), 24, sizeof(layout::VarSlot));
  expect_slot(dot.return_slot, 48, 8);
  EXPECT_EQ(dot.frame_size, 56U);
  EXPECT_EQ(dot.argument_types[0]->kind, TypeKind::kSpan);
  EXPECT_FALSE(dot.argument_types[0]->is_mutable);
  EXPECT_EQ(dot.argument_types[0]->element->kind, TypeKind::kFloat64);
  EXPECT_EQ(dot.signature(), "dot(a: span<const float64>, b: span<const float64>) -> float64");
}

// scale(v: span<float32>, factor: float64): multiplies v in place.
void define_scale(FunctionRegistry& registry) {
  registry.def("scale",
               [](std::span<float> v, double factor) {
                 for (float& x : v) {
                   x = static_cast<float>(x * factor);
                 }
               },
               {"v", "factor"});
}

TEST(RegistryTest, MutableSpanIsMarkedMutable) {
  FunctionRegistry registry;
  define_scale(registry);
  const FunctionDefinition& scale = registry.functions().at(0);
  EXPECT_TRUE(scale.argument_types.at(0)->is_mutable);
  expect_slot(scale.argument_slots.at(0), 0, 24);
  expect_slot(scale.argument_slots.at(1), 24, 8);
  expect_slot(scale.return_slot, 32, 0);
  EXPECT_EQ(scale.frame_size, 32U);
  EXPECT_EQ(scale.signature(), "scale(v: span<float32>, factor: float64) -> void");
}

TEST(RegistryTest, FixedArrayResultIsStoredInline) {
  FunctionRegistry registry;
  registry.def(
      "quartiles", [](std::span<const float> /*samples*/) { return std::array<double, 4>{}; },
      {"samples"}, "Quartiles");
  const FunctionDefinition& quartiles = registry.functions().at(0);
  expect_slot(quartiles.argument_slots.at(0), 0, 24);
  expect_slot(quartiles.return_slot, 24, 32);
  EXPECT_EQ(quartiles.frame_size, 56U);
  EXPECT_EQ(quartiles.return_type->kind, TypeKind::kArray);
  EXPECT_EQ(quartiles.return_type->count, 4U);
  EXPECT_EQ(quartiles.signature(), "quartiles(samples: span<const float32>) -> array<float64, 4>");
}

TEST(RegistryTest, StringArgumentAndResultAreVarSlots) {
  FunctionRegistry registry;
  registry.def(
      "greet", [](std::string_view name) { return "hello " + std::string(name); }, {"name"},
      "Greets");
  registry.def(
      "shout", [](const std::string& text) { return text + "!"; }, {"text"}, "Shouts");
  const FunctionDefinition& greet = registry.functions().at(0);
  expect_slot(greet.argument_slots.at(0), 0, 24);
  expect_slot(greet.return_slot, 24, 24);
  EXPECT_EQ(greet.frame_size, 48U);
  EXPECT_EQ(greet.signature(), "greet(name: string) -> string");
  // A const reference is passed as its value type.
  EXPECT_EQ(registry.functions().at(1).signature(), "shout(text: string) -> string");
  EXPECT_TRUE(same_type(*greet.argument_types[0], *registry.functions()[1].argument_types[0]));
}

TEST(RegistryTest, VectorResultIsAlignedAfterASmallArgument) {
  FunctionRegistry registry;
  registry.def(
      "iota",
      [](std::int32_t n) {
        std::vector<std::int32_t> v(static_cast<std::size_t>(n));
        std::iota(v.begin(), v.end(), 0);
        return v;
      },
      {"n"}, "0 .. n-1");
  const FunctionDefinition& iota = registry.functions().at(0);
  expect_slot(iota.argument_slots.at(0), 0, 4);
  expect_slot(iota.return_slot, 8, 24);  // a VarSlot is 8-byte aligned
  EXPECT_EQ(iota.frame_size, 32U);
  EXPECT_EQ(iota.return_type->kind, TypeKind::kVector);
  EXPECT_EQ(iota.signature(), "iota(n: int32) -> vector<int32>");
}

TEST(RegistryTest, SlotsUseNaturalAlignment) {
  FunctionRegistry registry;
  registry.def("mixed", [](std::int8_t /*a*/, std::int64_t /*b*/, std::int16_t /*c*/,
                           std::int32_t /*d*/) { return 0.0; });
  registry.def("small", [](bool /*flag*/, std::array<std::int16_t, 3> /*triple*/,
                           std::uint8_t /*byte*/) { return std::int8_t{0}; });
  const FunctionDefinition& mixed = registry.functions().at(0);
  expect_slot(mixed.argument_slots.at(0), 0, 1);
  expect_slot(mixed.argument_slots.at(1), 8, 8);
  expect_slot(mixed.argument_slots.at(2), 16, 2);
  expect_slot(mixed.argument_slots.at(3), 20, 4);
  expect_slot(mixed.return_slot, 24, 8);
  EXPECT_EQ(mixed.frame_size, 32U);
  const FunctionDefinition& small = registry.functions().at(1);
  expect_slot(small.argument_slots.at(0), 0, 1);
  expect_slot(small.argument_slots.at(1), 2, 6);
  expect_slot(small.argument_slots.at(2), 8, 1);
  expect_slot(small.return_slot, 9, 1);
  EXPECT_EQ(small.frame_size, 10U);
  EXPECT_EQ(argument_type_names(small),
            (std::vector<std::string>{"bool", "array<int16, 3>", "uint8"}));
}

TEST(RegistryTest, UnnamedArgumentsAreNamedByPosition) {
  FunctionRegistry registry;
  registry.def(
      "sum3", [](std::int64_t a, std::int64_t b, std::int64_t c) { return a + b + c; },
      "Sum of three");
  const FunctionDefinition& sum3 = registry.functions().at(0);
  EXPECT_EQ(sum3.argument_names, (std::vector<std::string>{"arg0", "arg1", "arg2"}));
  EXPECT_EQ(sum3.doc, "Sum of three");
  EXPECT_EQ(sum3.signature(), "sum3(arg0: int64, arg1: int64, arg2: int64) -> int64");
}

// Exposes a library bug (reported): def(name, f, {"x"}) picks the def(name, f, const char* doc)
// overload, because a braced single string converts to const char* better than to
// std::vector<std::string>; the argument name becomes the doc string and the argument is "arg0".
TEST(RegistryTest, SingleArgumentNameInBracesNamesTheArgument) {
  FunctionRegistry registry;
  registry.def("greet", [](std::string_view name) { return "hello " + std::string(name); },
               {"name"});
  const FunctionDefinition& greet = registry.functions().at(0);
  EXPECT_EQ(greet.argument_names, std::vector<std::string>{"name"});
  EXPECT_EQ(greet.signature(), "greet(name: string) -> string");
  EXPECT_EQ(greet.doc, "");
}

TEST(RegistryTest, RegistersEveryKindOfCallable) {
  FunctionRegistry registry;
  const std::int64_t offset = 100;
  registry.def("capturing", [offset](std::int64_t x) { return x + offset; });
  registry.def("wrapped",
               std::function<std::int64_t(std::int64_t)>([](std::int64_t x) { return x - 1; }));
  registry.def("pointer", &twice);
  registry.def("reference", twice);
  registry.def("counting", [calls = std::int64_t{0}](std::int64_t step) mutable {
    calls += step;
    return calls;
  });
  ASSERT_EQ(registry.functions().size(), 5U);
  for (const FunctionDefinition& function : registry.functions()) {
    SCOPED_TRACE(function.name);
    EXPECT_EQ(function.signature(), function.name + "(arg0: int64) -> int64");
    expect_slot(function.argument_slots.at(0), 0, 8);
    expect_slot(function.return_slot, 8, 8);
  }

  const auto call = [&](std::size_t index, std::int64_t x) {
    LocalCall local;
    local.put(0, x);
    registry.functions()[index].invoke(local.call());
    return local.get<std::int64_t>(8);
  };
  EXPECT_EQ(call(0, 5), 105);
  EXPECT_EQ(call(1, 5), 4);
  EXPECT_EQ(call(2, 5), 10);
  EXPECT_EQ(call(3, 6), 12);
  // A mutable lambda keeps its state from call to call.
  EXPECT_EQ(call(4, 3), 3);
  EXPECT_EQ(call(4, 4), 7);
}

TEST(RegistryTest, RejectsFunctionNamesThatAreNotIdentifiers) {
  FunctionRegistry registry;
  const std::vector<std::string> bad_names{"",    "1x",          "a-b",
                                           "a b", "dot.product", std::string(256, 'f')};
  for (const std::string& name : bad_names) {
    SCOPED_TRACE("name '" + name + "'");
    EXPECT_THROW(registry.def(name, [] {}), std::invalid_argument);
  }
  EXPECT_TRUE(registry.functions().empty());
  registry.def("_ok2", [] {});
  registry.def(std::string(255, 'f'), [] {});
  EXPECT_EQ(registry.functions().size(), 2U);
}

TEST(RegistryTest, RejectsADuplicateFunction) {
  FunctionRegistry registry;
  registry.def("f", [] {});
  try {
    registry.def("f", [](std::int32_t x) { return x; });
    FAIL() << "a second 'f' was registered";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("'f' is already registered"));
  }
  EXPECT_EQ(registry.functions().size(), 1U);
}

TEST(RegistryTest, RejectsAWrongNumberOfArgumentNames) {
  FunctionRegistry registry;
  try {
    registry.def(
        "add", [](std::int64_t a, std::int64_t b) { return a + b; }, std::vector<std::string>{"a"});
    FAIL() << "one name for two arguments was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("takes 2 arguments but 1 argument names were given"));
  }
  EXPECT_THROW(
      registry.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b", "c"}),
      std::invalid_argument);
  EXPECT_THROW(registry.def(
                   "noop", [] {}, std::vector<std::string>{"extra"}),
               std::invalid_argument);
  EXPECT_TRUE(registry.functions().empty());
}

TEST(RegistryTest, RejectsDuplicateAndInvalidArgumentNames) {
  FunctionRegistry registry;
  try {
    registry.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"x", "x"});
    FAIL() << "two arguments named 'x' were accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("two arguments named 'x'"));
  }
  EXPECT_THROW(
      registry.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "2b"}),
      std::invalid_argument);
  EXPECT_THROW(registry.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", ""}),
               std::invalid_argument);
  EXPECT_TRUE(registry.functions().empty());
}

TEST(RegistryTest, InvokeReadsSpansInPlaceAndWritesTheResultSlot) {
  FunctionRegistry registry;
  const double* seen_a = nullptr;
  const double* seen_b = nullptr;
  registry.def("dot",
               [&seen_a, &seen_b](std::span<const double> a, std::span<const double> b) {
                 seen_a = a.data();
                 seen_b = b.data();
                 return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
               },
               {"a", "b"});
  const FunctionDefinition& dot = registry.functions().at(0);
  LocalCall local;
  const double* a = local.put_span<double>(dot.argument_slots[0].offset, 0, {1, 2, 3});
  const double* b = local.put_span<double>(dot.argument_slots[1].offset, 64, {4, 5, 6});
  dot.invoke(local.call());
  EXPECT_EQ(local.get<double>(dot.return_slot.offset), 32.0);
  // Zero copy: the function saw the heap bytes where they lie.
  EXPECT_EQ(seen_a, a);
  EXPECT_EQ(seen_b, b);
}

TEST(RegistryTest, InvokeWritesThroughAMutableSpan) {
  FunctionRegistry registry;
  define_scale(registry);
  const FunctionDefinition& scale = registry.functions().at(0);
  LocalCall local;
  const float* v = local.put_span<float>(scale.argument_slots[0].offset, 128, {1, -2, 3});
  local.put(scale.argument_slots[1].offset, 2.5);
  scale.invoke(local.call());
  EXPECT_EQ(v[0], 2.5F);
  EXPECT_EQ(v[1], -5.0F);
  EXPECT_EQ(v[2], 7.5F);
}

TEST(RegistryTest, InvokeEncodesAVectorResultIntoTheWindow) {
  FunctionRegistry registry;
  registry.def("iota", [](std::int32_t n) {
    std::vector<std::int32_t> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 10);
    return v;
  });
  const FunctionDefinition& iota = registry.functions().at(0);
  LocalCall local;
  local.put(iota.argument_slots[0].offset, std::int32_t{5});
  iota.invoke(local.call(/*result_offset=*/256, /*result_capacity=*/64));
  const auto slot = local.get<layout::VarSlot>(iota.return_slot.offset);
  EXPECT_EQ(slot.offset, 256U);
  EXPECT_EQ(slot.length, 5U);  // elements, not bytes
  std::array<std::int32_t, 5> values{};
  std::memcpy(values.data(), local.heap.data() + 256, sizeof values);
  EXPECT_EQ(values, (std::array<std::int32_t, 5>{10, 11, 12, 13, 14}));
}

TEST(RegistryTest, InvokeEncodesAStringResultIntoTheWindow) {
  FunctionRegistry registry;
  registry.def("greet", [](std::string_view name) { return "hello " + std::string(name); });
  const FunctionDefinition& greet = registry.functions().at(0);
  LocalCall local;
  const std::string name = "world";
  std::memcpy(local.heap.data() + 1, name.data(), name.size());  // strings need no alignment
  local.put(greet.argument_slots[0].offset, layout::VarSlot{1, name.size(), 0});
  greet.invoke(local.call(512, 100));
  const auto slot = local.get<layout::VarSlot>(greet.return_slot.offset);
  EXPECT_EQ(slot.offset, 512U);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(local.heap.data() + slot.offset),
                        static_cast<std::size_t>(slot.length)),
            "hello world");
}

TEST(RegistryTest, InvokeThrowsResultTooLargeForASmallWindow) {
  FunctionRegistry registry;
  registry.def("iota", [](std::int32_t n) {
    return std::vector<std::int32_t>(static_cast<std::size_t>(n), 7);
  });
  const FunctionDefinition& iota = registry.functions().at(0);
  LocalCall local;
  local.heap[256 + 64] = std::byte{0x5A};  // just past the window
  local.put(iota.argument_slots[0].offset, std::int32_t{100});
  try {
    iota.invoke(local.call(256, 64));
    FAIL() << "a 400-byte result fitted a 64-byte window";
  } catch (const ResultTooLarge& error) {
    EXPECT_THAT(error.what(), HasSubstr("the result is 400 bytes but only 64 bytes"));
  }
  EXPECT_EQ(local.heap[256], std::byte{0});  // nothing was written
  EXPECT_EQ(local.heap[256 + 64], std::byte{0x5A});
}

TEST(RegistryTest, InvokeRejectsASpanOutsideTheHeap) {
  FunctionRegistry registry;
  bool called = false;
  registry.def("sum", [&called](std::span<const std::int16_t> v) {
    called = true;
    return static_cast<std::int64_t>(v.size());
  });
  const FunctionDefinition& sum = registry.functions().at(0);
  LocalCall local;
  local.put(sum.argument_slots[0].offset, layout::VarSlot{LocalCall::kHeapSize - 2, 2, 0});
  EXPECT_THROW(sum.invoke(local.call()), BadRequest);
  local.put(sum.argument_slots[0].offset, layout::VarSlot{1, 1, 0});  // misaligned int16
  EXPECT_THROW(sum.invoke(local.call()), BadRequest);
  EXPECT_FALSE(called);
  local.put(sum.argument_slots[0].offset, layout::VarSlot{LocalCall::kHeapSize - 2, 1, 0});  // fits
  sum.invoke(local.call());
  EXPECT_TRUE(called);
  EXPECT_EQ(local.get<std::int64_t>(sum.return_slot.offset), 1);
}

}  // namespace
}  // namespace shmrpc::test
