#include "shmrpc/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "shmrpc/detail/hash.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/layout.hpp"

namespace shmrpc {
namespace {

using layout::TypeDesc;

// Reads the metadata of one segment, checking every offset, length and index it follows.
class MetadataReader {
 public:
  MetadataReader(const std::byte* segment, std::size_t size, std::string_view server)
      : segment_(segment), size_(size), server_(server) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ProtocolError(
        fmt::format("shmrpc: segment of server '{}' is malformed: {}", server_, what));
  }

  // A table of `count` entries of `entry_size` bytes at `offset`, inside the segment and aligned.
  template <class T>
  const T* table(std::uint64_t offset, std::uint64_t count, const char* what) const {
    if (offset % alignof(T) != 0 || offset > size_ || count > (size_ - offset) / sizeof(T)) {
      fail(fmt::format("{} table (offset {}, {} entries) does not fit the {}-byte segment", what,
                       offset, count, size_));
    }
    return reinterpret_cast<const T*>(segment_ + offset);
  }

  void set_strings(const char* strings, std::uint32_t size) {
    if (size == 0 || strings[size - 1] != '\0') {
      fail("the string table is not NUL-terminated");
    }
    strings_ = strings;
    strings_size_ = size;
  }

  // The string at `offset`, at most `max_length` bytes long. Every string copied out counts
  // against a budget of a few times the table's size, so that a segment whose entries all
  // reference one huge string cannot make the reader copy it without end.
  std::string string(std::uint32_t offset,
                     std::size_t max_length = std::numeric_limits<std::size_t>::max()) {
    if (offset >= strings_size_) {
      fail(fmt::format("string offset {} is past the {}-byte string table", offset, strings_size_));
    }
    // The table ends with NUL (checked in set_strings), so strnlen stops inside it.
    const std::size_t length = strnlen(strings_ + offset, strings_size_ - offset);
    if (length > max_length) {
      fail(fmt::format("a name of {} bytes is longer than {}", length, max_length));
    }
    copied_ += length;
    if (copied_ > kCopyBudgetFactor * std::uint64_t{strings_size_} + kCopyBudgetSlack) {
      fail(fmt::format(
          "its entries reference the {}-byte string table far more often than a server writes it",
          strings_size_));
    }
    return {strings_ + offset, length};
  }

 private:
  const std::byte* segment_;
  std::size_t size_;
  std::string_view server_;
  static constexpr std::uint64_t kCopyBudgetFactor = 8;
  static constexpr std::uint64_t kCopyBudgetSlack = std::uint64_t{1} << 20U;
  const char* strings_ = nullptr;
  std::uint32_t strings_size_ = 0;
  std::uint64_t copied_ = 0;
};

// Function, argument, field and enumerator names are identifiers of at most this many bytes
// (registry.cpp); C++ type names are longer but bounded too.
constexpr std::size_t kMaxNameLength = 255;
constexpr std::size_t kMaxTypeNameLength = 1024;
// No C++ object is aligned to more than a page.
constexpr std::uint32_t kMaxAlign = 4096;

// Deeper nesting than any real signature; bounds the recursion in type_name and same_type.
constexpr std::size_t kMaxTypeDepth = 32;

// Rebuilds the types of the type table, checking each against the rules of its kind. Element
// and member types come earlier in the table, so one pass in table order sees them built.
class TypeReader {
 public:
  TypeReader(MetadataReader& reader, const layout::MemberDesc* members, std::uint32_t member_count)
      : reader_(reader), members_(members), member_count_(member_count) {}

