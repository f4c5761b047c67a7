"""The Python stub: a module with a typed client class for one server's schema, and its .pyi.

The class wraps :class:`shmrpc.Client`: one method per function with the real parameter names,
type hints and docstring, calling a remote function object bound once at connect. Structs become
:class:`shmrpc.Record` subclasses with typed fields and the server's numpy dtype, enums
:class:`enum.IntEnum` classes; the client makes results of them. At connect,
:func:`shmrpc.check_stub` compares every function's layout with the schema's and raises
:class:`shmrpc.ProtocolError` naming each changed function with both signatures.
"""

from __future__ import annotations

import keyword

from ._names import class_name, parameter_name, python_name, record_class_name
from ._schema import Definition, Kind, Function, Schema, SchemaError, Type
from ._structured_kinds import Fields, form
from ._text import COLUMNS, wrap_list, wrap_words

__all__ = ["generate_python", "generate_pyi"]

_MODULE_NAMES = {"enum", "np", "npt", "shmrpc", "typing", "connect", "SERVER", "LAYOUT_HASH",
                 "SOURCE"}


def _is_scalar(t: Type) -> bool:
    return t.traits is not None and t.traits.is_scalar


def _fixed_element(t: Type) -> bool:
    """A vector of fixed elements, which the client makes a numpy array (others: a list)."""
    return t.element is not None and t.element.is_fixed


def _scalar_traits(t: Type) -> Kind:
    if t.traits is None or not t.traits.is_scalar:
        raise SchemaError(f"shmrpc codegen: {t.kind} is not a scalar kind")
    return t.traits


def _numpy_scalar(t: Type) -> str:
    """The numpy scalar type of a scalar kind: np.int32, ...; numpy spells bool np.bool_."""
    numpy = _scalar_traits(t).numpy
    return "np.bool_" if numpy == "bool" else f"np.{numpy}"


def _quote(text: str) -> str:
    if not text.isprintable():
        raise SchemaError(f"shmrpc codegen: {text!r} holds unprintable characters")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_string(text: str, indent: str, suffix: str) -> list[str]:
    """`text` as adjacent string literals within the line width, broken after spaces."""
    lines: list[str] = []
    rest = text
    room = COLUMNS - len(indent) - 2
    while len(_quote(rest)) - 2 + len(suffix) > room:
        cut = rest.rfind(" ", 0, room)
        if cut <= 0:
            break
        lines.append(indent + _quote(rest[:cut + 1]))
        rest = rest[cut + 1:]
    return lines + [indent + _quote(rest) + suffix]


