// The binary layout at run time: the sizes and offsets that layout.hpp pins with static_asserts,
// a segment planned and written for a small registry and read back through Schema, and single
// corrupted fields that Schema::read must reject with a ProtocolError.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shmrpc/detail/metadata_writer.hpp"
#include "shmrpc/detail/process.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/registry.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc::test {
namespace {

using testing::HasSubstr;

constexpr std::uint32_t kChannels = 3;
constexpr std::uint64_t kArenaSize = std::uint64_t{64} << 10U;

// A registry covering scalars, read-only and mutable spans, strings, vectors and void.
FunctionRegistry sample_registry() {
  FunctionRegistry registry;
  registry.def(
      "add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"}, "a + b");
  registry.def(
      "dot",
      [](std::span<const double> a, std::span<const double> b) {
        double sum = 0;
        for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
          sum += a[i] * b[i];
        }
        return sum;
      },
      {"a", "b"}, "Dot product");
  registry.def("scale",
               [](std::span<float> v, double factor) {
                 for (float& x : v) {
                   x = static_cast<float>(x * factor);
                 }
               },
               {"v", "factor"});
  registry.def(
      "greet", [](std::string_view name) { return "hello " + std::string(name); }, {"name"},
      "Greets");
  registry.def(
      "iota", [](std::int32_t n) { return std::vector<double>(static_cast<std::size_t>(n)); },
      "Counts from 0");
  registry.def("noop", [] {});
  return registry;
}

std::uint32_t largest_frame(const FunctionRegistry& registry) {
  std::uint32_t frame = 0;
  for (const FunctionDefinition& function : registry.functions()) {
    frame = std::max(frame, function.frame_size);
  }
  return frame;
}

// A zero-filled, 8-byte aligned buffer holding a written segment whose state is kReady.
class SegmentImage {
 public:
  explicit SegmentImage(const detail::SegmentPlan& plan)
      : size_(plan.segment_size),
        words_(std::make_unique<std::uint64_t[]>((size_ + 7) / 8)) {  // value-initialised: zeros
    detail::write_segment(data(), plan, detail::current_process());
    header().state.store(static_cast<std::uint32_t>(layout::ServerState::kReady),
                         std::memory_order_release);
  }

  std::byte* data() const noexcept { return reinterpret_cast<std::byte*>(words_.get()); }
  std::size_t size() const noexcept { return size_; }
  layout::SegmentHeader& header() const noexcept {
    return *reinterpret_cast<layout::SegmentHeader*>(data());
  }
  template <class T>
  T* table(std::uint64_t offset) const noexcept {
    return reinterpret_cast<T*>(data() + offset);
  }
  layout::FunctionMetadata* functions() const noexcept {
    return table<layout::FunctionMetadata>(header().function_table_offset);
  }
  layout::ArgumentMetadata* arguments() const noexcept {
    return table<layout::ArgumentMetadata>(header().argument_table_offset);
  }
  layout::TypeDesc* types() const noexcept {
    return table<layout::TypeDesc>(header().type_table_offset);
  }

  Schema read() const { return Schema::read(data(), size_, "layout-test"); }

 private:
  std::size_t size_;
  std::unique_ptr<std::uint64_t[]> words_;
};

// what() of the ProtocolError that reading `image` throws; fails the test if it throws nothing.
std::string read_error(const SegmentImage& image, std::size_t size) {
  try {
    (void)Schema::read(image.data(), size, "layout-test");
  } catch (const ProtocolError& error) {
    return error.what();
  }
  ADD_FAILURE() << "Schema::read accepted a corrupted segment";
  return {};
}

std::string read_error(const SegmentImage& image) {
  return read_error(image, image.size());
}

TEST(LayoutTest, StructSizesMatchTheSpec) {
  EXPECT_EQ(sizeof(layout::SegmentHeader), 256U);
  EXPECT_EQ(sizeof(layout::FunctionMetadata), 48U);
  EXPECT_EQ(sizeof(layout::ArgumentMetadata), 16U);
  EXPECT_EQ(sizeof(layout::TypeDesc), 32U);
  EXPECT_EQ(sizeof(layout::VarSlot), 24U);
  EXPECT_EQ(sizeof(layout::CommandBlock), 1056U);
  EXPECT_EQ(layout::kFrameOffset, 1056U);
}

