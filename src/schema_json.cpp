#include "shmrpc/schema_json.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

#include "shmrpc/detail/metadata_writer.hpp"
#include "shmrpc/type_kinds.hpp"

namespace shmrpc {
namespace {

// A JSON value, built and then written in one pass; objects keep their keys in insertion order.
struct Json {
  enum class Kind { kString, kSigned, kUnsigned, kBool, kObject, kArray };
  Kind kind = Kind::kObject;
  std::string text;
  std::int64_t signed_number = 0;
  std::uint64_t unsigned_number = 0;
  bool flag = false;
  std::vector<std::string> keys;  // kObject: keys[i] names items[i]
  std::vector<Json> items;        // kObject: the values; kArray: the elements

  static Json string(std::string value) {
    Json json;
    json.kind = Kind::kString;
    json.text = std::move(value);
    return json;
  }
  static Json number(std::int64_t value) {
    Json json;
    json.kind = Kind::kSigned;
    json.signed_number = value;
    return json;
  }
  static Json number(std::uint64_t value) {
    Json json;
    json.kind = Kind::kUnsigned;
    json.unsigned_number = value;
    return json;
  }
  static Json boolean(bool value) {
    Json json;
    json.kind = Kind::kBool;
    json.flag = value;
    return json;
  }
  static Json array() {
    Json json;
    json.kind = Kind::kArray;
    return json;
  }
  Json& add(std::string key, Json value) {
    keys.push_back(std::move(key));
    items.push_back(std::move(value));
    return *this;
  }
};

std::string hex64(std::uint64_t value) {
  std::array<char, 19> text{};
  std::snprintf(text.data(), text.size(), "0x%016llx", static_cast<unsigned long long>(value));
  return {text.data()};
}

void write_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          std::array<char, 7> escape{};
          std::snprintf(escape.data(), escape.size(), "\\u%04x", static_cast<unsigned>(c));
          out += escape.data();
        } else {
          out += c;  // UTF-8 passes through
        }
    }
  }
  out += '"';
}

void write(std::string& out, const Json& json, int depth) {
  const auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  switch (json.kind) {
    case Json::Kind::kString:
      write_string(out, json.text);
      return;
    case Json::Kind::kSigned:
      out += std::to_string(json.signed_number);
      return;
    case Json::Kind::kUnsigned:
      out += std::to_string(json.unsigned_number);
      return;
    case Json::Kind::kBool:
      out += json.flag ? "true" : "false";
      return;
    case Json::Kind::kObject:
    case Json::Kind::kArray:
      break;
  }
  const bool object = json.kind == Json::Kind::kObject;
  if (json.items.empty()) {
    out += object ? "{}" : "[]";
    return;
  }
  out += object ? '{' : '[';
  for (std::size_t i = 0; i < json.items.size(); ++i) {
    out += i == 0 ? "" : ",";
    newline(depth + 1);
    if (object) {
      write_string(out, json.keys[i]);
      out += ": ";
    }
    write(out, json.items[i], depth + 1);
  }
  newline(depth);
  out += object ? '}' : ']';
}

Json type_json(const TypeInfo& type) {
  const KindTraits& traits = kind_traits(type.kind);
  Json object;
  object.add("kind", Json::string(std::string(traits.name)));
  if (is_named(type.kind)) {
    // A reference: the definition is in the document's "types", under this name.
    object.add("name", Json::string(type.name));
  } else if (traits.has_element) {
    // The schema reader guarantees an element for these kinds; an absent one is written as void.
    object.add("element", type.element != nullptr ? type_json(*type.element) : type_json({}));
  }
  // A kind's own keys follow from its row of the kinds table.
  if (traits.members == Members::kElements) {
    Json elements = Json::array();
    for (const MemberInfo& member : type.members) {
      Json entry;
      entry.add("offset", Json::number(member.value));
      entry.add("type", type_json(*member.type));
      elements.items.push_back(std::move(entry));
    }
    object.add("elements", std::move(elements));
  }
  if (traits.has_count) {
    object.add("count", Json::number(type.count));
  }
  if (traits.can_be_mutable) {
    object.add("mutable", Json::boolean(type.is_mutable));
  }
  object.add("size", Json::number(std::uint64_t{type.size}));
  object.add("align", Json::number(std::uint64_t{type.align}));
  return object;
}

// The kinds table (type_kinds.hpp), for readers that map kinds to their own language.
Json kinds_table() {
  Json kinds;
  for (const KindTraits& traits : kKinds) {
    Json entry;
    entry.add("class", Json::string(std::string(kind_class_name(traits.kind_class))))
        .add("storage", Json::string(std::string(storage_name(traits.storage))))
        .add("size", Json::number(std::uint64_t{traits.scalar_size}));
    if (is_integer(traits.kind)) {
      const auto range = *visit_scalar(traits.kind, []<class T>(std::type_identity<T> /*type*/) {
        using Wide = std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>;
        if constexpr (std::is_integral_v<T>) {
          return std::pair<Json, Json>(Json::number(Wide{std::numeric_limits<T>::min()}),
                                       Json::number(Wide{std::numeric_limits<T>::max()}));
        } else {
          return std::pair<Json, Json>();  // not reached: integers only
        }
      });
      entry.add("min", range.first).add("max", range.second);
    }
    entry.add("numpy", Json::string(std::string(traits.numpy)))
        .add("python", Json::string(std::string(traits.python)))
        .add("cxx", Json::string(std::string(traits.cxx)));
    kinds.add(std::string(traits.name), std::move(entry));
  }
  return kinds;
}