class _Emitter:
    def __init__(self, schema: Schema, cls: str | None) -> None:
        self.schema = schema
        self.cls = cls or class_name(schema.server)
        taken = set(_MODULE_NAMES) | {self.cls}
        self.classes: dict[str, str] = {}
        for name in schema.types:
            made = record_class_name(name, taken)
            taken.add(made)
            self.classes[name] = made
        self.source = f"server '{schema.server}' (layout hash {schema.layout_hash:#018x})"

    # --- types --------------------------------------------------------------------------------

    def scalar(self, t: Type) -> Type:
        while t.kind == "array":
            assert t.element is not None
            t = t.element
        return t

    def numpy_type(self, t: Type) -> str:
        """The numpy scalar type of an array of `t`."""
        t = self.scalar(t)
        if t.kind == "struct":
            return "np.void"
        if t.kind == "enum":
            underlying = self.schema.types[t.name].underlying
            assert underlying is not None
            return _numpy_scalar(underlying)
        return _numpy_scalar(t)

    def pattern_fields(self, t: Type) -> Fields:
        """The Python pattern fields of `t` (_structured_kinds.py)."""
        def element() -> Type:
            assert t.element is not None
            return t.element

        return Fields(
            cls=lambda: self.classes[t.name],
            element=lambda: self.value(element()),
            elements=lambda: ", ".join(self.value(e) for _, e in t.elements),
            element_parameter=lambda: self.parameter(element()),
            element_parameters=lambda: ", ".join(self.parameter(e) for _, e in t.elements),
            element_numpy=lambda: self.numpy_type(element()),
            or_sequence=lambda: "" if t.mutable else
            f" | typing.Sequence[{self.parameter(element())}]",
            value=lambda: self.value(t),
        )

    def value(self, t: Type) -> str:
        """The annotation of a value the stub returns."""
        row = form(t.kind)
        pattern = row.python_list if row.python_list and not _fixed_element(t) else row.python
        if not pattern:
            assert t.traits is not None
            return t.traits.python
        return pattern.format_map(self.pattern_fields(t))

    def result(self, function: Function) -> str:
        """The annotation of what a method returns: the value, or for a function that streams,
        an iterator over its elements (a shmrpc stream: also ``close()`` and ``with``)."""
        value = self.value(function.returns)
        return f"typing.Iterator[{value}]" if function.streams else value

    def parameter(self, t: Type) -> str:
        """The annotation of a value the stub takes: arrays also as sequences, except spans the
        function writes into (they must be numpy arrays, which see the writes)."""
        row = form(t.kind)
        pattern = row.python_list_parameter \
            if row.python_list_parameter and not _fixed_element(t) else row.python_parameter
        return pattern.format_map(self.pattern_fields(t))

    def dtype_format(self, t: Type) -> str:
        if t.kind == "struct":
            return f"{self.classes[t.name]}.dtype"
        if t.kind == "enum":
            underlying = self.schema.types[t.name].underlying
            assert underlying is not None
            return _quote(_scalar_traits(underlying).numpy_format)
        if t.kind == "array":
            dims: list[int] = []
            element = t
            while element.kind == "array":
                dims.append(element.count)
                assert element.element is not None
                element = element.element
            shape = "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
            return f"({self.dtype_format(element)}, {shape})"
        if _is_scalar(t):
            return _quote(_scalar_traits(t).numpy_format)
        raise SchemaError(f"shmrpc codegen: a field of type {t.kind} cannot be a numpy field")

    # --- pieces -------------------------------------------------------------------------------

    def header(self) -> list[str]:
        schema = self.schema
        return [
            f"# generated by shmrpc codegen from the schema of server '{schema.server}'; do not "
            "edit",
            f"# layout hash {schema.layout_hash:#018x}, {len(schema.functions)} functions, "
            f"schema format {schema.format_version}",
        ]

    def imports(self) -> list[str]:
        return ["from __future__ import annotations", "", "import enum", "import typing", "",
                "import numpy as np", "import numpy.typing as npt", "", "import shmrpc", ""]

    def fields(self, definition: Definition) -> list[tuple[str, str]]:
        for field in definition.fields:
            if keyword.iskeyword(field.name):
                raise SchemaError(f"shmrpc codegen: {definition.name}::{field.name} is a Python "
                                  "keyword, which cannot name a record attribute")
        return [(field.name, self.parameter(field.type)) for field in definition.fields]

    def record(self, definition: Definition, stub: bool) -> list[str]:
        name = self.classes[definition.name]
        lines: list[str] = []
        if definition.kind == "enum":
            lines += [f"class {name}(enum.IntEnum):"]
            lines += wrap_words(f'"""The C++ enum {definition.name}."""', "    ")
            lines.append("")
            for member, value in definition.members:
                if keyword.iskeyword(member):
                    raise SchemaError(f"shmrpc codegen: {definition.name}::{member} is a Python "
                                      "keyword, which cannot name an enum member")
                lines.append(f"    {member} = {value}")
            return lines
        fields = self.fields(definition)
        lines += [f"class {name}(shmrpc.Record):"]
        lines += wrap_words(f'"""The C++ struct {definition.name} ({definition.size} bytes)."""',
                            "    ")
        lines.append("")
        if not stub:
            names = [_quote(field) for field, _ in fields]
            tuple_text = "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"
            lines += [f"    __slots__ = {tuple_text}", f"    _fields = {tuple_text}",
                      f"    cxx_name = {_quote(definition.name)}"]
            spec = [
                ("names", "[" + ", ".join(names) + "]"),
                ("formats", "[" + ", ".join(self.dtype_format(f.type)
                                            for f in definition.fields) + "]"),
                ("offsets", "[" + ", ".join(str(f.offset) for f in definition.fields) + "]"),
                ("itemsize", str(definition.size)),
            ]
            items = [f'"{key}": {value}' for key, value in spec]
            lines += wrap_list("    dtype = np.dtype({", items, "})")
            lines.append("")
        for field, annotation in fields:
            lines.append(f"    {field}: {annotation}")
        lines.append("")
        parameters = ["self"] + [f"{field}: {annotation}" for field, annotation in fields]
        head = "    def __init__("
        if stub:
            lines += wrap_list(head, parameters, ") -> None: ...")
        else:
            lines += wrap_list(head, parameters, ") -> None:")
            lines += wrap_list("        super().__init__(", [field for field, _ in fields], ")")
        return lines

    def callable_type(self, function: Function) -> list[str]:
        """The annotation of the bound remote function: the method's signature."""
        head = f"    _{function.name}: typing.Callable[["
        parameters = [self.parameter(a.type) for a in function.arguments]
        lines = wrap_list(head, parameters, f"], {self.result(function)}]")
        if len(lines) == 1 and len(lines[0]) > COLUMNS:  # one parameter: break before the result
            lines = wrap_list(head[:-1], ["[" + ", ".join(parameters) + "]",
                                          self.result(function)], "]")
        return lines

    def docstring(self, function: Function, indent: str) -> list[str]:
        text = function.doc.strip()
        signature = f"C++: {function.signature}"
        if not text and len(indent) + len(signature) + 6 <= COLUMNS:
            return [f'{indent}"""{signature}"""']
        lines = wrap_words('"""' + text, indent) if text else [indent + '"""']
        lines += [""] if text else []
        lines += wrap_words(signature, indent)
        return lines + [indent + '"""']

    def method(self, function: Function, stub: bool) -> list[str]:
        names = [parameter_name(a.name, i) for i, a in enumerate(function.arguments)]
        parameters = ["self"] + [f"{name}: {self.parameter(a.type)}"
                                 for name, a in zip(names, function.arguments)]
        head = f"    def {python_name(function.name)}("
        tail = f") -> {self.result(function)}:"
        lines = wrap_list(head, parameters, tail)
        lines += self.docstring(function, "        ")  # a stub's body too
        if not stub:
            call = f"self._{function.name}(" + ", ".join(names) + ")"
            lines.append(("        return " if function.returns.kind != "void" else "        ")
                         + call)
        return lines

    def client_class(self, stub: bool) -> list[str]:
        schema = self.schema
        cls = self.cls
        lines = [f"class {cls}:"]
        lines += wrap_words(
            f'"""A typed client of the shmrpc server \'{schema.server}\': one method per '
            "function, with the function's signature. Made by :func:`connect`; raises what "
            ":class:`shmrpc.Client` raises. Closes its channels on :meth:`close` or at the end "
            'of a ``with`` block."""', "    ")
        lines.append("")
        functions = schema.functions
        if not stub:
            slots = [_quote("client")] + [_quote(f"_{f.name}") for f in functions]
            lines += wrap_list("    __slots__ = (", slots, ")")
            lines.append("")
        lines.append("    client: shmrpc.Client")
        if not stub:
            lines += ['    """The client under the stub: shared arrays (``empty``, ``zeros``, '
                      '``asarray``),', '    timeouts, the functions\' descriptions."""']
            for function in functions:
                lines += self.callable_type(function)
        lines.append("")
        parameters = ["self"] + self.options(stub)
        if stub:
            lines += wrap_list("    def __init__(", parameters, ") -> None: ...")
        else:
            lines += wrap_list("    def __init__(", parameters, ") -> None:")
            lines += [
                "        client = shmrpc.Client(",
                "            name, timeout, connect_timeout=connect_timeout, "
                "channel_wait=channel_wait,",
                "            classes=_CLASSES,",
                "        )",
                "        try:",
                "            shmrpc.check_stub(client, LAYOUT_HASH, _FUNCTIONS, SOURCE)",
                "        except BaseException:",
                "            client.close()",
                "            raise",
                "        self.client = client",
            ]
            for function in functions:
                lines.append(f"        self._{function.name} = client.function("
                             f"{_quote(function.name)})")
        for function in functions:
            lines.append("")
            lines += self.method(function, stub)
        if stub:
            lines += ["", "    def close(self) -> None: ...",
                      f"    def __enter__(self) -> {cls}: ...",
                      "    def __exit__(self, *exc_info: object) -> None: ..."]
        else:
            lines += ["", "    def close(self) -> None:",
                      '        """Releases the channels (see :meth:`shmrpc.Client.close`)."""',
                      "        self.client.close()",
                      "", f"    def __enter__(self) -> {cls}:", "        return self",
                      "", "    def __exit__(self, *exc_info: object) -> None:",
                      "        self.client.close()",
                      "", "    def __repr__(self) -> str:",
                      f'        return f"<{cls} of server {{self.client.name!r}}>"']
        return lines

    def options(self, stub: bool) -> list[str]:
        """The parameters of connect() and the class's __init__ (stubs write defaults as ...)."""
        defaults = ["SERVER", "None", "1.0", "None"] if not stub else ["..."] * 4
        return [f"name: str = {defaults[0]}", f"timeout: float | None = {defaults[1]}", "*",
                f"connect_timeout: float = {defaults[2]}",
                f"channel_wait: float | None = {defaults[3]}"]

    def connect(self, stub: bool) -> list[str]:
        parameters = self.options(stub)
        tail = f") -> {self.cls}:"
        lines = wrap_list("def connect(", parameters, tail + (" ..." if stub else ""))
        if not stub:
            lines += wrap_words(f'"""Connects to the server `name` (by default the one the stub '
                                f"was generated from) and checks that it still publishes every "
                                "function of the stub with the same layout (ProtocolError "
                                "naming each changed function otherwise). The options are "
                                ':func:`shmrpc.connect`\'s."""', "    ")
            lines += ["    return " + self.cls + "(",
                      "        name, timeout, connect_timeout=connect_timeout, "
                      "channel_wait=channel_wait",
                      "    )"]
        return lines

    def module(self, stub: bool) -> str:
        schema = self.schema
        out = self.header()
        if not stub:
            out += wrap_words(f'"""A typed client of the shmrpc server \'{schema.server}\'.', "")
            out += ["", "    with connect() as client:  # a " + self.cls]
            example = next((f for f in schema.functions if f.arguments), None)
            if example is not None:
                out.append(f"        client.{python_name(example.name)}(...)")
            out += ['"""', ""]
        out += self.imports()
        exported = [self.cls, "connect"] + list(self.classes.values())
        out += wrap_list("__all__ = [", [_quote(name) for name in sorted(exported)], "]")
        out.append("")
        if stub:
            out += ["SERVER: str", "LAYOUT_HASH: int", "SOURCE: str"]
        else:
            out += [f"SERVER = {_quote(schema.server)}",
                    '"""The name of the server the stub was generated from: connect()\'s '
                    'default."""',
                    f"LAYOUT_HASH = {schema.layout_hash:#018x}",
                    f"SOURCE = {_quote(self.source)}"]
        for definition in schema.types.values():
            out += ["", ""] if not stub else [""]
            out += self.record(definition, stub)
        if not stub:
            out += ["", ""]
            out += wrap_list("_CLASSES: dict[str, type] = {",
                             [f"{_quote(cxx)}: {py}" for cxx, py in self.classes.items()], "}")
            out.append("# (name, signature, layout key, signature hash) of every function")
            out.append("_FUNCTIONS: tuple[tuple[str, str, str, int], ...] = (")
            for function in schema.functions:
                out.append(f"    ({_quote(function.name)},")
                out += _split_string(function.signature, "     ", ",")
                out += _split_string(function.layout, "     ", ",")
                out.append(f"     {function.signature_hash:#018x}),")
            out.append(")")
        out += ["", ""] if not stub else [""]
        out += self.client_class(stub)
        out += ["", ""] if not stub else [""]
        out += self.connect(stub)
        return "\n".join(out) + "\n"


def generate_python(schema: Schema, class_name_: str | None = None) -> str:
    """The stub module's text."""
    return _Emitter(schema, class_name_).module(stub=False)


def generate_pyi(schema: Schema, class_name_: str | None = None) -> str:
    """The text of the stub module's type stub (.pyi), for type checkers and editors."""
    return _Emitter(schema, class_name_).module(stub=True)
