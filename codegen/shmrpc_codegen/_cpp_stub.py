"""The C++ stub: a header with a typed client class for one server's schema.

The class wraps shmrpc::Client. Its constructor connects, checks that the server still publishes
every function of the schema with the same layout (shmrpc::check_stub, which throws
shmrpc::ProtocolError naming each changed function with both signatures) and resolves each
function once into a shmrpc::Function handle, so a call is one typed handle call.

Records: by default the header defines the schema's structs and enums in their namespaces, with
SHMRPC_FIELDS / SHMRPC_ENUM. With `includes` (``--cpp-include particles.hpp``) it includes the
user's headers instead, which must define them. Either way static_asserts pin every size,
alignment, field offset and enumerator value to the schema, so a type that does not match fails
to compile rather than at connect.
"""

from __future__ import annotations

from ._names import class_name, cxx_name
from ._schema import Definition, Function, Schema, SchemaError, Type
from ._structured_kinds import Fields, form
from ._text import COLUMNS, split_string, wrap_list, wrap_words

__all__ = ["generate_cpp"]

_STD_HEADERS = ["array", "complex", "cstddef", "cstdint", "optional", "span", "string",
                "string_view", "tuple", "type_traits", "vector"]
_HEADERS_OF_KINDS = {"map": "map"}
"""Standard headers included only when the schema uses a type of the kind."""


def _kinds_used(schema: Schema) -> set[str]:
    """The kinds of every type the functions take and return, and of their parts."""
    kinds: set[str] = set()

    def visit(t: Type) -> None:
        kinds.add(t.kind)
        if t.element is not None:
            visit(t.element)
        for _, element in t.elements:
            visit(element)

    for function in schema.functions:
        visit(function.returns)
        for argument in function.arguments:
            visit(argument.type)
    return kinds


def _std_headers(schema: Schema) -> list[str]:
    used = _kinds_used(schema)
    return sorted(_STD_HEADERS + [header for kind, header in _HEADERS_OF_KINDS.items()
                                  if kind in used])


def _fields(t: Type, taken: bool = False) -> Fields:
    """The C++ pattern fields of `t` (_structured_kinds.py); `taken`: of a parameter or a part
    of one."""
    def element() -> str:
        assert t.element is not None
        return _value(t.element, taken)

    return Fields(name=t.name, element=element,
                  elements=lambda: ", ".join(_value(e, taken) for _, e in t.elements),
                  count=t.count, rank="" if t.count == 0 else f", {t.count}",
                  const="" if t.mutable else "const ", value=lambda: _value(t, taken))


def _value(t: Type, taken: bool = False) -> str:
    """The C++ type of a value: a result, a field, an element; `taken`: a part of a parameter,
    where an ndarray is a view (shmrpc::ArrayView) rather than a shmrpc::SharedNdArray."""
    row = form(t.kind)
    pattern = row.cxx_part_taken if taken and row.cxx_part_taken else row.cxx
    if not pattern:
        assert t.traits is not None
        return t.traits.cxx
    return pattern.format_map(_fields(t, taken))


def _parameter(t: Type) -> str:
    """The C++ type of a parameter: small values and views by value, the rest by const&."""
    return form(t.kind).cxx_parameter.format_map(_fields(t, taken=True))


def _result(function: Function) -> str:
    """The C++ result of a method: the value, or for a function that streams, a range of its
    elements (shmrpc::StreamReader)."""
    value = _value(function.returns)
    return f"shmrpc::StreamReader<{value}>" if function.streams else value


def _literal(text: str, where: str) -> str:
    if any(char in text for char in '"\\\n') or not text.isprintable():
        raise SchemaError(f"shmrpc codegen: {where} {text!r} cannot be a plain C++ string literal")
    return text


def _split_name(definition: Definition) -> tuple[str, str]:
    parts = definition.name.split("::")
    if not all(part.isidentifier() and part.isascii() for part in parts):
        raise SchemaError(
            f"shmrpc codegen: cannot define the C++ {definition.kind} {definition.name!r} (not a "
            "plain namespace-qualified name); include a header that defines it with --cpp-include"
        )
    return "::".join(parts[:-1]), parts[-1]


def _enum_value(value: int) -> str:
    if value == -(2**63):
        return "-9223372036854775807 - 1"
    return f"{value}ULL" if value >= 2**63 else str(value)


