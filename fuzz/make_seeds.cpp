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
#include <functional>
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
    if (!text.empty()) {
      std::memcpy(bytes.data(), text.data(), text.size());
    }
    return heap_argument(index, bytes, text.size());
  }

  // `bytes` placed in the heap at the next multiple of `align`; returns their offset.
  std::uint64_t place(const std::vector<std::byte>& bytes, std::uint64_t align) {
    const std::uint64_t offset = shmrpc::layout::align_up(heap_.size(), align);
    heap_.resize(offset);
    heap_.insert(heap_.end(), bytes.begin(), bytes.end());
    return offset;
  }

  // A valid value for every argument: fixed values filled with 1 (a valid bool) or 2, spans of
  // kSpanLength such elements, strings "hello", a 2 x 2 ndarray; nested values (section 6.7)
  // with their pieces in the heap, handles to handles: vectors of kSpanLength elements, maps of
  // two entries with different keys, optionals that hold a value.
  Request& valid_arguments() {
    for (std::size_t i = 0; i < function_->argument_types.size(); ++i) {
      const TypeInfo& type = *function_->argument_types[i];
      std::vector<std::byte> slot(type.size);
      encode(type, slot.data(), 0, 64);
      raw(i, slot.data(), slot.size());
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
  // Writes a valid value of `type` into its slot bytes at `out` (outside the heap) and the pieces
  // it points to into the heap, the outermost at a multiple of `align` (64 for an argument, as a
  // client's heap blocks are; an element's own alignment inside a value). `variant` makes keys
  // of one map differ.
  void encode(const TypeInfo& type, std::byte* out, std::uint64_t variant, std::uint64_t align) {
    switch (type.kind) {
      case TypeKind::kString: {
        const std::string text = variant == 0 ? "hello" : "key" + std::to_string(variant);
        std::vector<std::byte> bytes(text.size());
        std::memcpy(bytes.data(), text.data(), text.size());
        store(out, shmrpc::layout::VarSlot{place(bytes, align), text.size(), 0});
        return;
      }
      case TypeKind::kNdArray: {
        // A 2 x 2 array, C-ordered, in the heap.
        const std::vector<std::byte> bytes(4 * type.element->size, std::byte{2});
        shmrpc::layout::NdSlot nd{};
        nd.data = {place(bytes, align), 4, 0};
        nd.rank = 2;
        nd.shape = {2, 2};
        const auto size = static_cast<std::int64_t>(type.element->size);
        nd.strides = {2 * size, size};
        store(out, nd);
        return;
      }
      case TypeKind::kSpan:
      case TypeKind::kVector: {
        const TypeInfo& element = *type.element;
        std::vector<std::byte> elements(kSpanLength * element.size);
        for (std::uint64_t i = 0; i < kSpanLength; ++i) {
          encode(element, elements.data() + i * element.size, 0, element.align);
        }
        const std::uint64_t at = place(elements, std::max<std::uint64_t>(align, element.align));
        store(out, shmrpc::layout::VarSlot{at, kSpanLength, 0});
        return;
      }
      case TypeKind::kMap: {
        const shmrpc::ValueLayout entry = shmrpc::map_entry_layout(type);
        constexpr std::uint64_t kEntries = 2;
        std::vector<std::byte> entries(kEntries * entry.size);
        for (std::uint64_t i = 0; i < kEntries; ++i) {
          std::byte* at = entries.data() + i * entry.size;
          encode(*type.members[0].type, at + type.members[0].value, i + 1, 1);
          encode(*type.members[1].type, at + type.members[1].value, 0, 1);
        }
        const std::uint64_t at = place(entries, std::max<std::uint64_t>(align, entry.align));
        store(out, shmrpc::layout::VarSlot{at, kEntries, 0});
        return;
      }
      case TypeKind::kOptional:
        std::memset(out, 0, type.size);
        out[0] = std::byte{1};
        encode(*type.element, out + shmrpc::optional_value_offset(type.element->align), variant,
               type.element->align);
        return;
      case TypeKind::kTuple:
        if (type.indirect) {
          std::memset(out, 0, type.size);
          for (const shmrpc::MemberInfo& member : type.members) {
            encode(*member.type, out + member.value, variant, member.type->align);
          }
          return;
        }
        [[fallthrough]];
      default: {
        // Fixed: every byte 1 or 2, the first one changed for another key of a map.
        const auto fill = std::byte{holds_bool(type) ? std::uint8_t{1} : std::uint8_t{2}};
        std::memset(out, std::to_integer<int>(fill), type.size);
        if (variant != 0 && (shmrpc::is_integer(type.kind) || shmrpc::is_floating(type.kind))) {
          out[0] = static_cast<std::byte>(2 + variant);
        }
        return;
      }
    }
  }

  template <class T>
  static void store(std::byte* out, const T& value) {
    std::memcpy(out, &value, sizeof value);
  }

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

// The bytes of `slots`, for an array of handles in the heap.
template <class T>
std::vector<std::byte> bytes_of(const std::vector<T>& slots) {
  std::vector<std::byte> bytes(slots.size() * sizeof(T));
  if (!bytes.empty()) {
    std::memcpy(bytes.data(), slots.data(), bytes.size());
  }
  return bytes;
}

std::vector<std::byte> bytes_of(const std::string& text) {
  std::vector<std::byte> bytes(text.size());
  if (!text.empty()) {
    std::memcpy(bytes.data(), text.data(), text.size());
  }
  return bytes;
}

using shmrpc::layout::VarSlot;

// One map<int32, string> entry (TupleLayout: the key at 0, the string's handle at 8).
struct NumberName {
  std::int32_t number;
  std::uint32_t padding;
  VarSlot name;
};

// Requests for the functions of nested values (section 6.7): handles to handles that are valid
// in ways valid_arguments() does not take (in buffers, shared by several handles, empty), each
// check of decode_nested once, and results that take each path of place_result_pieces.
std::size_t write_nested_seeds(const std::vector<FunctionDefinition>& functions,
                               const fs::path& dir) {
  std::size_t written = 0;
  const auto save = [&](const std::string& name, const Request& request) {
    write_file(dir / (name + ".bin"), request.bytes());
    ++written;
  };
  const auto request = [&](const std::string& name) {
    return Request(functions, index_of(functions, name));
  };
  // A vector<string> argument of `words`, each string placed on its own.
  const auto words = [](Request& r, std::size_t index, const std::vector<std::string>& list) {
    std::vector<VarSlot> slots;
    for (const std::string& word : list) {
      slots.push_back({r.place(bytes_of(word), 1), word.size(), 0});
    }
    r.value(index, VarSlot{r.place(bytes_of(slots), 64), slots.size(), 0});
  };
  {
    Request r = request("join_words");
    words(r, 0, {"a", "bc", "", "def"});
    save("nested_words_ok", r.text(1, ", "));
  }
  {
    // 160 handles to the same string: the server copies it 160 times.
    Request r = request("join_words");
    const std::uint64_t word = r.place(bytes_of(std::string("shared")), 1);
    const std::vector<VarSlot> slots(160, VarSlot{word, 6, 0});
    r.value(0, VarSlot{r.place(bytes_of(slots), 64), slots.size(), 0});
    save("nested_handles_shared", r.text(1, "-"));
  }
  {
    // The array of handles in buffer 2 (zeros: empty strings), a string in buffer 1.
    Request r = request("count_words");
    save("nested_handles_in_buffer", r.value(0, VarSlot{0, 100, 2}));
    const std::vector<VarSlot> slots{{0, 255, 1}, {16, 8, 2}, {0, 0, 0}};
    Request s = request("count_words");
    save("nested_strings_in_buffer", s.value(0, VarSlot{s.place(bytes_of(slots), 64), 3, 0}));
  }
  // A vector<string> whose second handle is bad.
  const auto bad_words = [&](const std::string& name, const std::vector<VarSlot>& slots) {
    Request r = request("count_words");
    r.place(bytes_of(std::string("text")), 1);
    save(name, r.value(0, VarSlot{r.place(bytes_of(slots), 64), slots.size(), 0}));
  };
  bad_words("nested_string_past_heap", {{0, 4, 0}, {4000, 200, 0}});
  bad_words("nested_string_huge_length", {{0, 4, 0}, {0, ~std::uint64_t{0}, 0}});
  bad_words("nested_string_unknown_buffer", {{0, 4, 0}, {0, 1, 77}});
  {
    // The array of handles itself misaligned (VarSlots are 8-byte aligned).
    Request r = request("count_words");
    const std::vector<VarSlot> slots{{0, 0, 0}};
    const std::uint64_t at = r.place(bytes_of(slots), 64);
    save("nested_handles_misaligned", r.value(0, VarSlot{at + 4, 1, 0}));
    Request h = request("count_words");
    save("nested_handles_huge_length", h.value(0, VarSlot{0, 0x0AAA'AAAA'AAAA'AAABULL, 0}));
  }
  {
    // vector<vector<int32>>: rows of 1, 0 and 3 elements; then one misaligned, one past the heap.
    Request r = request("row_sums");
    const std::uint64_t a = r.place(bytes_of(std::vector<std::int32_t>{7}), 4);
    const std::uint64_t b = r.place(bytes_of(std::vector<std::int32_t>{1, -2, 3}), 4);
    const std::vector<VarSlot> rows{{a, 1, 0}, {0, 0, 0}, {b, 3, 0}};
    save("nested_rows_ok", r.value(0, VarSlot{r.place(bytes_of(rows), 64), rows.size(), 0}));
    Request m = request("row_sums");
    const std::vector<VarSlot> misaligned{{2, 1, 0}};
    save("nested_row_misaligned", m.value(0, VarSlot{m.place(bytes_of(misaligned), 64), 1, 0}));
    Request p = request("row_sums");
    const std::vector<VarSlot> past{{4092, 2, 0}};
    save("nested_row_past_heap", p.value(0, VarSlot{p.place(bytes_of(past), 64), 1, 0}));
  }
  {
    // map<int32, string>: two entries, then two that repeat a key.
    const auto names = [&](const std::string& name, std::int32_t first, std::int32_t second) {
      Request r = request("number_names");
      const std::uint64_t one = r.place(bytes_of(std::string("one")), 1);
      const std::uint64_t two = r.place(bytes_of(std::string("two")), 1);
      const std::vector<NumberName> entries{{first, 0, {one, 3, 0}}, {second, 0, {two, 3, 0}}};
      save(name, r.value(0, VarSlot{r.place(bytes_of(entries), 64), entries.size(), 0}));
    };
    names("map_ok", 1, 2);
    names("map_repeated_key", 5, 5);
    Request h = request("number_names");
    save("map_huge_length", h.value(0, VarSlot{64, 0x0AAA'AAAA'AAAA'AAABULL, 0}));
    Request b = request("number_names");
    save("map_entries_in_buffer", b.value(0, VarSlot{0, 3, 2}));  // zeros: key 0 three times
  }
  {
    // map<string, vector<double>> whose two keys are the same string, in two places.
    Request r = request("series_totals");
    const std::uint64_t key1 = r.place(bytes_of(std::string("xy")), 1);
    const std::uint64_t key2 = r.place(bytes_of(std::string("xy")), 1);
    const std::uint64_t values = r.place(std::vector<std::byte>(16, std::byte{0x40}), 8);
    const std::vector<VarSlot> entries{{key1, 2, 0}, {values, 2, 0}, {key2, 2, 0}, {0, 0, 0}};
    save("map_repeated_string_key", r.value(0, VarSlot{r.place(bytes_of(entries), 64), 2, 0}));
  }
  {
    // optional<string>: none, a bad flag, a value whose handle is past the heap.
    save("optional_none", request("shout").value(0, std::array<std::uint8_t, 32>{}));
    std::array<std::uint8_t, 32> bad{};
    bad[0] = 2;
    save("optional_bad_flag", request("shout").value(0, bad));
    Request r = request("shout");
    const VarSlot past{4096, 1, 0};
    std::array<std::byte, 32> some{};
    some[0] = std::byte{1};
    std::memcpy(some.data() + 8, &past, sizeof past);
    save("optional_string_past_heap", r.value(0, some));
  }
  // Results: pieces that fit the window, that do not (a buffer made for them), no window at all,
  // a misaligned window, and ndarrays in a tuple.
  save("nested_result_split", request("split_words").text(0, "one two  three"));
  save("nested_result_into_buffer",
       request("repeat_word").text(0, "abcdefgh").value(1, std::uint16_t{400}));
  save("nested_result_no_window", request("split_words").text(0, "a b c").window(0, 0));
  save("nested_result_window_misaligned", request("describe").valid_arguments().window(2052, 1024));
  save("nested_result_empty", request("repeat_word").text(0, "").value(1, std::uint16_t{0}));
  {
    Request r = request("threshold");
    const std::vector<float> image{0.5F, 2.0F, 1.5F, -1.0F, 3.0F, 0.0F};
    std::vector<std::byte> bytes(image.size() * sizeof(float));
    std::memcpy(bytes.data(), image.data(), bytes.size());
    shmrpc::layout::NdSlot nd{};
    nd.data = {r.place(bytes, 64), 6, 0};
    nd.rank = 2;
    nd.shape = {2, 3};
    nd.strides = {12, 4};
    save("nd_pair_result", r.value(0, nd).value(1, 1.0F));
    nd.shape = {0, 3};
    nd.data.length = 0;
    save("nd_pair_result_empty", r.value(0, nd));
  }
  return written;
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
  written += write_nested_seeds(functions, dir);
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
  explicit PatchedExample(const std::vector<FunctionDefinition>& functions)
      : bytes_(make_segment(functions, 1)) {}

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

// Writes `segment` as defect_NAME.bin, once Schema::read has refused it.
void save_defect(const fs::path& dir, const std::string& name, const PatchedExample& segment) {
  try {
    (void)shmrpc::Schema::read(segment.bytes().data(), segment.bytes().size(), name);
    throw std::logic_error("make_seeds: Schema::read accepts defect_" + name);
  } catch (const shmrpc::ProtocolError&) {  // refused, as it must be
  }
  write_file(dir / ("defect_" + name + ".bin"), segment.bytes());
}

// A segment of the nested fuzz functions with one defect each in a type of nested values (the
// checks of TypeReader for kinds vector, optional, tuple and map). Types are found by kind in the
// table the writer made; an element or member is replaced by an earlier type, so that only the
// check named fails.
std::size_t write_nested_defect_seeds(const fs::path& dir) {
  // A void result and a span first (earlier types to swap in), then the nested functions.
  const std::vector<FunctionDefinition>& all = fuzz::fuzz_functions();
  std::vector<FunctionDefinition> functions{all.at(index_of(all, "nothing")),
                                            all.at(index_of(all, "sum_u8"))};
  functions.insert(functions.end(), all.begin() + index_of(all, "join_words"), all.end());
  PatchedExample probe(functions);
  const std::uint64_t type_count = probe.header().type_count;
  const auto kind_of = [&](std::uint32_t i) { return static_cast<TypeKind>(probe.type(i).kind); };
  // The first type of `kind` (whose element, or a member, is of kind `inner`), after `after`.
  const auto find = [&](TypeKind kind, TypeKind inner, std::uint32_t after = 0) {
    for (std::uint32_t i = after; i < type_count; ++i) {
      if (kind_of(i) != kind) {
        continue;
      }
      const shmrpc::layout::TypeDesc& t = probe.type(i);
      bool holds = t.element != shmrpc::layout::kNoType && kind_of(t.element) == inner;
      for (std::uint64_t m = 0; kind != TypeKind::kEnum && m < t.count; ++m) {
        holds = holds || kind_of(probe.member(t.first_member + m).type) == inner;
      }
      if (holds) {
        return i;
      }
    }
    throw std::logic_error("make_seeds: no such type among the fuzz functions' types");
  };
  // The first span and the void type (results of the first functions), earlier than the rest.
  std::uint32_t span = 0;
  while (kind_of(span) != TypeKind::kSpan) {
    ++span;
  }
  const std::uint32_t map = find(TypeKind::kMap, TypeKind::kString);
  const std::uint32_t words = find(TypeKind::kVector, TypeKind::kString, span);
  const std::uint32_t maybe = find(TypeKind::kOptional, TypeKind::kString, span);
  const std::uint32_t tuple = find(TypeKind::kTuple, TypeKind::kString, span);
  std::uint32_t nothing = 0;  // void
  while (kind_of(nothing) != TypeKind::kVoid) {
    ++nothing;
  }
  using Patch = std::function<void(PatchedExample&)>;
  const std::uint32_t map_member = probe.type(map).first_member;
  const std::uint32_t tuple_member = probe.type(tuple).first_member;
  const std::vector<std::pair<std::string, Patch>> defects{
      {"map_one_member", [&](PatchedExample& s) { s.type(map).count = 1; }},
      {"map_three_members",
       [&](PatchedExample& s) {
         s.type(map).count = 3;  // the next type's first member: members do not follow on
       }},
      {"map_value_misplaced", [&](PatchedExample& s) { s.member(map_member + 1).value += 8; }},
      {"map_bad_size", [&](PatchedExample& s) { s.type(map).size = 48; }},
      {"map_key_void", [&](PatchedExample& s) { s.member(map_member).type = nothing; }},
      {"vector_of_void", [&](PatchedExample& s) { s.type(words).element = nothing; }},
      {"vector_of_span", [&](PatchedExample& s) { s.type(words).element = span; }},
      {"optional_of_span", [&](PatchedExample& s) { s.type(maybe).element = span; }},
      {"tuple_member_void", [&](PatchedExample& s) { s.member(tuple_member).type = nothing; }},
      {"tuple_member_misplaced", [&](PatchedExample& s) { s.member(tuple_member + 1).value += 8; }},
  };
  for (const auto& [name, patch] : defects) {
    PatchedExample segment(functions);
    patch(segment);
    save_defect(dir, name, segment);
  }
  return defects.size();
}

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
      {"argument_void", [](PatchedExample& s) { s.argument(0).type = 3; }},
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
    save_defect(dir, name, segment);
  }
  return defects.size() + write_nested_defect_seeds(dir);
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

  const auto nested = all.begin() + index_of(all, "join_words");
  save("segment_nested_functions", make_segment({nested, all.end()}, 1));

  save("duplicate_name", make_duplicate_name_segment());
  written += write_defect_seeds(dir);

  std::vector<std::byte> bad = make_segment(example, 1);
  bad.resize(sizeof(shmrpc::layout::SegmentHeader) - 1);
  save("short_header", bad);
  bad = make_segment({}, 1);
  reinterpret_cast<shmrpc::layout::SegmentHeader*>(bad.data())->format_version = 2;
  save("format_version_2", bad);
  bad = make_segment(example, 1);
  reinterpret_cast<shmrpc::layout::SegmentHeader*>(bad.data())->format_version =
      shmrpc::layout::kFormatVersion - 1;  // the format before this one
  save("format_version_previous", bad);
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
