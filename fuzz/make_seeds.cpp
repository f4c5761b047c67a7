// Writes the seed inputs of the fuzz targets:
//   make_seeds OUT_DIR
// OUT_DIR/dispatch/: a valid request for every function of fuzz_functions(), then requests that
// take each error path once (dispatch_input.hpp has the byte map).
// OUT_DIR/schema/: whole segments, as a server lays them out (plan_segment + write_segment, state
// kReady) with the smallest arena plan_segment accepts, so that each is a few KiB; then segments
// cut short or from another format version, and the example segment with one defect for each
// check of SPEC.md section 10.1.
// The output is deterministic: the server identity and creation time are fixed.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dispatch_input.hpp"
#include "fuzz_functions.hpp"
#include "shmrpc/detail/hash.hpp"
#include "shmrpc/detail/metadata_writer.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/types.hpp"

namespace {

namespace fs = std::filesystem;
using shmrpc::FunctionDefinition;
using shmrpc::TypeInfo;
using shmrpc::TypeKind;
namespace fuzz = shmrpc::fuzz;

// Where valid requests put their result window: the upper half of the 4 KiB heap.
constexpr std::uint64_t kWindowOffset = 2048;
constexpr std::uint64_t kWindowCapacity = 2048;
// Elements of every span argument in a valid request.
constexpr std::uint64_t kSpanLength = 3;

void write_file(const fs::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

// True when bytes of 2 would be invalid somewhere in `type` (a bool, an enum whose enumerators
// include 1 rather than 0x0202..., an optional's flag): such values are filled with 1 instead.
bool holds_bool(const TypeInfo& type) {
  if (type.kind == TypeKind::kBool || type.kind == TypeKind::kEnum ||
      type.kind == TypeKind::kOptional) {
    return true;
  }
  const bool in_members =
      std::any_of(type.members.begin(), type.members.end(),
                  [](const shmrpc::MemberInfo& m) { return holds_bool(*m.type); });
  return in_members || (type.element != nullptr && holds_bool(*type.element));
}

// One fuzz_dispatch input, built field by field.
class Request {
 public:
  Request(const std::vector<FunctionDefinition>& functions, std::uint32_t index)
      : function_(index < functions.size() ? &functions[index] : nullptr),
        frame_(fuzz::frame_size(functions, index)) {
    switch (index) {
      case shmrpc::layout::kProbeIndex:
        index_byte_ = fuzz::kIndexMaxByte;
        break;
      case shmrpc::layout::kMakeBufferIndex:
        index_byte_ = fuzz::kMakeBufferByte;
        break;
      case shmrpc::layout::kReleaseBufferIndex:
        index_byte_ = fuzz::kReleaseBufferByte;
        break;
      default:
        index_byte_ = static_cast<std::uint8_t>(index);
    }
  }

  const FunctionDefinition& function() const { return *function_; }

  Request& window(std::uint64_t offset, std::uint64_t capacity) {
    result_offset_ = offset;
    result_capacity_ = capacity;
    return *this;
  }

  Request& heap_selector(std::uint8_t selector) {
    heap_selector_ = selector;
    return *this;
  }

  // Raw bytes into argument `index`'s slot, from its start.
  Request& raw(std::size_t index, const void* bytes, std::size_t size) {
    std::memcpy(frame_.data() + function_->argument_slots.at(index).offset, bytes, size);
    return *this;
  }

  template <class T>
  Request& value(std::size_t index, const T& value) {
    return raw(index, &value, sizeof value);
  }

  // `bytes` placed in the heap (64-byte aligned, after what is there) and a VarSlot of
  // `length` elements pointing at them in argument `index`'s slot.
  Request& heap_argument(std::size_t index, const std::vector<std::byte>& bytes,
                         std::uint64_t length) {
    const std::uint64_t offset = shmrpc::layout::align_up(heap_.size(), 64);
    heap_.resize(offset);
    heap_.insert(heap_.end(), bytes.begin(), bytes.end());
    return value(index, shmrpc::layout::VarSlot{offset, length, 0});
  }

  Request& text(std::size_t index, const std::string& text) {
    std::vector<std::byte> bytes(text.size());
    std::memcpy(bytes.data(), text.data(), text.size());
    return heap_argument(index, bytes, text.size());
  }

  // A valid value for every argument: fixed values filled with 1 (a valid bool) or 2, spans of
  // kSpanLength such elements, strings "hello".
  Request& valid_arguments() {
    for (std::size_t i = 0; i < function_->argument_types.size(); ++i) {
      const TypeInfo& type = *function_->argument_types[i];
      if (type.kind == TypeKind::kString) {
        text(i, "hello");
      } else if (type.kind == TypeKind::kNdArray) {
        // A 2 x 2 array, C-ordered, in the heap.
        const std::uint64_t offset = shmrpc::layout::align_up(heap_.size(), 64);
        heap_.resize(offset + 4 * type.element->size, std::byte{2});
        shmrpc::layout::NdSlot nd{};
        nd.data = {offset, 4, 0};
        nd.rank = 2;
        nd.shape = {2, 2};
        const auto size = static_cast<std::int64_t>(type.element->size);
        nd.strides = {2 * size, size};
        value(i, nd);
      } else if (type.kind == TypeKind::kSpan) {
        const auto fill = std::byte{holds_bool(type) ? std::uint8_t{1} : std::uint8_t{2}};
        heap_argument(i, std::vector<std::byte>(kSpanLength * type.element->size, fill),
                      kSpanLength);
      } else {
        const auto fill = std::byte{holds_bool(type) ? std::uint8_t{1} : std::uint8_t{2}};
        const std::vector<std::byte> bytes(type.size, fill);
        raw(i, bytes.data(), bytes.size());
      }
    }
    return *this;
  }

  std::vector<std::byte> bytes() const {
    std::vector<std::byte> out(fuzz::kInputHeaderSize);
    out[fuzz::kIndexOffset] = std::byte{index_byte_};
    out[fuzz::kHeapSelectorOffset] = std::byte{heap_selector_};
    std::memcpy(out.data() + fuzz::kResultOffsetOffset, &result_offset_, sizeof result_offset_);
    std::memcpy(out.data() + fuzz::kResultCapacityOffset, &result_capacity_,
                sizeof result_capacity_);
    out.insert(out.end(), frame_.begin(), frame_.end());
    out.insert(out.end(), heap_.begin(), heap_.end());
    return out;
  }

 private:
  const FunctionDefinition* function_;
  std::uint8_t index_byte_ = 0;
  std::uint8_t heap_selector_ = 0;
  std::uint64_t result_offset_ = kWindowOffset;
  std::uint64_t result_capacity_ = kWindowCapacity;
  std::vector<std::byte> frame_;
  std::vector<std::byte> heap_;
};

std::uint32_t index_of(const std::vector<FunctionDefinition>& functions, const std::string& name) {
  const auto it = std::find_if(functions.begin(), functions.end(),
                               [&](const FunctionDefinition& f) { return f.name == name; });
  if (it == functions.end()) {
    throw std::logic_error("make_seeds: no function '" + name + "' in fuzz_functions()");
  }
  return static_cast<std::uint32_t>(it - functions.begin());
}

std::size_t write_dispatch_seeds(const fs::path& dir) {
  const std::vector<FunctionDefinition>& functions = fuzz::fuzz_functions();
  std::size_t written = 0;
  const auto save = [&](const std::string& name, const Request& request) {
    write_file(dir / (name + ".bin"), request.bytes());
    ++written;
  };
  const auto request = [&](const std::string& name) {
    return Request(functions, index_of(functions, name));
  };

  for (std::uint32_t i = 0; i < functions.size(); ++i) {
    save("valid_" + functions[i].name, Request(functions, i).valid_arguments());
  }

  // Each outcome and each check of SPEC.md section 10.3 once.
  save("remote_exception", request("fail").text(0, "on purpose"));
  save("remote_exception_truncated", request("fail_long").value(0, std::uint16_t{2000}));
  save("remote_exception_result", request("fail_or_text").value(0, true).text(1, "text"));
  save("result_too_large",
       request("repeat").text(0, "abc").value(1, std::uint16_t{1000}).window(64, 128));
  save("iota_ok", request("iota").value(0, std::int64_t{-2}).value(1, std::uint16_t{5}));
  save("repeat_ok", request("repeat").text(0, "ab").value(1, std::uint16_t{3}));
  save("result_empty_window", request("iota").value(1, std::uint16_t{4}).window(0, 0));
  save("vector_of_arrays", request("grid").value(0, std::uint8_t{10}));
  save("index_out_of_range", Request(functions, static_cast<std::uint32_t>(functions.size())));
  save("index_max", Request(functions, shmrpc::layout::kProbeIndex));
  save("bad_bool", request("bump_bool").value(0, std::uint8_t{2}));
  save("bad_bool_in_array", request("invert4").value(0, std::array<std::uint8_t, 4>{1, 0, 7, 1}));
  save("bad_bool_in_span",
       request("count_true").heap_argument(0, {std::byte{1}, std::byte{0}, std::byte{3}}, 3));
  save("span_past_heap", request("sum_u8").value(0, shmrpc::layout::VarSlot{4000, 200, 0}));
  save("span_misaligned", request("sum_f64").value(0, shmrpc::layout::VarSlot{4, 2, 0}));
  save("span_huge_length",
       request("sum_points").value(0, shmrpc::layout::VarSlot{0, 0x1555'5555'5555'5556ULL, 0}));
  save("string_past_heap", request("length").value(0, shmrpc::layout::VarSlot{4096, 1, 0}));
  save("window_past_heap", request("hello").window(4000, 200));
  save("window_misaligned", request("halves").valid_arguments().window(2052, 1024));
  save("no_heap", request("hello").heap_selector(64));
  save("small_heap", request("bytes_of").valid_arguments().heap_selector(60).window(128, 64));
  // Buffer handles (ids 1 and 2 exist, 256 and 4096 bytes) and buffer requests.
  save("buffer_span_ok", request("sum_f64").value(0, shmrpc::layout::VarSlot{64, 8, 2}));
  save("buffer_unknown", request("sum_f64").value(0, shmrpc::layout::VarSlot{0, 1, 99}));
  save("buffer_past_end", request("sum_u8").value(0, shmrpc::layout::VarSlot{200, 57, 1}));
  save("buffer_misaligned", request("sum_f64").value(0, shmrpc::layout::VarSlot{4, 2, 2}));
  save("buffer_huge_length",
       request("sum_points").value(0, shmrpc::layout::VarSlot{0, 0x1555'5555'5555'5556ULL, 2}));
  save("buffer_string", request("length").value(0, shmrpc::layout::VarSlot{0, 255, 1}));
  save("buffer_mutable", request("copy_bytes")
                             .value(0, shmrpc::layout::VarSlot{0, 32, 2})
                             .value(1, shmrpc::layout::VarSlot{64, 32, 2}));
  {
    shmrpc::layout::NdSlot nd{};
    nd.data = {4096, 6, 2};  // in buffer 2, element [0, 0] at byte 4096 - its reach below
    nd.rank = 2;
    nd.shape = {3, 2};
    nd.strides = {-512, 8};
    nd.data.offset = 2048;
    save("nd_in_buffer_reversed", request("nd_sum").value(0, nd));
    nd.strides = {-512, 4};
    save("nd_stride_not_whole", request("nd_sum").value(0, nd));
    nd.data.offset = 8;
    nd.strides = {-512, 8};
    save("nd_reach_before_start", request("nd_sum").value(0, nd));
    nd.rank = 9;
    save("nd_rank_too_high", request("nd_sum").value(0, nd));
  }
  save("nd_make_small", request("nd_make").value(0, std::uint8_t{2}).value(1, std::uint8_t{3}));
  save("nd_make_large", request("nd_make").value(0, std::uint8_t{200}).value(1, std::uint8_t{200}));
  save("result_into_buffer", request("bytes_of").valid_arguments().window(0, 0));
  save("make_buffer", Request(functions, shmrpc::layout::kMakeBufferIndex).window(0, 4096));
  save("make_buffer_empty", Request(functions, shmrpc::layout::kMakeBufferIndex).window(0, 0));
  save("make_buffer_over_quota",
       Request(functions, shmrpc::layout::kMakeBufferIndex).window(0, std::uint64_t{1} << 40U));
  save("release_foreign_buffer",
       Request(functions, shmrpc::layout::kReleaseBufferIndex).window(1, 0));
  save("release_unknown_buffer",
       Request(functions, shmrpc::layout::kReleaseBufferIndex).window(7, 0));
  save("mutable_overlap", request("copy_bytes")
                              .heap_argument(0, std::vector<std::byte>(32, std::byte{5}), 32)
                              .value(1, shmrpc::layout::VarSlot{8, 32, 0}));
  return written;
}

// A segment as a server publishes it: header, metadata, zeroed channels, state kReady.
std::vector<std::byte> make_segment(const std::vector<FunctionDefinition>& functions,
                                    std::uint32_t channel_count) {
  std::uint64_t frame_size = 0;
  for (const FunctionDefinition& function : functions) {
    frame_size = std::max<std::uint64_t>(frame_size, function.frame_size);
  }
  // The smallest arena plan_segment accepts: the frame's part of it plus 4 KiB of heap.
  const std::uint64_t frame_part =
      shmrpc::layout::align_up(shmrpc::layout::kFrameOffset + frame_size, 64) -
      shmrpc::layout::kFrameOffset;
  const shmrpc::detail::SegmentPlan plan =
      shmrpc::detail::plan_segment(functions, channel_count, frame_part + 4096);
  std::vector<std::byte> segment(plan.segment_size);
  shmrpc::detail::write_segment(segment.data(), plan, {.pid = 4242, .start_time = 123456});
  auto& header = *reinterpret_cast<shmrpc::layout::SegmentHeader*>(segment.data());
  header.created_unix_ms = 1'700'000'000'000ULL;
  header.state.store(static_cast<std::uint32_t>(shmrpc::layout::ServerState::kReady),
                     std::memory_order_relaxed);
  return segment;
}

// Two functions with the same name and signature, hashes and all: only the duplicate check
// rejects it. A server never writes this (the registry refuses a second name), so it is patched.
std::vector<std::byte> make_duplicate_name_segment() {
  const std::vector<FunctionDefinition>& example = fuzz::example_functions();
  std::vector<std::byte> segment = make_segment({example[0], example[0]}, 1);
  auto& header = *reinterpret_cast<shmrpc::layout::SegmentHeader*>(segment.data());
  auto* functions = reinterpret_cast<shmrpc::layout::FunctionMetadata*>(
      segment.data() + header.function_table_offset);
  functions[1].name = functions[0].name;
  functions[1].signature = functions[0].signature;
  functions[1].signature_hash = functions[0].signature_hash;
  const std::string signature = example[0].signature();
  shmrpc::detail::LayoutHasher layout_hash;
  layout_hash.add(signature);
  layout_hash.add(signature);
  header.layout_hash = layout_hash.value();
  return segment;
}

// The example segment with one defect each, so that every check of SPEC.md section 10.1 (and of
// src/schema.cpp) starts with an input that fails it (make_seeds checks that Schema::read
// refuses each). Type indices are those of SPEC.md section 13: 0 int64, 1 float64,
// 2 span<const float64>, 3 void, 4 span<float64>, 5 array<float64, 4>, 6 float32,
// 7 span<const float32>, 8 string, 9 vector<int64>, 10 array<float64, 3>, 11 demo::Particle,
// 12 span<demo::Particle>, 13 uint8, 14 demo::Floor, 15 demo::Energy,
// 16 span<const demo::Particle>, 17 optional<demo::Particle>, 18 int32; members 0-2 the fields of
// Particle, 3-4 the enumerators of Floor, 5-6 the fields of Energy.
class PatchedExample {
 public:
  PatchedExample() : bytes_(make_segment(fuzz::example_functions(), 1)) {}

  shmrpc::layout::SegmentHeader& header() {
    return *reinterpret_cast<shmrpc::layout::SegmentHeader*>(bytes_.data());
  }
  shmrpc::layout::FunctionMetadata& function(std::size_t i) {
    return at<shmrpc::layout::FunctionMetadata>(header().function_table_offset, i);
  }
  shmrpc::layout::ArgumentMetadata& argument(std::size_t i) {
    return at<shmrpc::layout::ArgumentMetadata>(header().argument_table_offset, i);
  }
  shmrpc::layout::TypeDesc& type(std::size_t i) {
    return at<shmrpc::layout::TypeDesc>(header().type_table_offset, i);
  }
  shmrpc::layout::MemberDesc& member(std::size_t i) {
    return at<shmrpc::layout::MemberDesc>(header().member_table_offset, i);
  }
  std::byte& string_byte(std::size_t i) { return bytes_.at(header().string_table_offset + i); }
  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  template <class T>
  T& at(std::uint64_t table_offset, std::size_t i) {
    return *reinterpret_cast<T*>(bytes_.data() + table_offset + i * sizeof(T));
  }

  std::vector<std::byte> bytes_;
};

std::size_t write_defect_seeds(const fs::path& dir) {
  using Patch = void (*)(PatchedExample&);
  const std::vector<std::pair<std::string, Patch>> defects{
      {"bad_magic", [](PatchedExample& s) { s.header().magic ^= 1U; }},
      {"bad_header_size", [](PatchedExample& s) { s.header().header_size = 128; }},
      {"strings_outside", [](PatchedExample& s) { s.header().string_table_size = 1U << 30U; }},
      {"strings_unterminated",
       [](PatchedExample& s) { s.string_byte(s.header().string_table_size - 1) = std::byte{'x'}; }},
      {"types_misaligned", [](PatchedExample& s) { s.header().type_table_offset += 4; }},
      {"type_element_later", [](PatchedExample& s) { s.type(2).element = 5; }},
      {"type_element_variable", [](PatchedExample& s) { s.type(4).element = 2; }},
      {"type_scalar_with_element", [](PatchedExample& s) { s.type(0).element = 1; }},
      {"type_mutable_scalar",
       [](PatchedExample& s) { s.type(0).flags = shmrpc::layout::kTypeMutable; }},
      {"type_bad_size", [](PatchedExample& s) { s.type(0).size = 4; }},
      {"type_array_count_0", [](PatchedExample& s) { s.type(5).count = 0; }},
      {"type_unknown_kind", [](PatchedExample& s) { s.type(18).kind = 14; }},
      {"type_count_on_scalar", [](PatchedExample& s) { s.type(0).count = 1; }},
      {"channels_outside", [](PatchedExample& s) { s.header().channel_count = 2; }},
      {"heap_over_frame", [](PatchedExample& s) { s.header().frame_size = 1024; }},
      {"functions_misaligned", [](PatchedExample& s) { s.header().function_table_offset += 4; }},
      {"arguments_outside", [](PatchedExample& s) { s.header().argument_count = 1U << 30U; }},
      {"name_outside_strings",
       [](PatchedExample& s) { s.function(0).name = s.header().string_table_size; }},
      {"return_type_outside", [](PatchedExample& s) { s.function(0).return_type = 19; }},
      {"result_slot_misaligned", [](PatchedExample& s) { s.function(0).return_offset = 12; }},
      {"frame_over_header", [](PatchedExample& s) { s.function(3).frame_size = 96; }},
      {"arity_outside", [](PatchedExample& s) { s.function(10).arity = 2; }},
      {"argument_misaligned", [](PatchedExample& s) { s.argument(1).offset = 4; }},
      {"argument_vector", [](PatchedExample& s) { s.argument(0).type = 9; }},
      {"signature_hash_wrong", [](PatchedExample& s) { s.function(0).signature_hash ^= 1U; }},
      {"layout_hash_wrong", [](PatchedExample& s) { s.header().layout_hash ^= 1U; }},
      {"members_outside", [](PatchedExample& s) { s.header().member_count = 1U << 30U; }},
      {"members_not_following", [](PatchedExample& s) { s.type(15).first_member = 0; }},
      {"members_unused", [](PatchedExample& s) { s.header().member_count += 1; }},
      {"member_type_later", [](PatchedExample& s) { s.member(0).type = 12; }},
      {"member_not_fixed", [](PatchedExample& s) { s.member(0).type = 2; }},
      {"struct_fields_overlap", [](PatchedExample& s) { s.member(1).value = 8; }},
      {"struct_field_outside", [](PatchedExample& s) { s.member(2).value = 56; }},
      {"struct_unnamed", [](PatchedExample& s) { s.type(11).name = 0; }},
      {"struct_bad_align", [](PatchedExample& s) { s.type(11).align = 3; }},
      {"enumerator_with_type", [](PatchedExample& s) { s.member(3).type = 0; }},
      {"enum_underlying_float", [](PatchedExample& s) { s.type(14).element = 1; }},
      {"optional_bad_size", [](PatchedExample& s) { s.type(17).size = 56; }},
  };
  for (const auto& [name, patch] : defects) {
    PatchedExample segment;
    patch(segment);
    try {
      (void)shmrpc::Schema::read(segment.bytes().data(), segment.bytes().size(), name);
      throw std::logic_error("make_seeds: Schema::read accepts defect_" + name);
    } catch (const shmrpc::ProtocolError&) {  // refused, as it must be
    }
    write_file(dir / ("defect_" + name + ".bin"), segment.bytes());
  }
  return defects.size();
}

std::size_t write_schema_seeds(const fs::path& dir) {
  const std::vector<FunctionDefinition>& all = fuzz::fuzz_functions();
  const std::vector<FunctionDefinition>& example = fuzz::example_functions();
  std::size_t written = 0;
  const auto save = [&](const std::string& name, const std::vector<std::byte>& bytes) {
    write_file(dir / (name + ".bin"), bytes);
    ++written;
  };
  save("segment_fuzz_functions", make_segment(all, 1));
  save("segment_example", make_segment(example, 1));
  save("segment_example_2_channels", make_segment(example, 2));
  save("segment_no_functions", make_segment({}, 1));
  save("segment_one_function", make_segment({example.begin(), example.begin() + 1}, 1));
  // Thirds of the fuzz functions: every type, fewer functions each.
  const std::size_t third = all.size() / 3;
  for (std::size_t part = 0; part < 3; ++part) {
    const auto begin = all.begin() + static_cast<std::ptrdiff_t>(part * third);
    const auto end = part == 2 ? all.end() : begin + static_cast<std::ptrdiff_t>(third);
    save("segment_fuzz_part" + std::to_string(part), make_segment({begin, end}, 1));
  }

  save("duplicate_name", make_duplicate_name_segment());
  written += write_defect_seeds(dir);

  std::vector<std::byte> bad = make_segment(example, 1);
  bad.resize(sizeof(shmrpc::layout::SegmentHeader) - 1);
  save("short_header", bad);
  bad = make_segment({}, 1);
  reinterpret_cast<shmrpc::layout::SegmentHeader*>(bad.data())->format_version = 2;
  save("format_version_2", bad);
  bad = make_segment({}, 1);
  bad.resize(bad.size() - 64);
  save("segment_cut_short", bad);
  return written;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT_DIR\n";
    return 2;
  }
  try {
    const fs::path out = argv[1];
    fs::create_directories(out / "dispatch");
    fs::create_directories(out / "schema");
    const std::size_t dispatch = write_dispatch_seeds(out / "dispatch");
    const std::size_t schema = write_schema_seeds(out / "schema");
    std::cout << "make_seeds: " << dispatch << " dispatch and " << schema << " schema seeds in "
              << out.string() << "\n";
  } catch (const std::exception& error) {
    std::cerr << "make_seeds: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