def _definitions(schema: Schema) -> list[str]:
    """The structs and enums, in their namespaces, dependencies first."""
    lines: list[str] = []
    namespace: str | None = None
    for definition in schema.types.values():
        space, short = _split_name(definition)
        if space != namespace:
            if namespace:
                lines += [f"}}  // namespace {namespace}", ""]
            if space:
                lines += [f"namespace {space} {{", ""]
            namespace = space
        if definition.kind == "struct":
            lines += wrap_words(f"The C++ struct {definition.name} of the schema "
                                f"({definition.size} bytes, aligned to {definition.align}).",
                                "/// ")
            lines.append(f"struct {short} {{")
            lines += [f"  {_value(field.type)} {field.name};" for field in definition.fields]
            lines.append("};")
            fields = [field.name for field in definition.fields]
            if fields:
                lines += wrap_list("SHMRPC_FIELDS(", [short] + fields, ");")
        else:
            assert definition.underlying is not None
            lines += wrap_words(f"The C++ enum {definition.name} of the schema.", "/// ")
            head = f"enum class {short} : {_value(definition.underlying)} {{"
            members = [f"{name} = {_enum_value(value)}" for name, value in definition.members]
            one = head + " " + ", ".join(members) + " };"
            if len(one) <= COLUMNS:
                lines.append(one)
            else:
                lines += [head] + [f"  {member}," for member in members] + ["};"]
            lines += wrap_list("SHMRPC_ENUM(", [short] + [name for name, _ in definition.members],
                               ");")
        lines.append("")
    if namespace:
        lines += [f"}}  // namespace {namespace}", ""]
    return lines


def _static_assert(condition: str, message: str) -> list[str]:
    return wrap_list("static_assert(", [condition, f'"{message}"'], ");")


def _layout_checks(schema: Schema) -> list[str]:
    lines: list[str] = []
    for definition in schema.types.values():
        name = definition.name
        lines += _static_assert(f"sizeof({name}) == {definition.size}",
                                f"the size of {name} differs from the schema")
        lines += _static_assert(f"alignof({name}) == {definition.align}",
                                f"the alignment of {name} differs from the schema")
        for field in definition.fields:
            lines += _static_assert(f"offsetof({name}, {field.name}) == {field.offset}",
                                    f"the offset of {name}::{field.name} differs from the schema")
        if definition.kind == "enum":
            assert definition.underlying is not None
            underlying = _value(definition.underlying)
            lines += _static_assert(
                f"std::is_same_v<std::underlying_type_t<{name}>, {underlying}>",
                f"the underlying type of {name} differs from the schema")
            for member, value in definition.members:
                lines += _static_assert(
                    f"static_cast<{underlying}>({name}::{member}) == {_enum_value(value)}",
                    f"the value of {name}::{member} differs from the schema")
    return lines + ([""] if lines else [])


def _signature_alias(function: Function, schema: Schema) -> tuple[str, list[str]]:
    def camel(name: str) -> str:
        return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)

    alias = camel(function.name)
    if sum(camel(other.name) == alias for other in schema.functions) > 1:
        alias += str(schema.functions.index(function))  # get_x and getX: GetX0Signature, ...
    alias = f"{alias}Signature"
    parameters = [_parameter(a.type) for a in function.arguments]
    result = _result(function)
    head = f"  using {alias} = {result}("
    lines = wrap_list(head, parameters, ");")
    # The parameters do not fit aligned after the "(" but the function type fits on the next
    # line: clang-format breaks after the "=" rather than after the "(".
    after = f"      {result}(" + ", ".join(parameters) + ");"
    if len(lines) > 1 and lines[0] == head.rstrip() and len(after) <= COLUMNS:
        lines = [f"  using {alias} =", after]
    elif len(lines[0]) > COLUMNS:
        # Not even the result type fits after the "=": the function type starts on the next line,
        # its parameters wrapped after it.
        lines = [f"  using {alias} =",
                 *wrap_list(f"      {result}(", parameters, ");")]
    return alias, lines


def _method(function: Function) -> list[str]:
    lines = wrap_words(function.doc, "  /// ") if function.doc.strip() else []
    if lines:
        lines.append("  ///")
    lines += wrap_words(function.signature, "  /// ")
    method = cxx_name(function.name)
    names = [cxx_name(argument.name) for argument in function.arguments]
    head = f"  {_result(function)} {method}("
    parameters = [f"{_parameter(a.type)} {name}" for a, name in zip(function.arguments, names)]
    keyword = "" if function.returns.kind == "void" else "return "
    body = f"{keyword}{method}_({', '.join(names)});"
    one = head + ", ".join(parameters) + ") { " + body + " }"
    if len(one) <= COLUMNS:
        return lines + [one]
    return lines + wrap_list(head, parameters, ") {") + [f"    {body}", "  }"]


