#pragma once
/// A server's schema as JSON: what `shmrpc schema NAME` prints and what codegen reads.
///
///   {"format": "shmrpc-schema", "format_version": 1, "server": NAME, "layout_hash": "0x...",
///    "functions": [{"name", "doc", "signature", "signature_hash", "layout", "arguments":
///    [{"name", "type"}], "returns"[, "streams": true]}], "types": {NAME: definition, ...}}
///
/// "streams" is there, true, for a function that streams elements of type "returns"
/// (docs/SPEC.md, section 7.8), and absent otherwise.
///
/// A type is an object: {"kind": "int64", "size": 8, "align": 8} for scalars (complex64 and
/// complex128 too); arrays add "element" and "count", spans "element" and "mutable", vectors and
/// optionals "element", tuples "elements" ([{"offset", "type"}]); strings and void have kind,
/// size and align only; structs and enums are references, {"kind": "struct", "name", "size",
/// "align"}, to their definitions in "types": {"kind": "struct", "size", "align", "fields":
/// [{"name", "offset", "type"}]} or {"kind": "enum", "size", "align", "underlying", "members":
/// [{"name", "value"}]}, each after the definitions it uses; "underlying" is a scalar type
/// object. "layout" is the function's layout key (docs/SPEC.md, section 5.6), whose FNV-1a is
/// "signature_hash". "kinds" closes the document: the kinds table (type_kinds.hpp), by kind name,
/// {"class", "storage", "size", ["min", "max" for integers,] "numpy", "python", "cxx"}, from
/// which codegen and the Python package take what they know of each kind.
/// README.md ("Command line") shows an example.

#include <string>
#include <string_view>

#include "shmrpc/registry.hpp"
#include "shmrpc/schema.hpp"

namespace shmrpc {

/// Version of the JSON document's format (not of the segment's).
inline constexpr int kSchemaJsonVersion = 1;

/// The JSON document of `schema`, published by server `server_name`: deterministic (keys in a
/// fixed order, functions in table order), 2-space indented, ending in a newline. Strings are
/// escaped per RFC 8259. Any thread; throws only std::bad_alloc.
std::string schema_json(const Schema& schema, std::string_view server_name);

/// The kinds table alone, as the JSON object that is the "kinds" value of a schema document.
std::string kinds_json();

/// The schema that a Server publishing `registry` shows its clients, made without a segment: the
/// metadata is laid out and written into memory by the code Server::start uses and read back by
/// Schema::read, so it is the same document `shmrpc schema NAME` prints for the running server.
/// Server side, any thread (not while `registry` changes). Throws std::invalid_argument as
/// Server::start does for functions whose call frame is too large.
Schema registry_schema(const FunctionRegistry& registry);

/// schema_json(registry_schema(registry), server_name): what `server_example --schema` prints.
std::string schema_json(const FunctionRegistry& registry, std::string_view server_name);

}  // namespace shmrpc