  void read(const TypeDesc& desc, std::deque<TypeInfo>& built) {
    index_ = static_cast<std::uint32_t>(built.size());
    const KindTraits* traits = find_kind(desc.kind);
    if (traits == nullptr) {
      bad(fmt::format("unknown kind {}", desc.kind));
    }
    const TypeKind kind = traits->kind;
    TypeInfo type;
    type.kind = kind;
    type.is_mutable = (desc.flags & layout::kTypeMutable) != 0;
    type.size = desc.size;
    type.align = desc.align;
    std::size_t depth = 1;
    if (traits->has_element) {
      type.element = earlier(desc.element, built, "element type");
      depth = std::max(depth, depths_[desc.element] + 1);
    } else if (desc.element != layout::kNoType) {
      bad("has an element type but is not an array, span, vector, optional or enum");
    }
    if (type.is_mutable && !traits->can_be_mutable) {
      bad("only spans can be mutable");
    }
    if (traits->members != Members::kNone) {
      read_members(desc, *traits, type, built, depth);
    } else if (desc.first_member != 0 || (!traits->has_count && desc.count != 0)) {
      bad("has members or a count but is not a struct, enum, tuple or array");
    }
    if (is_named(kind)) {
      type.name = reader_.string(desc.name, kMaxTypeNameLength);
      if (type.name.empty()) {
        bad("a struct or enum needs a name");
      }
    }
    if (depth > kMaxTypeDepth) {
      bad(fmt::format("nests more than {} levels deep", kMaxTypeDepth));
    }
    check_size(desc, *traits, type);
    if (traits->has_count) {
      type.count = desc.count;
    }
    depths_.push_back(depth);
    built.push_back(finish_type(std::move(type)));
  }

  // Every member of the table belongs to exactly one type.
  void finish() const {
    if (next_member_ != member_count_) {
      reader_.fail(fmt::format("the member table has {} entries but the types use {}",
                               member_count_, next_member_));
    }
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    reader_.fail(fmt::format("type {}: {}", index_, why));
  }

  const TypeInfo* earlier(std::uint32_t index, const std::deque<TypeInfo>& built,
                          const char* what) const {
    if (index >= built.size()) {
      bad(fmt::format("{} {} is not an earlier type", what, index));
    }
    return &built[index];
  }

  void read_members(const TypeDesc& desc, const KindTraits& traits, TypeInfo& type,
                    const std::deque<TypeInfo>& built, std::size_t& depth) {
    // The writer lists the members of each type in table order, so they follow one another.
    if (desc.count == 0 || desc.first_member != next_member_ ||
        desc.count > member_count_ - next_member_) {
      bad(fmt::format(
          "members {} + {} do not follow on from the previous type's in the {}-entry member table",
          desc.first_member, desc.count, member_count_));
    }
    next_member_ += static_cast<std::uint32_t>(desc.count);
    for (std::uint64_t m = 0; m < desc.count; ++m) {
      const layout::MemberDesc& entry = members_[desc.first_member + m];
      MemberInfo member{reader_.string(entry.name, kMaxNameLength), entry.value, nullptr};
      if (traits.members == Members::kEnumerators) {
        if (entry.type != layout::kNoType || member.name.empty()) {
          bad(fmt::format("enumerator {} has a type or no name", m));
        }
      } else {
        member.type = earlier(entry.type, built, "member type");
        depth = std::max(depth, depths_[entry.type] + 1);
        const bool fields = traits.members == Members::kFields;
        if (fields ? !is_fixed(member.type->kind) : !is_value_kind(member.type->kind)) {
          bad(fmt::format("member {} is not a {} type", m, fields ? "fixed-size" : "value"));
        }
        if (member.name.empty() != (traits.members == Members::kElements)) {
          bad("struct fields have names, tuple elements none");
        }
      }
      type.members.push_back(std::move(member));
    }
  }

  void expect(const TypeDesc& desc, std::uint64_t size, std::uint32_t align) const {
    if (desc.size != size || desc.align != align) {
      bad(fmt::format("size {} / alignment {} should be {} / {}", desc.size, desc.align, size,
                      align));
    }
  }