def generate_cpp(schema: Schema, class_name_: str | None = None,
                 includes: tuple[str, ...] = (), namespace: str = "") -> str:
    """The header text. `class_name_`: default from the server name ("demo" -> DemoClient);
    `includes`: user headers that define the structs and enums instead of the stub;
    `namespace`: where the class goes (default: the global namespace)."""
    cls = class_name_ or class_name(schema.server)
    source = f"server '{schema.server}' (layout hash {schema.layout_hash:#018x})"
    for function in schema.functions:
        _literal(function.signature, f"the signature of {function.name}")
        _literal(function.layout, f"the layout key of {function.name}")
    _literal(schema.server, "the server name")

    out = [f"// generated by shmrpc codegen from the schema of server '{schema.server}'; do not edit",
           f"// layout hash {schema.layout_hash:#018x}, {len(schema.functions)} functions, schema "
           f"format {schema.format_version}",
           "#pragma once"]
    out += wrap_words(f"{cls}: a typed client of the shmrpc server '{schema.server}'.", "/// ")
    example = next((f for f in schema.functions if f.arguments), None)
    out += ["///", f"///   {cls} client;  // connects to \"{schema.server}\", checks every "
            "function once"]
    if example is not None:
        out.append(f"///   client.{cxx_name(example.name)}(...);")
    out.append("")
    out += [f"#include <{header}>" for header in _std_headers(schema)]
    out.append("")
    for include in includes:
        out.append(f'#include "{_literal(include, "the include")}"')
    out += ['#include "shmrpc/client.hpp"', '#include "shmrpc/reflect.hpp"',
            '#include "shmrpc/stub.hpp"', ""]
    # clang-format regroups includes: the user's headers sort among shmrpc's.
    quoted = sorted(line for line in out if line.startswith('#include "'))
    first = out.index(next(line for line in out if line.startswith('#include "')))
    out[first:first + len(quoted)] = quoted
    if not includes:
        out += _definitions(schema)
    out += _layout_checks(schema)
    if namespace:
        out += [f"namespace {namespace} {{", ""]

    out += wrap_words(f"A typed client of the shmrpc server '{schema.server}': one method per "
                      "function, with the function's C++ signature. Throws what shmrpc::Client "
                      "throws; one object per thread, as shmrpc::Client.", "/// ")
    out += [f"class {cls} {{", " public:"]
    out += ["  /// The name of the server the schema came from: the constructor's default.",
            f'  static constexpr std::string_view kServerName = "{schema.server}";',
            "  /// The layout hash of the schema (docs/SPEC.md, section 5.6).",
            f"  static constexpr std::uint64_t kLayoutHash = {schema.layout_hash:#018x}ULL;",
            ""]
    out += wrap_words("Connects to the server `name` (see shmrpc::Client), checks that it still "
                      "publishes every function of the schema with the same layout "
                      "(shmrpc::ProtocolError naming each changed function, with both "
                      "signatures) and resolves each function once.", "  /// ")
    out += wrap_list(f"  explicit {cls}(", ["std::string_view name = kServerName",
                                            "const shmrpc::ClientOptions& options = {}"], ")")
    initializers = ["client_(connect(name, options))"]
    aliases: list[str] = []
    for function in schema.functions:
        alias, alias_lines = _signature_alias(function, schema)
        aliases += alias_lines
        initializers.append(f'{cxx_name(function.name)}_(client_.function<{alias}>("'
                            f'{function.name}"))')
    for i, initializer in enumerate(initializers):
        lead = "      : " if i == 0 else "        "
        out.append(lead + initializer + ("," if i < len(initializers) - 1 else " {}"))
    out.append("")
    for function in schema.functions:
        out += _method(function)
        out.append("")
    out += ["  /// The client under the stub: shared arrays (empty, zeros), timeouts, the schema.",
            "  shmrpc::Client& client() noexcept { return client_; }",
            "", " private:"]
    out += aliases
    out.append("")
    out.append("  static shmrpc::Client connect(std::string_view name, "
               "const shmrpc::ClientOptions& options) {")
    out.append("    shmrpc::Client client(name, options);")
    table = f"    static constexpr std::array<shmrpc::StubFunction, {len(schema.functions)}> "
    out.append(table + "kFunctions{{")
    for function in schema.functions:
        out.append("        {")
        out += split_string(function.name, "            ", ",")
        out += split_string(function.signature, "            ", ",")
        out += split_string(function.layout, "            ", ",")
        out.append(f"            {function.signature_hash:#018x}ULL,")
        out.append("        },")
    out.append("    }};")
    out += wrap_list("    shmrpc::check_stub(", [
        "client.schema()", "client.server_name()", f'"{source}"', "kLayoutHash", "kFunctions"],
        ");")
    out += ["    return client;", "  }", "", "  shmrpc::Client client_;"]
    for function in schema.functions:
        alias, _ = _signature_alias(function, schema)
        out.append(f"  shmrpc::Function<{alias}> {cxx_name(function.name)}_;")
    out.append("};")
    if namespace:
        out += ["", f"}}  // namespace {namespace}"]
    return "\n".join(out) + "\n"
