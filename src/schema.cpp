#include "shmrpc/schema.hpp"

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
    throw ProtocolError("shmrpc: segment of server '" + std::string(server_) +
                        "' is malformed: " + what);
  }

  // A table of `count` entries of `entry_size` bytes at `offset`, inside the segment and aligned.
  template <class T>
  const T* table(std::uint64_t offset, std::uint64_t count, const char* what) const {
    if (offset % alignof(T) != 0 || offset > size_ || count > (size_ - offset) / sizeof(T)) {
      fail(std::string(what) + " table (offset " + std::to_string(offset) + ", " +
           std::to_string(count) + " entries) does not fit the " + std::to_string(size_) +
           "-byte segment");
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
      fail("string offset " + std::to_string(offset) + " is past the " +
           std::to_string(strings_size_) + "-byte string table");
    }
    // The table ends with NUL (checked in set_strings), so strnlen stops inside it.
    const std::size_t length = strnlen(strings_ + offset, strings_size_ - offset);
    if (length > max_length) {
      fail("a name of " + std::to_string(length) + " bytes is longer than " +
           std::to_string(max_length));
    }
    copied_ += length;
    if (copied_ > kCopyBudgetFactor * std::uint64_t{strings_size_} + kCopyBudgetSlack) {
      fail("its entries reference the " + std::to_string(strings_size_) +
           "-byte string table far more often than a server writes it");
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

std::uint32_t scalar_size(TypeKind kind) {
  switch (kind) {
    case TypeKind::kBool:
    case TypeKind::kInt8:
    case TypeKind::kUInt8:
      return 1;
    case TypeKind::kInt16:
    case TypeKind::kUInt16:
      return 2;
    case TypeKind::kInt32:
    case TypeKind::kUInt32:
    case TypeKind::kFloat32:
      return 4;
    case TypeKind::kInt64:
    case TypeKind::kUInt64:
    case TypeKind::kFloat64:
      return 8;
    default:
      return 0;
  }
}

// Function and argument names are identifiers of at most this many bytes (registry.cpp).
constexpr std::size_t kMaxNameLength = 255;

// Deeper nesting than any real signature; bounds the recursion in type_name and same_type.
constexpr std::size_t kMaxTypeDepth = 32;

// The element type of type `index`: an earlier, fixed-size type, not nested too deeply.
const TypeInfo* read_element(const MetadataReader& reader, const TypeDesc& desc,
                             std::uint32_t index, const std::deque<TypeInfo>& built) {
  const std::string what = "type " + std::to_string(index) + ": ";
  if (desc.element >= index) {
    reader.fail(what + "element type " + std::to_string(desc.element) + " is not an earlier type");
  }
  const TypeInfo* element = &built[desc.element];
  if (!is_scalar(element->kind) && element->kind != TypeKind::kArray) {
    reader.fail(what + "element type is not a fixed-size type");
  }
  std::size_t depth = 1;
  for (const TypeInfo* inner = element; inner != nullptr; inner = inner->element) {
    if (++depth > kMaxTypeDepth) {
      reader.fail(what + "nests more than " + std::to_string(kMaxTypeDepth) + " levels deep");
    }
  }
  return element;
}

// Rebuilds type `index` from its descriptor; `built` holds the earlier (element) types.
TypeInfo read_type(const MetadataReader& reader, const TypeDesc& desc, std::uint32_t index,
                   const std::deque<TypeInfo>& built) {
  const auto kind = static_cast<TypeKind>(desc.kind);
  TypeInfo type{.kind = kind,
                .is_mutable = (desc.flags & layout::kTypeMutable) != 0,
                .count = desc.count,
                .size = desc.size,
                .align = desc.align};
  const auto bad = [&](const std::string& why) {
    reader.fail("type " + std::to_string(index) + ": " + why);
  };
  const bool has_element =
      kind == TypeKind::kArray || kind == TypeKind::kSpan || kind == TypeKind::kVector;
  if (has_element) {
    type.element = read_element(reader, desc, index, built);
  } else if (desc.element != layout::kNoType) {
    bad("has an element type but is not an array, span or vector");
  }
  if (type.is_mutable && kind != TypeKind::kSpan) {
    bad("only spans can be mutable");
  }
  const auto expect_size = [&](std::uint64_t size, std::uint32_t align) {
    if (desc.size != size || desc.align != align) {
      bad("size " + std::to_string(desc.size) + " / alignment " + std::to_string(desc.align) +
          " should be " + std::to_string(size) + " / " + std::to_string(align));
    }
  };
  if (kind == TypeKind::kVoid) {
    expect_size(0, 1);
  } else if (is_scalar(kind)) {
    expect_size(scalar_size(kind), scalar_size(kind));
  } else if (kind == TypeKind::kArray) {
    const std::uint64_t element_size = type.element->size;
    if (desc.count == 0 || desc.count > std::numeric_limits<std::uint32_t>::max() / element_size) {
      bad("array of " + std::to_string(desc.count) + " elements");
    }
    expect_size(element_size * desc.count, type.element->align);
  } else if (is_variable(kind)) {
    expect_size(sizeof(layout::VarSlot), alignof(layout::VarSlot));
  } else {
    bad("unknown kind " + std::to_string(desc.kind));
  }
  if (kind != TypeKind::kArray && desc.count != 0) {
    bad("has a count but is not an array");
  }
  return type;
}

const TypeInfo* type_at(const MetadataReader& reader, const std::deque<TypeInfo>& types,
                        std::uint32_t index, const std::string& what) {
  if (index >= types.size()) {
    reader.fail(what + " refers to type " + std::to_string(index) + " of " +
                std::to_string(types.size()));
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
    reader.fail("channel table (offset " + std::to_string(channels.table_offset) + ", " +
                std::to_string(channels.count) + " channels of " + std::to_string(channels.stride) +
                " bytes, heap at " + std::to_string(channels.heap_offset) + ") is inconsistent");
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
  const std::string what = "function '" + function.name + "'";
  function.return_type = type_at(reader, types, entry.return_type, what);
  function.return_offset = entry.return_offset;
  function.return_size = entry.return_size;
  function.frame_size = entry.frame_size;
  if (entry.frame_size > header.frame_size || entry.return_size > entry.frame_size ||
      entry.return_offset > entry.frame_size - entry.return_size ||
      entry.return_size != function.return_type->size ||
      entry.return_offset % function.return_type->align != 0 ||
      function.return_type->kind == TypeKind::kSpan) {
    reader.fail(what + " has a bad result slot or frame size");
  }
  if (entry.first_argument > header.argument_count ||
      entry.arity > header.argument_count - entry.first_argument) {
    reader.fail(what + " has arguments outside the argument table");
  }
  std::vector<std::string> names;
  std::vector<const TypeInfo*> argument_types;
  for (std::uint32_t a = 0; a < entry.arity; ++a) {
    const layout::ArgumentMetadata& arg = arguments[entry.first_argument + a];
    ArgumentSchema argument{reader.string(arg.name, kMaxNameLength),
                            type_at(reader, types, arg.type, what), arg.offset, arg.size};
    if (arg.size != argument.type->size || arg.size == 0 || arg.size > entry.frame_size ||
        arg.offset > entry.frame_size - arg.size || arg.offset % argument.type->align != 0 ||
        argument.type->kind == TypeKind::kVector) {
      reader.fail(what + " argument " + std::to_string(a) + " has a bad slot or type");
    }
    names.push_back(argument.name);
    argument_types.push_back(argument.type);
    function.arguments.push_back(std::move(argument));
  }
  function.signature =
      format_signature(function.name, names, argument_types, *function.return_type);
  function.signature_hash = detail::fnv1a(function.signature);
  if (function.signature_hash != entry.signature_hash ||
      reader.string(entry.signature) != function.signature) {
    reader.fail(what + " signature does not match its stored hash");
  }
  return function;
}

}  // namespace

Schema Schema::read(const std::byte* segment, std::size_t size, std::string_view server) {
  MetadataReader reader(segment, size, server);
  if (size < sizeof(layout::SegmentHeader)) {
    reader.fail("it is " + std::to_string(size) + " bytes, smaller than a header");
  }
  const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment);
  if (header.magic != layout::kMagic) {
    reader.fail("it does not start with the shmrpc magic number");
  }
  if (header.format_version != layout::kFormatVersion) {
    throw ProtocolError("shmrpc: server '" + std::string(server) +
                        "' uses segment format version " + std::to_string(header.format_version) +
                        "; this client reads version " + std::to_string(layout::kFormatVersion));
  }
  if (header.header_size != sizeof(layout::SegmentHeader) || header.segment_size != size) {
    reader.fail("header size " + std::to_string(header.header_size) + " / segment size " +
                std::to_string(header.segment_size) + " do not match the mapping (" +
                std::to_string(size) + " bytes)");
  }

  Schema schema;
  const auto* strings =
      reader.table<char>(header.string_table_offset, header.string_table_size, "string");
  reader.set_strings(strings, header.string_table_size);

  const auto* types = reader.table<TypeDesc>(header.type_table_offset, header.type_count, "type");
  for (std::uint32_t i = 0; i < header.type_count; ++i) {
    schema.types_.push_back(read_type(reader, types[i], i, schema.types_));
  }
  schema.channels_ = read_geometry(reader, header, size);
  const auto* functions = reader.table<layout::FunctionMetadata>(header.function_table_offset,
                                                                 header.function_count, "function");
  const auto* arguments = reader.table<layout::ArgumentMetadata>(header.argument_table_offset,
                                                                 header.argument_count, "argument");
  detail::LayoutHasher layout_hash;
  for (std::uint32_t i = 0; i < header.function_count; ++i) {
    FunctionSchema function =
        read_function(reader, header, functions[i], arguments, schema.types_, i);
    layout_hash.add(function.signature);
    if (!schema.by_name_.emplace(function.name, i).second) {
      reader.fail("function '" + function.name + "' appears twice");
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