  // The size and alignment rule of the kind (type_kinds.hpp, SizeRule).
  void check_size(const TypeDesc& desc, const KindTraits& traits, const TypeInfo& type) const {
    switch (traits.size_rule) {
      case SizeRule::kEmpty:
        expect(desc, 0, 1);
        return;
      case SizeRule::kScalar:
        expect(desc, traits.scalar_size, scalar_align(traits.kind));
        return;
      case SizeRule::kNdSlot:
        if (!is_nd_element(type.element->kind) || desc.count > layout::kMaxRank) {
          bad(fmt::format("ndarray of rank {} or of a type that is not a number", desc.count));
        }
        expect(desc, sizeof(layout::NdSlot), alignof(layout::NdSlot));
        return;
      case SizeRule::kHeapSlot:
        if (type.kind == TypeKind::kSpan && !is_fixed(type.element->kind)) {
          bad("span of a type that is not fixed-size");
        }
        if (type.element != nullptr && !is_value_kind(type.element->kind)) {
          bad("vector of void or of spans");
        }
        expect(desc, sizeof(layout::VarSlot), alignof(layout::VarSlot));
        return;
      case SizeRule::kEntries:
        if (type.members.size() != 2) {
          bad(fmt::format("a map has a key and a value, not {} members", type.members.size()));
        }
        check_tuple_offsets(type);
        expect(desc, sizeof(layout::VarSlot), alignof(layout::VarSlot));
        return;
      case SizeRule::kRepeated: {
        const std::uint64_t element_size = type.element->size;
        if (!is_fixed(type.element->kind) || desc.count == 0 ||
            desc.count > std::numeric_limits<std::uint32_t>::max() / element_size) {
          bad(fmt::format("array of {} elements of a non-fixed or huge type", desc.count));
        }
        expect(desc, element_size * desc.count, type.element->align);
        return;
      }
      case SizeRule::kOptional: {
        const TypeInfo& value = *type.element;
        if (!is_value_kind(value.kind)) {
          bad("optional of void or of a span");
        }
        const ValueLayout wire = optional_layout({value.size, value.align});
        expect(desc, wire.size, wire.align);
        return;
      }
      case SizeRule::kUnderlying:
        if (!is_integer(type.element->kind)) {
          bad("the underlying type of an enum is not an integer");
        }
        expect(desc, type.element->size, type.element->align);
        return;
      case SizeRule::kFieldLayout:
        check_struct(desc, type);
        return;
      case SizeRule::kTupleLayout:
        check_tuple(desc, type);
        return;
    }
    bad(fmt::format("unknown kind {}", desc.kind));
  }

  // Elements one after the other, each at its alignment: std::tuple's layout as shmrpc writes it.
  void check_tuple(const TypeDesc& desc, const TypeInfo& type) const {
    const ValueLayout total = check_tuple_offsets(type);
    expect(desc, total.size, total.align);
  }

  // The members at the offsets TupleLayout gives them (a tuple's elements, a map's entry).
  ValueLayout check_tuple_offsets(const TypeInfo& type) const {
    TupleLayout tuple;
    for (const MemberInfo& member : type.members) {
      const std::uint64_t offset = tuple.add({member.type->size, member.type->align});
      if (member.value != offset) {
        bad(fmt::format("element at offset {} should be at {}", member.value, offset));
      }
    }
    return tuple.total();
  }

  // Fields in increasing, non-overlapping, aligned order inside the struct's size: what a
  // compiler lays out for an aggregate.
  void check_struct(const TypeDesc& desc, const TypeInfo& type) const {
    if (desc.align == 0 || desc.align > kMaxAlign || !std::has_single_bit(desc.align) ||
        desc.size == 0 || desc.size % desc.align != 0) {
      bad(fmt::format("struct size {} / alignment {} is not a C++ layout", desc.size, desc.align));
    }
    std::uint64_t end = 0;
    for (const MemberInfo& field : type.members) {
      const TypeInfo& field_type = *field.type;
      if (field.value < end || field.value % field_type.align != 0 ||
          desc.align % field_type.align != 0 || field.value > desc.size ||
          field_type.size > desc.size - field.value) {
        bad(fmt::format("field '{}' at offset {} does not fit the struct's layout", field.name,
                        field.value));
      }
      end = field.value + field_type.size;
    }
  }

