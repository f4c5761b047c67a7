#include "shmrpc/types.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace shmrpc {

bool same_type(const TypeInfo& a, const TypeInfo& b) noexcept {
  if (&a == &b) {
    return true;
  }
  if (a.kind != b.kind || a.is_mutable != b.is_mutable) {
    return false;
  }
  if (is_scalar(a.kind)) {
    return true;  // size, alignment and name follow from the kind; elements and members are none
  }
  if (a.count != b.count || a.size != b.size || a.align != b.align || a.name != b.name ||
      a.members.size() != b.members.size()) {
    return false;
  }
  if ((a.element == nullptr) != (b.element == nullptr) ||
      (a.element != nullptr && !same_type(*a.element, *b.element))) {
    return false;
  }
  for (std::size_t i = 0; i < a.members.size(); ++i) {
    const MemberInfo& x = a.members[i];
    const MemberInfo& y = b.members[i];
    if (x.name != y.name || x.value != y.value || (x.type == nullptr) != (y.type == nullptr) ||
        (x.type != nullptr && !same_type(*x.type, *y.type))) {
      return false;
    }
  }
  return true;
}

ValueLayout map_entry_layout(const TypeInfo& map) noexcept {
  TupleLayout entry;
  for (const MemberInfo& member : map.members) {
    entry.add({member.type->size, member.type->align});
  }
  return entry.total();
}

TypeInfo finish_type(TypeInfo type) {
  bool checked = kind_traits(type.kind).is_checked;
  checked = checked || (type.element != nullptr && type.element->checked);
  for (const MemberInfo& member : type.members) {
    checked = checked || (member.type != nullptr && member.type->checked);
  }
  type.checked = checked;
  bool indirect = is_variable(type.kind);
  indirect = indirect || (type.element != nullptr && type.element->indirect);
  for (const MemberInfo& member : type.members) {
    indirect = indirect || (member.type != nullptr && member.type->indirect);
  }
  type.indirect = indirect;
  return type;
}

namespace {

std::string describe(const TypeInfo& type, bool full);

// A struct's fields or a tuple's elements with their offsets (`full`) or a tuple's element types
// alone, or an enum's enumerators (members of no type).
std::string describe_members(const TypeInfo& type, bool full) {
  const bool enumerators = kind_traits(type.kind).members == Members::kEnumerators;
  std::string text;
  for (const MemberInfo& member : type.members) {
    text += text.empty() ? "" : ", ";
    if (enumerators) {
      text += fmt::format("{}={}", member.name, member.value);
      continue;
    }
    const std::string member_type = member.type != nullptr ? describe(*member.type, full) : "?";
    if (!full) {
      text += member_type;
      continue;
    }
    text += fmt::format("{}{}{} @{}", member.name, member.name.empty() ? "" : ": ", member_type,
                        member.value);
  }
  return text;
}

// The display name, or with `full` the layout text: the kind's pattern (type_kinds.hpp) filled
// in; element and member types recurse the same way.
std::string describe(const TypeInfo& type, bool full) {
  const KindTraits* traits = find_kind(static_cast<std::uint8_t>(type.kind));
  if (traits == nullptr) {
    return fmt::format("unknown({})", static_cast<int>(type.kind));
  }
  const std::string_view pattern =
      full && !traits->layout_text.empty() ? traits->layout_text : traits->display;
  if (pattern.empty()) {
    return std::string(traits->name);
  }
  const std::string element =
      traits->has_element && type.element != nullptr ? describe(*type.element, full) : "?";
  const std::string members = traits->members != Members::kNone ? describe_members(type, full) : "";
  return fmt::format(
      fmt::runtime(pattern), fmt::arg("element", element), fmt::arg("members", members),
      fmt::arg("count", type.count),
      fmt::arg("rank", type.count == 0 ? std::string() : fmt::format(", {}", type.count)),
      fmt::arg("const", type.is_mutable ? "" : "const "), fmt::arg("name", type.name),
      fmt::arg("size", fmt::format(" /{},{}", type.size, type.align)));
}

std::string format(std::string_view name, const std::vector<std::string>& argument_names,
                   const std::vector<const TypeInfo*>& argument_types, const TypeInfo& return_type,
                   bool streams, bool full) {
  std::string text = fmt::format("{}(", name);
  for (std::size_t i = 0; i < argument_types.size(); ++i) {
    text += fmt::format("{}{}: {}", i == 0 ? "" : ", ", argument_names[i],
                        describe(*argument_types[i], full));
  }
  const std::string result = describe(return_type, full);
  return streams ? fmt::format("{}) -> stream<{}>", text, result)
                 : fmt::format("{}) -> {}", text, result);
}

}  // namespace

std::string type_name(const TypeInfo& type) {
  return describe(type, false);
}

std::string type_layout(const TypeInfo& type) {
  return describe(type, true);
}

std::string format_signature(std::string_view name, const std::vector<std::string>& argument_names,
                             const std::vector<const TypeInfo*>& argument_types,
                             const TypeInfo& return_type, bool streams) {
  return format(name, argument_names, argument_types, return_type, streams, false);
}

std::string format_layout_key(std::string_view name, const std::vector<std::string>& argument_names,
                              const std::vector<const TypeInfo*>& argument_types,
                              const TypeInfo& return_type, bool streams) {
  return format(name, argument_names, argument_types, return_type, streams, true);
}

namespace detail {

std::string clean_type_name(std::string_view pretty_function) {
  // g++: "... cxx_type_name() [with T = ns::Point; std::string = ...]"; clang: "... [T =
  // ns::Point]"
  const std::size_t start = pretty_function.find("T = ");
  if (start == std::string_view::npos) {
    return std::string(pretty_function);
  }
  std::string_view name = pretty_function.substr(start + 4);
  name = name.substr(0, std::min(name.find("; "), name.rfind(']')));
  std::string text(name);
  constexpr std::string_view kAnonymous = "(anonymous namespace)::";
  for (std::size_t at = text.find(kAnonymous); at != std::string::npos;
       at = text.find(kAnonymous)) {
    text.erase(at, kAnonymous.size());
  }
  return text;
}

void check_field_names(const TypeInfo& type, const std::vector<std::size_t>& declared_offsets) {
  for (std::size_t i = 0; i < type.members.size(); ++i) {
    if (declared_offsets[i] != type.members[i].value) {
      throw std::logic_error(fmt::format(
          "shmrpc: SHMRPC_FIELDS({}, ...) names '{}' as field {}, but field {} lies at offset {} "
          "and '{}' at {}: name every field, in declaration order",
          type.name, type.members[i].name, i, i, type.members[i].value, type.members[i].name,
          declared_offsets[i]));
    }
  }
}

}  // namespace detail
}  // namespace shmrpc