TEST(LayoutTest, HotLineAndFrameShareACacheLine) {
  const std::size_t state = offsetof(layout::CommandBlock, state);
  EXPECT_EQ(state % layout::kCacheLine, 0U);
  EXPECT_EQ(layout::kFrameOffset / layout::kCacheLine, state / layout::kCacheLine);
  // The whole hot part (state .. result_capacity) lies in that line too.
  EXPECT_EQ((offsetof(layout::CommandBlock, result_capacity) + 7) / layout::kCacheLine,
            state / layout::kCacheLine);
}

TEST(LayoutTest, MagicSpellsShmrpc) {
  std::array<char, 8> bytes{};
  std::memcpy(bytes.data(), &layout::kMagic, bytes.size());
  EXPECT_EQ(std::string_view(bytes.data(), 7), "SHMRPC1");
  EXPECT_EQ(bytes[7], '\x01');
}

TEST(LayoutTest, PlanAlignsEveryPartToACacheLine) {
  const FunctionRegistry registry = sample_registry();
  const detail::SegmentPlan plan =
      detail::plan_segment(registry.functions(), kChannels, kArenaSize);
  EXPECT_EQ(plan.function_table_offset, sizeof(layout::SegmentHeader));
  EXPECT_EQ(plan.function_count, registry.functions().size());
  EXPECT_EQ(plan.channels.table_offset % layout::kCacheLine, 0U);
  EXPECT_EQ(plan.channels.stride % layout::kCacheLine, 0U);
  EXPECT_EQ(plan.channels.heap_offset % layout::kCacheLine, 0U);
  EXPECT_EQ(plan.channels.heap_size % layout::kCacheLine, 0U);
  EXPECT_EQ(plan.channels.count, kChannels);
  EXPECT_EQ(plan.channels.frame_size, largest_frame(registry));
  // The stats region follows the metadata on a cache line; the channels follow the stats.
  EXPECT_EQ(plan.stats_offset, sizeof(layout::SegmentHeader) + plan.metadata.size());
  EXPECT_EQ(plan.stats_offset % layout::kCacheLine, 0U);
  EXPECT_EQ(plan.stats_size,
            std::uint64_t{kChannels} * plan.function_count * sizeof(layout::StatsRecord));
  EXPECT_EQ(plan.channels.table_offset, plan.stats_offset + plan.stats_size);
  // The tables follow each other without gaps; only the stats region is padded to a line.
  EXPECT_EQ(plan.argument_table_offset,
            plan.function_table_offset + plan.function_count * sizeof(layout::FunctionMetadata));
  EXPECT_EQ(plan.type_table_offset,
            plan.argument_table_offset + plan.argument_count * sizeof(layout::ArgumentMetadata));
  EXPECT_EQ(plan.string_table_offset,
            plan.type_table_offset + plan.type_count * sizeof(layout::TypeDesc));
  EXPECT_LE(plan.string_table_offset + plan.string_table_size, plan.stats_offset);
  EXPECT_LT(plan.stats_offset - (plan.string_table_offset + plan.string_table_size),
            layout::kCacheLine);
}

TEST(LayoutTest, PlanSizesHeapAndSegmentFromTheArena) {
  const FunctionRegistry registry = sample_registry();
  const detail::SegmentPlan plan =
      detail::plan_segment(registry.functions(), kChannels, kArenaSize);
  const std::uint64_t heap_offset =
      layout::align_up(layout::kFrameOffset + largest_frame(registry), layout::kCacheLine);
  EXPECT_EQ(plan.channels.heap_offset, heap_offset);
  // The arena holds the frame part (frame + padding) and whole cache lines of heap.
  const std::uint64_t frame_part = heap_offset - layout::kFrameOffset;
  EXPECT_EQ(plan.channels.heap_size,
            (kArenaSize - frame_part) / layout::kCacheLine * layout::kCacheLine);
  EXPECT_GT(plan.channels.heap_size + layout::kCacheLine, kArenaSize - frame_part);
  EXPECT_EQ(plan.channels.stride, plan.channels.heap_offset + plan.channels.heap_size);
  EXPECT_EQ(plan.segment_size, plan.channels.table_offset + kChannels * plan.channels.stride);
}