// The definition of a struct (fields) or enum (underlying type, enumerators).
Json definition_json(const TypeInfo& type) {
  const bool fields = kind_traits(type.kind).members == Members::kFields;
  Json object;
  object.add("kind", Json::string(std::string(kind_traits(type.kind).name)));
  object.add("size", Json::number(std::uint64_t{type.size}));
  object.add("align", Json::number(std::uint64_t{type.align}));
  Json members = Json::array();
  const bool is_signed = type.element != nullptr && is_signed_integer(type.element->kind);
  for (const MemberInfo& member : type.members) {
    Json entry;
    entry.add("name", Json::string(member.name));
    if (fields) {
      entry.add("offset", Json::number(member.value));
      entry.add("type", type_json(*member.type));
    } else if (is_signed) {
      entry.add("value", Json::number(static_cast<std::int64_t>(member.value)));
    } else {
      entry.add("value", Json::number(member.value));
    }
    members.items.push_back(std::move(entry));
  }
  if (fields) {
    object.add("fields", std::move(members));
  } else {
    object.add("underlying", type_json(*type.element));
    object.add("members", std::move(members));
  }
  return object;
}

// Adds the structs and enums that `type` uses, then `type` itself if it is one, each once:
// a definition comes after those of the types it uses.
void add_definitions(const TypeInfo& type, Json& types) {
  if (type.element != nullptr) {
    add_definitions(*type.element, types);
  }
  for (const MemberInfo& member : type.members) {
    if (member.type != nullptr) {
      add_definitions(*member.type, types);
    }
  }
  if (is_named(type.kind) &&
      std::find(types.keys.begin(), types.keys.end(), type.name) == types.keys.end()) {
    types.add(type.name, definition_json(type));
  }
}

}  // namespace

std::string schema_json(const Schema& schema, std::string_view server_name) {
  Json functions = Json::array();
  Json types;
  for (const FunctionSchema& function : schema.functions()) {
    Json arguments = Json::array();
    add_definitions(*function.return_type, types);
    for (const ArgumentSchema& argument : function.arguments) {
      add_definitions(*argument.type, types);
      Json entry;
      entry.add("name", Json::string(argument.name));
      entry.add("type", type_json(*argument.type));
      arguments.items.push_back(std::move(entry));
    }
    Json entry;
    entry.add("name", Json::string(function.name))
        .add("doc", Json::string(function.doc))
        .add("signature", Json::string(function.signature))
        .add("signature_hash", Json::string(hex64(function.signature_hash)))
        .add("layout", Json::string(function.layout))
        .add("arguments", std::move(arguments))
        .add("returns", type_json(*function.return_type));
    if (function.streams) {  // absent for a function that returns once
      entry.add("streams", Json::boolean(true));
    }
    functions.items.push_back(std::move(entry));
  }
  Json document;
  document.add("format", Json::string("shmrpc-schema"))
      .add("format_version", Json::number(std::int64_t{kSchemaJsonVersion}))
      .add("server", Json::string(std::string(server_name)))
      .add("layout_hash", Json::string(hex64(schema.layout_hash())))
      .add("functions", std::move(functions))
      .add("types", std::move(types))
      .add("kinds", kinds_table());
  std::string out;
  write(out, document, 0);
  out += '\n';
  return out;
}

std::string kinds_json() {
  std::string out;
  write(out, kinds_table(), 0);
  out += '\n';
  return out;
}

Schema registry_schema(const FunctionRegistry& registry) {
  // One channel with a small heap: the schema does not show the channels, so the image only has
  // to hold the largest call frame and the metadata.
  constexpr std::uint64_t kSpare = 8192;  // room for the frame's alignment and the minimum heap
  std::uint64_t arena_size = kSpare;
  for (const FunctionDefinition& function : registry.functions()) {
    arena_size = std::max<std::uint64_t>(arena_size, function.frame_size + kSpare);
  }
  const detail::SegmentPlan plan = detail::plan_segment(registry.functions(), 1, arena_size);
  // Zero-filled, as a new segment is; std::uint64_t elements align the header as mmap would.
  std::vector<std::uint64_t> image((plan.segment_size + sizeof(std::uint64_t) - 1) /
                                   sizeof(std::uint64_t));
  auto* bytes = reinterpret_cast<std::byte*>(image.data());
  detail::write_segment(bytes, plan, detail::current_process());
  return Schema::read(bytes, plan.segment_size, "(in memory)");
}

std::string schema_json(const FunctionRegistry& registry, std::string_view server_name) {
  return schema_json(registry_schema(registry), server_name);
}

}  // namespace shmrpc
