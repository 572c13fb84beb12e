"""Write a UNO type library (.rdb) in LibreOffice's own binary format, without the SDK.

LibreOffice reads extension type libraries with ``unoidl::UnoidlProvider``; its SDK tool
``unoidl-write`` produces them from .idl files. The Calc add-in needs only one entity, an
interface type whose methods are the worksheet functions, so this module writes that subset
of the format: nested modules and interface types (methods with ``in`` parameters, no
attributes, exceptions or annotations). ``tests/test_calc_build.py`` checks the bytes against
``unoidl-write`` and reads them back with ``unoidl-read`` where the SDK is installed.

Layout of the file (all integers little-endian):

* header: ``b"UNOIDL\\xff\\0"``, u32 offset of the root map, u32 number of root entries, then
  a free-form NUL-delimited comment;
* a module is written as its members' data, then its members' names (NUL-terminated ASCII),
  then its map: u8 kind 0 (module) and u32 count — omitted for the root — followed by one
  (u32 name offset, u32 data offset) pair per member, sorted by name;
* an interface is u8 kind 5 (| 0x80 when published), u32 count + names of its mandatory
  bases, u32 count of optional bases, u32 count of attributes, u32 count of methods, each
  method as name, return type, u32 count + (u8 direction, name, type) per parameter, u32
  count of exceptions;
* a name or type is an "index string": u32 length and the bytes the first time, later the
  u32 offset of that first copy with the top bit set.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

MAGIC = b"UNOIDL\xff\0"
KIND_MODULE, KIND_INTERFACE = 0, 5
PARAM_IN = 0
XINTERFACE = "com.sun.star.uno.XInterface"
# UNO identifiers as LibreOffice's IDL compiler accepts them (checked against unoidl-write
# 7.4): a letter, then letters, digits and single underscores, not ending in one; a name that
# starts lower-case has no underscore at all (``tYears``, not ``t_years``).
_IDENTIFIER = re.compile(r"[A-Z](?:_?[A-Za-z0-9])*|[a-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class Method:
    """One interface method: ``return_type name(in type1 p1, …)``; types in UNOIDL spelling
    (``any``, ``double``, ``[][]any`` for a sequence of sequences of any)."""

    name: str
    return_type: str
    parameters: tuple[tuple[str, str], ...]          # (name, type), all 'in'


@dataclass(frozen=True)
class Interface:
    """An interface type named with its full dotted name, e.g. ``org.alvh.calc.XFunctions``."""

    name: str
    methods: tuple[Method, ...]
    bases: tuple[str, ...] = (XINTERFACE,)
    published: bool = False


@dataclass
class _Module:
    members: dict[str, _Module | Interface] = field(default_factory=dict)


class _Out:
    def __init__(self) -> None:
        self.buf = bytearray()
        self._strings: dict[bytes, int] = {}

    @property
    def offset(self) -> int:
        return len(self.buf)

    def u8(self, v: int) -> None:
        self.buf += struct.pack("<B", v)

    def u32(self, v: int) -> None:
        self.buf += struct.pack("<I", v)

    def idx(self, text: str) -> None:
        data = text.encode("ascii")
        seen = self._strings.get(data)
        if seen is None:
            self._strings[data] = self.offset
            self.u32(len(data))
            self.buf += data
        else:
            self.u32(seen | 0x80000000)

    def nul_name(self, text: str) -> int:
        at = self.offset
        self.buf += text.encode("ascii") + b"\0"
        return at


def write_rdb(interfaces: list[Interface] | tuple[Interface, ...],
              comment: str = "alvh_xl unoidl writer") -> bytes:
    """The .rdb bytes holding ``interfaces`` (and the modules that contain them)."""
    root = _Module()
    for itf in interfaces:
        _check(itf)
        *path, leaf = itf.name.split(".")
        node = root
        for part in path:
            nxt = node.members.setdefault(part, _Module())
            if not isinstance(nxt, _Module):
                raise ValueError(f"{itf.name}: {part} is not a module")
            node = nxt
        if leaf in node.members:
            raise ValueError(f"duplicate entity {itf.name}")
        node.members[leaf] = itf
    out = _Out()
    out.buf += MAGIC
    out.u32(0)
    out.u32(0)
    out.buf += b"\0** " + comment.encode("ascii") + b" **\0"
    offset, size = _write_module(out, root, is_root=True)
    out.buf[8:16] = struct.pack("<II", offset, size)
    return bytes(out.buf)


def interface_idl(itf: Interface) -> str:
    """The interface as UNO IDL source (what ``unoidl-write`` compiles to the same bytes)."""
    *path, leaf = itf.name.split(".")
    lines = [f"module {p} {{" for p in path]
    bases = "".join(f"    interface {b.replace('.', '::')};\n" for b in itf.bases)
    lines.append(f"{'published ' if itf.published else ''}interface {leaf} {{")
    body = [bases.rstrip("\n")] if bases else []
    for m in itf.methods:
        params = ", ".join(f"[in] {_idl_type(t)} {n}" for n, t in m.parameters)
        body.append(f"    {_idl_type(m.return_type)} {m.name}({params});")
    lines += body
    lines.append("};")
    lines += ["};"] * len(path)
    return "\n".join(lines) + "\n"


def _idl_type(t: str) -> str:
    depth = 0
    while t.startswith("[]"):
        t, depth = t[2:], depth + 1
    t = t.replace(".", "::")
    for _ in range(depth):
        t = f"sequence< {t} >"
    return t


def _check(itf: Interface) -> None:
    for part in itf.name.split("."):
        if not _IDENTIFIER.fullmatch(part):
            raise ValueError(f"not a UNO identifier: {part!r} in {itf.name}")
    names = [m.name for m in itf.methods]
    if len(set(names)) != len(names):
        raise ValueError(f"{itf.name}: duplicate method names")
    for m in itf.methods:
        for n in (m.name, *(p for p, _ in m.parameters)):
            if not _IDENTIFIER.fullmatch(n):
                raise ValueError(f"{itf.name}.{m.name}: not a UNO identifier: {n!r}")


def _sort_key(name: str) -> bytes:
    return name.encode("utf-16-be")       # LibreOffice orders names by UTF-16 code units


def _write_module(out: _Out, module: _Module, is_root: bool = False) -> tuple[int, int]:
    names = sorted(module.members, key=_sort_key)
    data: dict[str, int] = {}
    for name in names:
        member = module.members[name]
        if isinstance(member, _Module):
            data[name], _ = _write_module(out, member)
        else:
            data[name] = out.offset
            _write_interface(out, member)
    name_at = {name: out.nul_name(name) for name in names}
    at = out.offset
    if not is_root:
        out.u8(KIND_MODULE)
        out.u32(len(names))
    for name in names:
        out.u32(name_at[name])
        out.u32(data[name])
    return at, len(names)


def _write_interface(out: _Out, itf: Interface) -> None:
    out.u8(KIND_INTERFACE | (0x80 if itf.published else 0))
    out.u32(len(itf.bases))
    for base in itf.bases:
        out.idx(base)
    out.u32(0)                        # optional bases
    out.u32(0)                        # attributes
    out.u32(len(itf.methods))
    for m in itf.methods:
        out.idx(m.name)
        out.idx(m.return_type)
        out.u32(len(m.parameters))
        for pname, ptype in m.parameters:
            out.u8(PARAM_IN)
            out.idx(pname)
            out.idx(ptype)
        out.u32(0)                    # exceptions
