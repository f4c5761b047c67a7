#include "shmrpc/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>

#include "shmrpc/layout.hpp"

namespace shmrpc {
namespace {

bool is_identifier(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

constexpr std::size_t kMaxIdentifierLength = 255;

void check_identifier(std::string_view what, std::string_view name) {
  if (!is_identifier(name) || name.size() > kMaxIdentifierLength) {
    throw std::invalid_argument(
        fmt::format("shmrpc: {} '{}' is not an identifier (letters, digits and '_', not starting "
                    "with a digit, at most {} characters)",
                    what, name, kMaxIdentifierLength));
  }
}

SlotPlacement place(std::uint64_t& cursor, const TypeInfo& type) {
  cursor = layout::align_up(cursor, type.align);
  const SlotPlacement slot{static_cast<std::uint32_t>(cursor), type.size};
  cursor += type.size;
  if (cursor > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("shmrpc: the arguments of a function take more than 4 GiB");
  }
  return slot;
}

}  // namespace

std::string FunctionDefinition::signature() const {
  return format_signature(name, argument_names, argument_types, *return_type);
}

FunctionDefinition& FunctionRegistry::add(FunctionDefinition definition) {
  check_identifier("function name", definition.name);
  for (const FunctionDefinition& existing : functions_) {
    if (existing.name == definition.name) {
      throw std::invalid_argument(
          fmt::format("shmrpc: function '{}' is already registered", definition.name));
    }
  }
  const std::size_t arity = definition.argument_types.size();
  if (definition.argument_names.empty()) {
    for (std::size_t i = 0; i < arity; ++i) {
      definition.argument_names.push_back(fmt::format("arg{}", i));
    }
  }
  if (definition.argument_names.size() != arity) {
    throw std::invalid_argument(
        fmt::format("shmrpc: function '{}' takes {} arguments but {} argument names were given",
                    definition.name, arity, definition.argument_names.size()));
  }
  for (std::size_t i = 0; i < arity; ++i) {
    check_identifier("argument name", definition.argument_names[i]);
    for (std::size_t j = 0; j < i; ++j) {
      if (definition.argument_names[j] == definition.argument_names[i]) {
        throw std::invalid_argument(
            fmt::format("shmrpc: function '{}' has two arguments named '{}'", definition.name,
                        definition.argument_names[i]));
      }
    }
  }
  // Arguments first, in order, then the result; each slot at its natural alignment.
  std::uint64_t cursor = 0;
  for (const TypeInfo* type : definition.argument_types) {
    definition.argument_slots.push_back(place(cursor, *type));
  }
  definition.return_slot = place(cursor, *definition.return_type);
  definition.frame_size = static_cast<std::uint32_t>(cursor);
  functions_.push_back(std::move(definition));
  return functions_.back();
}

namespace detail {

std::byte* heap_range(const CallFrame& call, const layout::VarSlot& slot, std::size_t element_size,
                      std::size_t element_align) {
  if (slot.offset > call.heap_size) {
    throw BadRequest(fmt::format("heap offset {} is past the end of the {}-byte heap", slot.offset,
                                 call.heap_size));
  }
  if (slot.length > (call.heap_size - slot.offset) / element_size) {
    throw BadRequest(fmt::format(
        "{} elements of {} bytes at heap offset {} run past the end of the {}-byte heap",
        slot.length, element_size, slot.offset, call.heap_size));
  }
  if (slot.offset % element_align != 0) {
    throw BadRequest(
        fmt::format("heap offset {} is not aligned to {} bytes", slot.offset, element_align));
  }
  return call.heap + slot.offset;
}

void check_bool_bytes(const std::byte* bytes, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (std::to_integer<unsigned>(bytes[i]) > 1) {
      throw BadRequest(fmt::format("a bool holds byte {}; a bool is 0 or 1",
                                   std::to_integer<unsigned>(bytes[i])));
    }
  }
}

void throw_bad_enumerator(const TypeInfo& type, std::uint64_t value) {
  const bool is_signed = type.element != nullptr && type.element->kind >= TypeKind::kInt8 &&
                         type.element->kind <= TypeKind::kInt64;
  const auto text = [&](std::uint64_t bits) {
    return is_signed ? fmt::format("{}", static_cast<std::int64_t>(bits)) : fmt::format("{}", bits);
  };
  std::string allowed;
  for (const MemberInfo& member : type.members) {
    fmt::format_to(std::back_inserter(allowed), "{}{} = {}", allowed.empty() ? "" : ", ",
                   member.name, text(member.value));
  }
  throw BadRequest(fmt::format("{} holds {}, which is none of its enumerators ({})", type.name,
                               text(value), allowed));
}

void check_result_window(const CallFrame& call, std::size_t element_align) {
  const bool window_valid = call.result_offset <= call.heap_size &&
                            call.result_capacity <= call.heap_size - call.result_offset &&
                            call.result_offset % element_align == 0;
  if (!window_valid) {
    throw BadRequest(fmt::format(
        "the result window (offset {}, {} bytes) is not inside the {}-byte heap or is misaligned",
        call.result_offset, call.result_capacity, call.heap_size));
  }
}

layout::VarSlot write_result_bytes(const CallFrame& call, const void* bytes, std::size_t size,
                                   std::size_t element_align) {
  check_result_window(call, element_align);
  if (size > call.result_capacity) {
    throw ResultTooLarge(fmt::format(
        "the result is {} bytes but only {} bytes of the channel heap were free for it (heap size "
        "{} bytes; see ServerOptions::arena_size)",
        size, call.result_capacity, call.heap_size));
  }
  if (size != 0) {
    std::memcpy(call.heap + call.result_offset, bytes, size);
  }
  return {call.result_offset, size};
}

}  // namespace detail
}  // namespace shmrpc