  MetadataReader& reader_;
  const layout::MemberDesc* members_;
  std::uint32_t member_count_;
  std::uint32_t next_member_ = 0;
  std::uint32_t index_ = 0;
  std::vector<std::size_t> depths_;
};

const TypeInfo* type_at(const MetadataReader& reader, const std::deque<TypeInfo>& types,
                        std::uint32_t index, const std::string& what) {
  if (index >= types.size()) {
    reader.fail(fmt::format("{} refers to type {} of {}", what, index, types.size()));
  }
  return &types[index];
}

ChannelGeometry read_geometry(const MetadataReader& reader, const layout::SegmentHeader& header,
                              std::size_t size) {
  const ChannelGeometry channels{header.channel_table_offset, header.channel_count,
                                 header.frame_size,           header.channel_stride,
                                 header.heap_offset,          header.heap_size};
  const bool ok = channels.count > 0 && channels.stride > 0 &&
                  channels.table_offset % layout::kCacheLine == 0 &&
                  channels.stride % layout::kCacheLine == 0 &&
                  channels.heap_offset % layout::kCacheLine == 0 &&
                  channels.heap_offset >= layout::kFrameOffset + channels.frame_size &&
                  channels.heap_size <= channels.stride &&
                  channels.heap_offset <= channels.stride - channels.heap_size &&
                  channels.table_offset <= size &&
                  channels.count <= (size - channels.table_offset) / channels.stride;
  if (!ok) {
    reader.fail(fmt::format(
        "channel table (offset {}, {} channels of {} bytes, frame of {} bytes, heap at {}) is "
        "inconsistent",
        channels.table_offset, channels.count, channels.stride, channels.frame_size,
        channels.heap_offset));
  }
  return channels;
}

FunctionSchema read_function(MetadataReader& reader, const layout::SegmentHeader& header,
                             const layout::FunctionMetadata& entry,
                             const layout::ArgumentMetadata* arguments,
                             const std::deque<TypeInfo>& types, std::uint32_t index) {
  FunctionSchema function;
  function.index = index;
  function.name = reader.string(entry.name, kMaxNameLength);
  function.doc = reader.string(entry.doc);
  const std::string what = fmt::format("function '{}'", function.name);
  function.return_type = type_at(reader, types, entry.return_type, what);
  function.return_offset = entry.return_offset;
  function.return_size = entry.return_size;
  function.frame_size = entry.frame_size;
  function.streams = (entry.flags & layout::kFunctionStreams) != 0;
  if ((entry.flags & ~layout::kFunctionStreams) != 0) {
    reader.fail(fmt::format("{} has unknown flags 0x{:x}", what, entry.flags));
  }
  if (function.streams && function.return_type->kind == TypeKind::kVoid) {
    reader.fail(fmt::format("{} streams elements of type void", what));
  }
  if (entry.frame_size > header.frame_size || entry.return_size > entry.frame_size ||
      entry.return_offset > entry.frame_size - entry.return_size ||
      entry.return_size != function.return_type->size ||
      entry.return_offset % function.return_type->align != 0 ||
      !kind_traits(function.return_type->kind).in_results) {
    reader.fail(fmt::format("{} has a bad result slot or frame size", what));
  }
  if (entry.first_argument > header.argument_count ||
      entry.arity > header.argument_count - entry.first_argument) {
    reader.fail(fmt::format("{} has arguments outside the argument table", what));
  }
  std::vector<std::string> names;
  std::vector<const TypeInfo*> argument_types;
  for (std::uint32_t a = 0; a < entry.arity; ++a) {
    const layout::ArgumentMetadata& arg = arguments[entry.first_argument + a];
    ArgumentSchema argument{reader.string(arg.name, kMaxNameLength),
                            type_at(reader, types, arg.type, what), arg.offset, arg.size};
    if (arg.size != argument.type->size || arg.size == 0 || arg.size > entry.frame_size ||
        arg.offset > entry.frame_size - arg.size || arg.offset % argument.type->align != 0 ||
        !kind_traits(argument.type->kind).in_arguments) {
      reader.fail(fmt::format("{} argument {} has a bad slot or type", what, a));
    }
    names.push_back(argument.name);
    argument_types.push_back(argument.type);
    function.arguments.push_back(std::move(argument));
  }
  function.signature = format_signature(function.name, names, argument_types, *function.return_type,
                                        function.streams);
  function.layout = format_layout_key(function.name, names, argument_types, *function.return_type,
                                      function.streams);
  function.signature_hash = detail::fnv1a(function.layout);
  if (function.signature_hash != entry.signature_hash ||
      reader.string(entry.signature) != function.signature) {
    reader.fail(fmt::format("{} signature does not match its stored hash", what));
  }
  return function;
}

}  // namespace

