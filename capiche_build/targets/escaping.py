"""Escaping for every piece of text a generator puts inside a rule or a query.

Each function returns text that is safe to place between the target's delimiters, so a generator
never concatenates raw user or catalogue text into a rule. The choices follow what the engines
accept (docs/engine-facts.md): a YARA text string that round-trips on yara-python and yara-x, a
YARA-L string with only the two escapes Google documents, VirusTotal's quoted or hex content, and
a Google phrase, which has no escape at all.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Reserved words of libyara 4.5 and yara-x 1.x: a rule named after one fails to compile on at
# least one engine. `include` and `with` are reserved only by yara-x; the int/uint readers are
# keywords in libyara and built-in functions in yara-x. Checked against both engines.
YARA_KEYWORDS: frozenset[str] = frozenset(
    {
        "all",
        "and",
        "any",
        "ascii",
        "at",
        "base64",
        "base64wide",
        "condition",
        "contains",
        "defined",
        "endswith",
        "entrypoint",
        "false",
        "filesize",
        "for",
        "fullword",
        "global",
        "icontains",
        "iendswith",
        "iequals",
        "import",
        "in",
        "include",
        "int8",
        "int16",
        "int32",
        "int8be",
        "int16be",
        "int32be",
        "istartswith",
        "matches",
        "meta",
        "nocase",
        "none",
        "not",
        "of",
        "or",
        "private",
        "rule",
        "startswith",
        "strings",
        "them",
        "true",
        "uint8",
        "uint16",
        "uint32",
        "uint8be",
        "uint16be",
        "uint32be",
        "wide",
        "with",
        "xor",
    }
)

# yara-python rejects longer identifiers; yara-x has no limit, so the stricter one wins.
YARA_MAX_IDENTIFIER = 128

_YARA_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_IDENTIFIER_CHAR = re.compile(r"[^A-Za-z0-9_]")
_DORK_OPERATOR = re.compile(r"[a-z]+")


def _yara_byte(byte: int) -> str:
    if byte == 0x5C:
        return "\\\\"
    if byte == 0x22:
        return '\\"'
    if 0x20 <= byte <= 0x7E:
        return chr(byte)
    return f"\\x{byte:02x}"


# One entry per byte value, so escaping is a table lookup per byte.
_YARA_BYTES: tuple[str, ...] = tuple(_yara_byte(b) for b in range(256))


def yara_string(text: str) -> str:
    """Content of a YARA double-quoted text string (no surrounding quotes); also for meta values.

    Works on the UTF-8 bytes: `\\\\` and `\\"` for backslash and quote, printable ASCII as is,
    every other byte as `\\xNN`. Only `\\\\`, `\\"` and `\\xNN` are used because they are the
    escapes both engines read identically (`\\u` is an error in both, and yara-x rejects unknown
    escapes). Lone surrogates cannot be encoded and raise UnicodeEncodeError (a ValueError).
    """
    return "".join(_YARA_BYTES[b] for b in text.encode("utf-8"))


def is_yara_identifier(text: str) -> bool:
    """True if `text` can name a YARA rule on both engines."""
    return (
        len(text) <= YARA_MAX_IDENTIFIER
        and _YARA_IDENTIFIER.fullmatch(text) is not None
        and text not in YARA_KEYWORDS
    )


def yara_identifier(text: str) -> str:
    """Turn arbitrary text into a valid YARA identifier, deterministically.

    Every character outside `[A-Za-z0-9_]` becomes `_`; a leading digit gets a `_` prefix; a
    keyword gets a `_` suffix; text longer than 128 characters is cut and given a short hash of
    the original so that distinct long names stay distinct. Different inputs can still map to
    the same identifier (`a-b`, `a.b`), so callers must keep names unique; the engines report
    duplicate rule names anyway. Empty text raises ValueError.
    """
    if not text:
        raise ValueError("cannot make a YARA identifier from empty text")
    name = _NOT_IDENTIFIER_CHAR.sub("_", text)
    if name[0].isdigit():
        name = "_" + name
    if name in YARA_KEYWORDS:
        name += "_"
    if len(name) > YARA_MAX_IDENTIFIER:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{name[: YARA_MAX_IDENTIFIER - 9]}_{digest}"
    return name


def _is_control(char: str) -> bool:
    # Cc covers C0, DEL and C1; U+2028/U+2029 end lines in many editors and parsers.
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def yaral_string(text: str) -> str:
    """Content of a YARA-L 2.0 double-quoted string (no surrounding quotes).

    Escapes `\\` and `"` only, the escapes Google documents for YARA-L strings. Control
    characters (newline, tab, NUL, DEL, C1, U+2028/U+2029) each become one space: YARA-L strings
    hold meta text and API names, which never need them, and whether `\\n` is read as a newline
    in YARA-L is not documented. Non-ASCII text is kept as UTF-8, which YARA-L accepts. Lone
    surrogates raise UnicodeEncodeError (a ValueError), as in yara_string.
    """
    text.encode("utf-8")  # fail early on lone surrogates, like the other escapers
    out: list[str] = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif _is_control(char):
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def yaral_unescape(content: str) -> str:
    """Inverse of yaral_string: read the content of a YARA-L double-quoted string.

    Accepts only `\\\\` and `\\"`; any other escape, a bare quote or a trailing backslash raises
    ValueError with the position, so it doubles as a check of generated strings.
    """
    out: list[str] = []
    i = 0
    while i < len(content):
        char = content[i]
        if char == '"':
            raise ValueError(f"unescaped quote at position {i}")
        if char == "\\":
            if i + 1 >= len(content):
                raise ValueError(f"dangling backslash at position {i}")
            escaped = content[i + 1]
            if escaped not in ('"', "\\"):
                raise ValueError(f"unsupported escape \\{escaped} at position {i}")
            out.append(escaped)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def vtgrep_term(text: str) -> str:
    """A VirusTotal content-search term matching the UTF-8 bytes of `text`.

    Printable ASCII gives `content:"..."` with `\\"` and `\\\\`; anything else (control bytes,
    non-ASCII) gives the hex form `content:{...}` of the UTF-8 bytes, lowercase without spaces,
    because a quoted term cannot spell those bytes unambiguously. Empty text raises ValueError:
    an empty term would match every file.
    """
    data = text.encode("utf-8")
    if not data:
        raise ValueError("cannot search VirusTotal content for empty text")
    if all(0x20 <= b <= 0x7E for b in data):
        return 'content:"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "content:{" + data.hex() + "}"


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace and control characters become one space; ends are trimmed.

    Shared by dork_term and the dork evaluator so a phrase and the text it is checked against
    are normalised the same way; Google ignores control characters and line breaks too.
    """
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if char.isspace() or _is_control(char):
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return " ".join(words)


def dork_term(text: str, operator: str = "intext") -> str:
    """A Google search term `operator:"phrase"` for `text`, with whitespace collapsed.

    Google has no escape for `"` inside a quoted phrase, so text containing one raises
    ValueError, as do an operator that is not a lowercase word and text with nothing but
    whitespace.
    """
    if not _DORK_OPERATOR.fullmatch(operator):
        raise ValueError(f"Google operator must be a lowercase word, got {operator!r}")
    if '"' in text:
        raise ValueError(
            f"cannot put {text!r} in a Google phrase: Google has no escape for a double quote "
            "inside a quoted phrase; search for the parts around the quote instead"
        )
    phrase = collapse_whitespace(text)
    if not phrase:
        raise ValueError("cannot search Google for an empty phrase")
    return f'{operator}:"{phrase}"'
