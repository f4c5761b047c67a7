// libFuzzer target: a client's reading of a segment's header and metadata. Every input is a whole
// segment, copied into a buffer of exactly its size, 8-byte aligned like a mapping; Schema::read
// must return a Schema or throw shmrpc::ProtocolError. Any other exception escapes, and libFuzzer
// reports it. A Schema it returns must keep the promises of docs/SPEC.md section 10.1 that a
// client relies on to stay inside the segment (checked below; a broken one aborts).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <string>

#include "shmrpc/detail/stats.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/schema_json.hpp"
#include "shmrpc/types.hpp"

namespace {

using shmrpc::layout::kCacheLine;

[[noreturn]] void violation(const std::string& rule) {
  std::fprintf(stderr, "fuzz_schema: Schema::read accepted a segment that breaks: %s\n",
               rule.c_str());
  std::abort();
}

void require(bool ok, const std::string& rule) {
  if (!ok) {
    violation(rule);
  }
}

// True when [offset, offset + size) lies inside [0, limit), without overflow.
bool fits(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

// The promises a client relies on when it follows a value of `type` through its handles, for
// the type and every type it holds (each once: a table's types may share element types).
void check_type(const shmrpc::TypeInfo* type, std::set<const shmrpc::TypeInfo*>& checked) {
  using shmrpc::TypeKind;
  require(type != nullptr, "every type is set");
  if (!checked.insert(type).second) {
    return;
  }
  require(type->align != 0 && (type->align & (type->align - 1)) == 0,
          "a type's alignment is a power of two");
  if (type->kind == TypeKind::kArray || type->kind == TypeKind::kSpan ||
      type->kind == TypeKind::kVector || type->kind == TypeKind::kOptional ||
      type->kind == TypeKind::kNdArray) {
    require(type->element != nullptr,
            "arrays, spans, vectors, optionals, ndarrays have an element");
    require(type->element->size != 0, "an element has a size");
    require(shmrpc::is_value_kind(type->element->kind),
            "an element is a value, not void or a span");
    check_type(type->element, checked);
  }
  if (type->kind == TypeKind::kMap) {
    require(type->members.size() == 2, "a map has a key and a value");
    const shmrpc::ValueLayout entry = shmrpc::map_entry_layout(*type);
    require(entry.size != 0 && entry.align != 0, "a map's entry has a size and an alignment");
  }
  if (type->kind == TypeKind::kMap || type->kind == TypeKind::kTuple ||
      type->kind == TypeKind::kStruct) {
    std::uint64_t end = 0;  // members at increasing offsets, inside the value
    for (const shmrpc::MemberInfo& member : type->members) {
      check_type(member.type, checked);
      require(shmrpc::is_value_kind(member.type->kind), "a member is a value, not void or a span");
      require(member.value >= end && member.value % member.type->align == 0,
              "members are aligned, one after the other");
      end = member.value + member.type->size;
      require(type->kind == TypeKind::kMap || end <= type->size,
              "a struct's or tuple's members lie inside it");
    }
  }
  require(type->kind != TypeKind::kStruct || !type->indirect, "a struct holds no handles");
}

void check_geometry(const shmrpc::ChannelGeometry& channels, std::size_t size) {
  require(channels.count >= 1, "channel_count >= 1");
  require(channels.table_offset % kCacheLine == 0 && channels.stride % kCacheLine == 0 &&
              channels.heap_offset % kCacheLine == 0,
          "channel table, stride and heap offset are multiples of 64");
  require(channels.heap_offset >= shmrpc::layout::kFrameOffset + channels.frame_size,
          "heap_offset >= 1056 + frame_size");
  require(fits(channels.heap_offset, channels.heap_size, channels.stride),
          "heap_offset + heap_size <= channel_stride");
  require(channels.stride != 0 && channels.table_offset <= size &&
              channels.count <= (size - channels.table_offset) / channels.stride,
          "all channels lie inside the segment");
}

void check_function(const shmrpc::Schema& schema, const shmrpc::FunctionSchema& function,
                    std::size_t position) {
  const std::string what = "function " + std::to_string(position) + " ('" + function.name + "')";
  require(function.index == position, what + ": index is its place in the table");
  require(schema.find(function.name) == &function, what + ": find() returns it");
  require(function.frame_size <= schema.channels().frame_size,
          what + ": frame_size <= SegmentHeader::frame_size");
  std::set<const shmrpc::TypeInfo*> checked;
  check_type(function.return_type, checked);
  require(function.return_type->kind != shmrpc::TypeKind::kSpan, what + ": no span result");
  require(function.return_size == function.return_type->size,
          what + ": return_size is the result type's size");
  require(function.return_offset % function.return_type->align == 0,
          what + ": the result slot is aligned");
  require(fits(function.return_offset, function.return_size, function.frame_size),
          what + ": the result slot lies within the function's frame_size");
  for (std::size_t a = 0; a < function.arguments.size(); ++a) {
    const shmrpc::ArgumentSchema& argument = function.arguments[a];
    const std::string arg = what + " argument " + std::to_string(a);
    check_type(argument.type, checked);
    require(argument.type->kind != shmrpc::TypeKind::kVoid, arg + ": not void");
    require(argument.size == argument.type->size && argument.size != 0,
            arg + ": size is the type's size, not 0");
    require(argument.offset % argument.type->align == 0, arg + ": the slot is aligned");
    require(fits(argument.offset, argument.size, function.frame_size),
            arg + ": the slot lies within the function's frame_size");
  }
}

// Uses every part of the Schema as a client would, and checks what the client relies on.
void check_schema(const shmrpc::Schema& schema, std::size_t size) {
  check_geometry(schema.channels(), size);
  for (std::size_t i = 0; i < schema.functions().size(); ++i) {
    check_function(schema, schema.functions()[i], i);
  }
  require(!schema.function_names().empty(), "function_names() is never empty");
}

struct AlignedDelete {
  void operator()(std::byte* p) const { ::operator delete (p, std::align_val_t{8}); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exactly `size` bytes: ASan's redzone starts right after the segment's last byte.
  const std::unique_ptr<std::byte, AlignedDelete> segment(
      static_cast<std::byte*>(::operator new (size, std::align_val_t{8})));
  if (size != 0) {
    std::memcpy(segment.get(), data, size);
  }
  try {
    const shmrpc::Schema schema = shmrpc::Schema::read(segment.get(), size, "fuzz");
    check_schema(schema, size);
    require(shmrpc::schema_json(schema, "fuzz").ends_with("}\n"), "schema_json ends its document");
  } catch (const shmrpc::ProtocolError&) {
    // The expected answer to a malformed segment.
  }
  // The stats region is read by tools (shmrpc stats), independently of the metadata.
  try {
    (void)shmrpc::detail::read_stats(segment.get(), size, "fuzz");
  } catch (const shmrpc::ProtocolError&) {
    // A malformed stats region.
  }
  return 0;
}
