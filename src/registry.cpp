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
  return format_signature(name, argument_names, argument_types, *return_type, streams);
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

}  // namespace shmrpc