Schema Schema::read(const std::byte* segment, std::size_t size, std::string_view server) {
  MetadataReader reader(segment, size, server);
  if (size < sizeof(layout::SegmentHeader)) {
    reader.fail(fmt::format("it is {} bytes, smaller than a header", size));
  }
  const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment);
  if (header.magic != layout::kMagic) {
    reader.fail("it does not start with the shmrpc magic number");
  }
  if (header.format_version != layout::kFormatVersion) {
    throw ProtocolError(fmt::format(
        "shmrpc: server '{}' uses segment format version {}; this client reads version {}", server,
        header.format_version, layout::kFormatVersion));
  }
  if (header.header_size != sizeof(layout::SegmentHeader) || header.segment_size != size) {
    reader.fail(fmt::format("header size {} / segment size {} do not match the mapping ({} bytes)",
                            header.header_size, header.segment_size, size));
  }

  Schema schema;
  const auto* strings =
      reader.table<char>(header.string_table_offset, header.string_table_size, "string");
  reader.set_strings(strings, header.string_table_size);

  const auto* types = reader.table<TypeDesc>(header.type_table_offset, header.type_count, "type");
  const auto* members =
      reader.table<layout::MemberDesc>(header.member_table_offset, header.member_count, "member");
  TypeReader type_reader(reader, members, header.member_count);
  for (std::uint32_t i = 0; i < header.type_count; ++i) {
    type_reader.read(types[i], schema.types_);
  }
  type_reader.finish();
  schema.channels_ = read_geometry(reader, header, size);
  const auto* functions = reader.table<layout::FunctionMetadata>(header.function_table_offset,
                                                                 header.function_count, "function");
  const auto* arguments = reader.table<layout::ArgumentMetadata>(header.argument_table_offset,
                                                                 header.argument_count, "argument");
  detail::LayoutHasher layout_hash;
  for (std::uint32_t i = 0; i < header.function_count; ++i) {
    FunctionSchema function =
        read_function(reader, header, functions[i], arguments, schema.types_, i);
    layout_hash.add(function.layout);
    if (!schema.by_name_.emplace(function.name, i).second) {
      reader.fail(fmt::format("function '{}' appears twice", function.name));
    }
    schema.functions_.push_back(std::move(function));
  }
  if (layout_hash.value() != header.layout_hash) {
    reader.fail("the layout hash does not match the functions");
  }
  schema.layout_hash_ = header.layout_hash;
  return schema;
}

const FunctionSchema* Schema::find(std::string_view name) const noexcept {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &functions_[it->second];
}

std::string Schema::function_names() const {
  std::string names;
  for (const FunctionSchema& function : functions_) {
    names += (names.empty() ? "" : ", ") + function.name;
  }
  return names.empty() ? "(none)" : names;
}

}  // namespace shmrpc