TEST(LayoutTest, PlanRejectsAnArenaWithoutRoomForAHeap) {
  const FunctionRegistry registry = sample_registry();
  EXPECT_THROW((void)detail::plan_segment(registry.functions(), kChannels, 1024),
               std::invalid_argument);
  EXPECT_THROW((void)detail::plan_segment(registry.functions(), 0, kArenaSize),
               std::invalid_argument);
}

TEST(LayoutTest, WrittenSegmentReadsBackAsTheRegistry) {
  const FunctionRegistry registry = sample_registry();
  const detail::SegmentPlan plan =
      detail::plan_segment(registry.functions(), kChannels, kArenaSize);
  const SegmentImage image(plan);
  EXPECT_EQ(image.header().magic, layout::kMagic);
  EXPECT_EQ(image.header().format_version, layout::kFormatVersion);
  EXPECT_EQ(image.header().server_pid, detail::current_process().pid);

  const Schema schema = image.read();
  EXPECT_EQ(schema.layout_hash(), plan.layout_hash);
  EXPECT_EQ(schema.channels().table_offset, plan.channels.table_offset);
  EXPECT_EQ(schema.channels().count, kChannels);
  EXPECT_EQ(schema.channels().stride, plan.channels.stride);
  EXPECT_EQ(schema.channels().heap_offset, plan.channels.heap_offset);
  EXPECT_EQ(schema.channels().heap_size, plan.channels.heap_size);
  EXPECT_EQ(schema.function_names(), "add, dot, scale, greet, iota, noop");

  ASSERT_EQ(schema.functions().size(), registry.functions().size());
  for (std::size_t f = 0; f < registry.functions().size(); ++f) {
    const FunctionDefinition& defined = registry.functions()[f];
    const FunctionSchema& read = schema.functions()[f];
    SCOPED_TRACE(defined.name);
    EXPECT_EQ(read.index, f);
    EXPECT_EQ(read.name, defined.name);
    EXPECT_EQ(read.doc, defined.doc);
    EXPECT_EQ(read.signature, defined.signature());
    EXPECT_EQ(type_name(*read.return_type), type_name(*defined.return_type));
    EXPECT_TRUE(same_type(*read.return_type, *defined.return_type));
    EXPECT_EQ(read.return_offset, defined.return_slot.offset);
    EXPECT_EQ(read.return_size, defined.return_slot.size);
    EXPECT_EQ(read.frame_size, defined.frame_size);
    ASSERT_EQ(read.arguments.size(), defined.argument_types.size());
    for (std::size_t a = 0; a < read.arguments.size(); ++a) {
      EXPECT_EQ(read.arguments[a].name, defined.argument_names[a]);
      EXPECT_EQ(type_name(*read.arguments[a].type), type_name(*defined.argument_types[a]));
      EXPECT_TRUE(same_type(*read.arguments[a].type, *defined.argument_types[a]));
      EXPECT_EQ(read.arguments[a].offset, defined.argument_slots[a].offset);
      EXPECT_EQ(read.arguments[a].size, defined.argument_slots[a].size);
    }
    EXPECT_EQ(schema.find(defined.name), &read);
  }
  EXPECT_EQ(schema.find("missing"), nullptr);

  const FunctionSchema* dot = schema.find("dot");
  ASSERT_NE(dot, nullptr);
  EXPECT_EQ(dot->signature, "dot(a: span<const float64>, b: span<const float64>) -> float64");
  EXPECT_EQ(dot->doc, "Dot product");
  const FunctionSchema* scale = schema.find("scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_TRUE(scale->arguments[0].type->is_mutable);
  EXPECT_EQ(type_name(*scale->arguments[0].type), "span<float32>");
  const FunctionSchema* iota = schema.find("iota");
  ASSERT_NE(iota, nullptr);
  EXPECT_EQ(iota->arguments[0].name, "arg0");
  EXPECT_EQ(type_name(*iota->return_type), "vector<float64>");
}

TEST(LayoutTest, ReadRejectsBadMagic) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.header().magic ^= 1U;
  EXPECT_THAT(read_error(image), HasSubstr("magic number"));
}

TEST(LayoutTest, ReadRejectsAnotherFormatVersionNamingBoth) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.header().format_version = layout::kFormatVersion + 1;
  const std::string message = read_error(image);
  EXPECT_THAT(message, HasSubstr("version " + std::to_string(layout::kFormatVersion + 1)));
  EXPECT_THAT(message, HasSubstr("version " + std::to_string(layout::kFormatVersion)));
  EXPECT_THAT(message, HasSubstr("layout-test"));
}

TEST(LayoutTest, ReadRejectsAStringOffsetPastTheTable) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.functions()[1].name = image.header().string_table_size + 3;
  EXPECT_THAT(read_error(image), HasSubstr("past the"));
}

TEST(LayoutTest, ReadRejectsAStringTableWithoutFinalNul) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  const layout::SegmentHeader& header = image.header();
  image.data()[header.string_table_offset + header.string_table_size - 1] = std::byte{'x'};
  EXPECT_THAT(read_error(image), HasSubstr("NUL-terminated"));
}

TEST(LayoutTest, ReadRejectsAnElementTypeThatIsNotEarlier) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  std::uint32_t with_element = layout::kNoType;
  for (std::uint32_t i = 0; i < image.header().type_count; ++i) {
    if (image.types()[i].element != layout::kNoType) {
      with_element = i;
      break;
    }
  }
  ASSERT_NE(with_element, layout::kNoType) << "the sample registry has span and vector types";
  image.types()[with_element].element = with_element;  // refers to itself
  EXPECT_THAT(read_error(image), HasSubstr("is not an earlier type"));
}

TEST(LayoutTest, ReadRejectsATypeOfTheWrongSize) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.types()[0].size += 1;
  EXPECT_THAT(read_error(image), HasSubstr("should be"));
}

TEST(LayoutTest, ReadRejectsAnArgumentOffsetPastTheFrame) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  const layout::FunctionMetadata& add = image.functions()[0];
  image.arguments()[add.first_argument + 1].offset = add.frame_size;  // b of add(a, b)
  EXPECT_THAT(read_error(image), HasSubstr("'add' argument 1 has a bad slot"));
}

TEST(LayoutTest, ReadRejectsAMisalignedArgumentOffset) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  const layout::FunctionMetadata& add = image.functions()[0];
  image.arguments()[add.first_argument].offset = 4;  // an int64 at 4
  EXPECT_THAT(read_error(image), HasSubstr("bad slot"));
}

TEST(LayoutTest, ReadRejectsAResultSlotPastTheFrame) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.functions()[0].return_offset = image.functions()[0].frame_size;
  EXPECT_THAT(read_error(image), HasSubstr("bad result slot"));
}

TEST(LayoutTest, ReadRejectsASlotLargerThanTheFrame) {
  // With the slot at offset 0, "offset <= frame - min(frame, size)" held for any size: the
  // client would then read and write past the frame (found by fuzz_schema).
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  auto& function = image.functions()[0];
  ASSERT_GT(function.return_size, 0U);
  function.return_offset = 0;
  function.frame_size = 0;
  EXPECT_THAT(read_error(image), HasSubstr("bad result slot"));
}

TEST(LayoutTest, ReadRejectsATruncatedSegment) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  EXPECT_THAT(read_error(image, image.size() - layout::kCacheLine),
              HasSubstr("do not match the mapping"));
  EXPECT_THAT(read_error(image, sizeof(layout::SegmentHeader) - 1),
              HasSubstr("smaller than a header"));
}

TEST(LayoutTest, ReadRejectsAFunctionTablePastTheSegment) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.header().function_count = 0xFFFF'FFF0U;
  EXPECT_THAT(read_error(image), HasSubstr("function table"));
}

TEST(LayoutTest, ReadRejectsInconsistentChannelGeometry) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.header().channel_count += 1;  // one channel more than the segment holds
  EXPECT_THAT(read_error(image), HasSubstr("channel table"));
}

TEST(LayoutTest, ReadRejectsAWrongLayoutHash) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.header().layout_hash += 1;
  EXPECT_THAT(read_error(image), HasSubstr("layout hash"));
}

TEST(LayoutTest, ReadRejectsASignatureThatDoesNotMatchItsHash) {
  const FunctionRegistry registry = sample_registry();
  const SegmentImage image(detail::plan_segment(registry.functions(), kChannels, kArenaSize));
  image.functions()[0].signature_hash += 1;
  EXPECT_THAT(read_error(image), HasSubstr("signature does not match"));
}

}  // namespace
}  // namespace shmrpc::test
