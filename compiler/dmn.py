"""DMN interchange, shared parts: namespaces, safe XML reading, names and the FEEL subset.

Jiuzhu imports and exports only what both sides mean the same way (docs/dmn.md): the
unary tests of docs/table-format.md and output entries that are literals, names, or sums
and differences of them. ``parse_cell`` reads one FEEL cell into the expression tree of
``compiler.expr`` or raises ``Unsupported`` naming the construct; ``feel_text`` writes a
tree back as FEEL, refusing what the importer would refuse, so an exported file always
imports again.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.parsers import expat

from compiler.expr import (
    MAX_DEPTH,
    AnyTest,
    Binary,
    Compare,
    Disjunction,
    Expr,
    Interval,
    Literal,
    Name,
    Negation,
    NullTest,
    Test,
    Unary,
)
from compiler.model import DType, Kind
from compiler.normalise import fold_text

MODEL_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
FEEL13 = "https://www.omg.org/spec/DMN/20191111/FEEL/"
TESTCASES = "http://www.omg.org/spec/DMN/20160719/testcase"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Jiuzhu's own attributes on exported elements (identifier, type, level); other tools
# ignore them, as the DMN schema allows attributes from other namespaces anywhere.
JZ = "urn:jiuzhu:dmn:1"

# Largest number the ``number`` type holds exactly: DECIMAL(18,4).
NUMBER_PLACES = 4
NUMBER_DIGITS = 14


class UnsafeXML(Exception):
    """The file declares a DTD or entities; it is refused before parsing."""


def parse_xml(data: bytes) -> ET.Element:
    """Parse XML that declares no DTD and no entities (what defusedxml enforces).

    Raises:
        UnsafeXML: the document has a DOCTYPE or an entity declaration.
        ET.ParseError: the document is not well-formed XML.
    """
    data = _as_utf8(data)
    scanner = expat.ParserCreate()

    def refuse(*_: object) -> None:
        raise UnsafeXML("DTD")

    scanner.StartDoctypeDeclHandler = refuse
    scanner.EntityDeclHandler = refuse
    scanner.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    try:
        scanner.Parse(data, True)
    except expat.ExpatError as error:
        raise ET.ParseError(_in_chinese(error)) from None
    return ET.fromstring(data)


# expat's errors a DMN file from another tool meets, in Chinese with what to do
_EXPAT_CN = {
    expat.errors.XML_ERROR_INVALID_TOKEN: "有无法识别的字符或标记（文件若不是 UTF-8 编码，请在 XML 声明中写明 encoding）",
    expat.errors.XML_ERROR_NO_ELEMENTS: "文件为空，或在元素结束之前就结束了（可能被截断）",
    expat.errors.XML_ERROR_INCORRECT_ENCODING: "XML 声明的编码与文件实际的编码不符",
    expat.errors.XML_ERROR_UNKNOWN_ENCODING: "XML 声明了无法识别的编码",
    expat.errors.XML_ERROR_UNCLOSED_TOKEN: "有未写完的标记（文件可能被截断）",
    expat.errors.XML_ERROR_TAG_MISMATCH: "开始标签与结束标签不匹配",
    expat.errors.XML_ERROR_SYNTAX: "XML 语法错误",
    expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "根元素之后还有多余的内容",
    expat.errors.XML_ERROR_PARTIAL_CHAR: "文件在一个字符的中间结束（可能被截断或编码不对）",
    expat.errors.XML_ERROR_UNDEFINED_ENTITY: "使用了未定义的实体（如 &nbsp;）",
    expat.errors.XML_ERROR_DUPLICATE_ATTRIBUTE: "同一元素中有重复的属性",
}


def _in_chinese(error: expat.ExpatError) -> str:
    """expat's message as a user reads it: where, and what, in Chinese."""
    english = expat.errors.messages.get(error.code, str(error))
    what = _EXPAT_CN.get(english, f"XML 格式错误（{english}）")
    return f"第 {error.lineno} 行第 {error.offset + 1} 列：{what}"


_DECLARED = re.compile(r"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_EXPAT_CODECS = {"utf-8", "utf-16", "iso8859-1", "ascii"}


def _as_utf8(data: bytes) -> bytes:
    """A document declared in an encoding expat cannot read (GBK, GB2312, GB18030, as
    Chinese tools write them) decoded here and declared UTF-8; a UTF-8 byte order mark
    outranks the declaration, as in XML itself. Raises ET.ParseError for an unknown
    encoding or bytes that are not in it."""
    bom = data.startswith(b"\xef\xbb\xbf")
    declared = _DECLARED.match(data[3:].decode("latin-1") if bom else data[:200].decode("latin-1"))
    if declared is None:
        return _undeclared(data)
    name = "utf-8" if bom else declared[1]
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise ET.ParseError(f"未知的字符编码「{name}」") from None
    if codec in _EXPAT_CODECS and _codec(declared[1]) in _EXPAT_CODECS:
        return data
    try:
        text = data.decode("utf-8-sig" if bom else codec)
    except UnicodeDecodeError as error:
        raise ET.ParseError(f"内容不是 {name} 编码（第 {error.start + 1} 字节）") from None
    begin, end = declared.span(1)  # the declaration is ASCII: the same places in text
    return (text[:begin] + "UTF-8" + text[end:]).encode("utf-8")


def _undeclared(data: bytes) -> bytes:
    """A document declaring no encoding is UTF-8 (or UTF-16 with its byte order mark);
    one that is not, but reads as GB18030, was saved so by a Chinese Windows tool."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError:
            return data  # expat says where it stops
    return data


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


# ---------------------------------------------------------------- identifiers

_RESERVED = {
    "and", "or", "not", "if", "then", "else", "true", "false", "null", "as_of",
    "household_id", "county_code", "person_id", "是", "否",
}  # fmt: skip
_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def identifier(name: str, fallback: str) -> str:
    """A Jiuzhu identifier for a DMN name: kept when it already is one, else folded to
    ASCII letters, digits and underscores, one dot-separated part per path step."""
    parts = []
    for part in name.split("."):
        folded = re.sub(r"[^A-Za-z0-9_]+", "_", part.strip()).strip("_")
        if folded and folded[0].isdigit():
            folded = "_" + folded
        parts.append(folded)
    if not all(parts):
        return fallback
    text = ".".join(parts)
    return text + "_" if text.lower() in _RESERVED else text


def is_identifier(text: str) -> bool:
    return (
        all(_SEGMENT.match(p) for p in text.split("."))
        and text.lower() not in _RESERVED
    )


class Names:
    """Hands out identifiers that are unique across one workbook."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        candidate, n = wanted, 2
        while candidate.lower() in self.used:
            candidate, n = f"{wanted}_{n}", n + 1
        self.used.add(candidate.lower())
        return candidate


# ---------------------------------------------------------------- types

BUILTIN_TYPES = {
    "number": Kind.NUMBER,
    "string": Kind.TEXT,
    "boolean": Kind.BOOLEAN,
    "date": Kind.DATE,
}
UNSUPPORTED_TYPES = {
    "time": "时间（time）",
    "dateTime": "日期时间（date and time）",
    "date and time": "日期时间（date and time）",
    "dayTimeDuration": "日时长（days and time duration）",
    "days and time duration": "日时长（days and time duration）",
    "yearMonthDuration": "年月时长（years and months duration）",
    "years and months duration": "年月时长（years and months duration）",
    "Any": "任意类型（Any）",
    "context": "上下文（context）",
    "list": "列表（list）",
    "function": "函数（function）",
}
ENUM_SAFE = re.compile(r"^[^,;|()\s](?:[^,;|()]*[^,;|()\s])?$")


def enum_type(values: list[str]) -> DType | None:
    """An enum of these values, or None when one cannot be written in a 类型 cell."""
    if not values or len(set(values)) != len(values):
        return None
    if not all(ENUM_SAFE.match(v) for v in values):
        return None
    if any(fold_text(v) != v for v in values):  # the 类型 cell would read otherwise
        return None
    return DType(Kind.ENUM, tuple(values))


# ---------------------------------------------------------------- the FEEL subset


class Unsupported(Exception):
    """A FEEL construct outside the subset; ``reason`` is Chinese, for the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Resolved:
    """What a FEEL name means in Jiuzhu: the identifier and its type."""

    ident: str
    dtype: DType
    constant: bool = False  # a literal stands for it (never null)


Resolver = Callable[[str], Resolved]

_OPS = ("**", "..", "<=", ">=", "!=", "<", ">", "=", "[", "]", "(", ")", ",", "+", "-",
        "*", "/", "{", "}", ":", "?", "@")  # fmt: skip
_WORDS = {
    "if", "then", "else", "for", "some", "every", "in", "satisfies", "return",
    "instance", "of", "function", "between", "and", "or", "not",
}  # fmt: skip
# Full-width forms of ASCII (U+FF01-U+FF5E) are not FEEL: its digits, operators,
# brackets and quotes are ASCII. Outside a name of the model they end a word, so that
# ``>= ２０２５年６月１日`` is refused for its full-width digit, not as an unknown name.
_NAME_START = re.compile("[A-Za-z_\u00C0-\uff00\uff5f-\uFFFF]")
_NAME_CHAR = re.compile("[A-Za-z0-9_\u00C0-\uff00\uff5f-\uFFFF]")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")  # \d would read ١٨ and １８ as 18


def full_width(text: str, in_string: bool = False) -> Unsupported:
    """The refusal of an entry holding a full-width character: the first one, and the
    ASCII character in its place. Outside a string FEEL needs ASCII; inside one the
    workbook's reader would fold it (``normalise.fold_text``), changing the text."""
    found = next(c for c in text if 0xFF01 <= ord(c) <= 0xFF5E)
    half = chr(ord(found) - 0xFEE0)
    if in_string:
        why = f"工作簿读取时会改为半角「{half}」，所比较或给出的文字就变了"
        return Unsupported(f"字符串含全角字符「{found}」（{why}）")
    why = f"FEEL 的数字、运算符、括号和引号只能用半角字符，如「{half}」"
    return Unsupported(f"含全角字符「{found}」（{why}）")


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, word, op, end
    value: str
    position: int


class _Lexer:
    """FEEL tokens, with names matched against the model's names longest first (FEEL
    names may hold spaces and symbols: ``Applicant data.Age``, ``Approved/Declined``)."""

    def __init__(self, text: str, known: list[str]) -> None:
        self.text = text
        self.known = known

    def tokens(self) -> list[_Token]:
        found: list[_Token] = []
        i, text = 0, self.text
        while i < len(text):
            if text[i].isspace():
                i += 1
                continue
            token = self.known_name(i) or self.string(i) or self.number(i)
            token = token or self.word(i) or self.op(i)
            if token is None and 0xFF01 <= ord(text[i]) <= 0xFF5E:
                raise full_width(text[i])
            if token is None:
                raise Unsupported(f"无法识别的字符「{text[i]}」")
            found.append(token)
            i = (
                token.position + len(token.value)
                if token.kind != "string"
                else self.end
            )
        found.append(_Token("end", "", len(text)))
        return found

    def known_name(self, i: int) -> _Token | None:
        for name in self.known:
            end = i + len(name)
            if self.text.startswith(name, i) and not (
                end < len(self.text) and _NAME_CHAR.match(self.text[end])
            ):
                return _Token("name", name, i)
        return None

    def string(self, i: int) -> _Token | None:
        if self.text[i] != '"':
            return None
        out, j = [], i + 1
        escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}
        while j < len(self.text) and self.text[j] != '"':
            if self.text[j] == "\\":
                code = self.text[j + 1 : j + 2]
                if code not in escapes:
                    raise Unsupported(f"字符串中的转义「\\{code}」")
                out.append(escapes[code])
                j += 2
                continue
            out.append(self.text[j])
            j += 1
        if j >= len(self.text):
            raise Unsupported("字符串缺少结尾的引号")
        self.end = j + 1
        return _Token("string", "".join(out), i)

    def number(self, i: int) -> _Token | None:
        match = _NUMBER.match(self.text, i)
        return _Token("number", match.group(), i) if match else None

    def word(self, i: int) -> _Token | None:
        if not _NAME_START.match(self.text[i]):
            return None
        j = i
        while j < len(self.text) and _NAME_CHAR.match(self.text[j]):
            j += 1
        return _Token("word", self.text[i:j], i)

    def op(self, i: int) -> _Token | None:
        for op in _OPS:
            if self.text.startswith(op, i):
                return _Token("op", op, i)
        return None


class _Parser:
    def __init__(self, text: str, resolve: Resolver, known: list[str]) -> None:
        self.tokens = _Lexer(text, known).tokens()
        self.index = 0
        self.resolve = resolve
        self.depth = 0  # brackets and signs open, each a level of recursion

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def at(self, kind: str, value: str | None = None) -> bool:
        token = self.token
        return token.kind == kind and (value is None or token.value == value)

    def take(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        if not self.at("op", value):
            self.unexpected()
        self.take()

    def unexpected(self) -> None:
        token = self.token
        if token.kind == "end":
            raise Unsupported("写法不完整")
        if token.kind == "word" and token.value in _WORDS:
            raise Unsupported(f"FEEL 关键字「{token.value}」（一元测试之外的写法）")
        if token.kind == "word":
            raise Unsupported(f"模型中没有名为「{token.value}」的输入数据或决策")
        if token.value in ("{", "}", ":"):
            raise Unsupported("上下文（context）")
        if token.value == "?":
            raise Unsupported("「?」表达式")
        raise Unsupported(f"此处不能出现「{token.value}」")

    def end(self) -> None:
        if not self.at("end"):
            self.unexpected()

    # ------------------------------------------------------------ unary tests

    def tests(self, dtype: DType) -> Test:
        if self.at("op", "-") and self.tokens[self.index + 1].kind == "end":
            return AnyTest()
        if self.at("word", "not") and self.tokens[self.index + 1].value == "(":
            self.take()
            self.take()
            inner = self.test_list(dtype)
            self.expect(")")
            self.end()
            return Negation(inner)
        found = self.test_list(dtype)
        self.end()
        return found

    def test_list(self, dtype: DType) -> Disjunction:
        items = [self.test(dtype)]
        while self.at("op", ","):
            self.take()
            items.append(self.test(dtype))
        return Disjunction(tuple(items))

    def test(self, dtype: DType) -> Test:
        if self.at("word", "null"):
            self.take()
            return NullTest()
        if self.token.kind == "op" and self.token.value in (
            "<",
            "<=",
            ">",
            ">=",
            "=",
            "!=",
        ):
            op = self.take().value
            return self.compared(op, dtype)
        opening = self.at("op", "[") or self.at("op", "]") or self.at("op", "(")
        if opening and self.is_interval():
            return self.interval(dtype)
        return self.compared("=", dtype)

    def compared(self, op: str, dtype: DType) -> Compare:
        operand, operand_type, constant = self.operand()
        _check_comparable(dtype, operand_type, op)
        if op in ("=", "!=") and not constant:
            raise Unsupported(
                "与变量比较是否相等（变量为空时 FEEL 判为相等，本系统判为不命中）"
            )
        return Compare(op, operand)

    def is_interval(self) -> bool:
        depth = 0
        for token in self.tokens[self.index + 1 :]:
            if token.value == "(":
                depth += 1
            elif token.value == ")":
                depth -= 1
            elif token.value == ".." and depth == 0:
                return True
            if token.kind == "end" or (token.value == "," and depth == 0):
                return False
        return False

    def interval(self, dtype: DType) -> Interval:
        opening = self.take().value
        low, low_type, _ = self.operand()
        self.expect("..")
        high, high_type, _ = self.operand()
        if not (self.at("op", "]") or self.at("op", ")") or self.at("op", "[")):
            self.unexpected()
        closing = self.take().value
        for side in (low_type, high_type):
            _check_comparable(dtype, side, "..")
        return Interval(low, opening == "[", high, closing == "]")

    # ------------------------------------------------------------ operands

    def operand(self, arithmetic: str = "+-*") -> tuple[Expr, DType, bool]:
        """An endpoint or output: literals and names joined by the given operators."""
        left, left_type, constant = self.term(arithmetic)
        while self.token.kind == "op" and self.token.value in ("+", "-"):
            op = self.take().value
            if op not in arithmetic:
                raise Unsupported(f"运算「{op}」")
            right, right_type, right_constant = self.term(arithmetic)
            left = _arithmetic(op, left, left_type, right, right_type)
            left_type, constant = DType(Kind.NUMBER), constant and right_constant
        return left, left_type, constant

    def term(self, arithmetic: str) -> tuple[Expr, DType, bool]:
        left, left_type, constant = self.primary()
        while self.token.kind == "op" and self.token.value in ("*", "/", "**"):
            op = self.take().value
            if op == "/":
                raise Unsupported("除法（FEEL 的除法精度与本系统不同）")
            if op == "**":
                raise Unsupported("乘方「**」")
            if op not in arithmetic:
                raise Unsupported(
                    "输出中的乘法（结果按列类型取整，与 FEEL 的精度不同）"
                )
            right, right_type, right_constant = self.primary()
            left = _arithmetic(op, left, left_type, right, right_type)
            left_type, constant = DType(Kind.NUMBER), constant and right_constant
        return left, left_type, constant

    def primary(self) -> tuple[Expr, DType, bool]:
        """A literal, a name, or a bracket or sign around another: refused past
        MAX_DEPTH of them, as a cell is (5000 brackets was a RecursionError)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise Unsupported(f"括号或正负号层层相套，超过上限 {MAX_DEPTH} 层")
            return self._primary()
        finally:
            self.depth -= 1

    def _primary(self) -> tuple[Expr, DType, bool]:
        token = self.token
        if token.kind == "number":
            self.take()
            return Literal(_number(token.value)), DType(Kind.NUMBER), True
        if token.kind == "string":
            self.take()
            return Literal(token.value), DType(Kind.TEXT), True
        if token.kind == "name":
            self.take()
            if self.at("op", "("):
                raise Unsupported(f"调用「{token.value}」（业务知识模型或函数）")
            resolved = self.resolve(token.value)
            if resolved.dtype.kind is Kind.LIST:
                raise Unsupported(f"列表「{token.value}」（FEEL 列表语义）")
            return Name(resolved.ident), resolved.dtype, resolved.constant
        if token.kind == "word":
            return self.word()
        if self.at("op", "-"):
            self.take()
            inner, inner_type, constant = self.primary()
            if isinstance(inner, Literal) and isinstance(inner.value, Decimal):
                return Literal(-inner.value), inner_type, constant
            raise Unsupported("对名称取负")
        if self.at("op", "@"):
            return self.at_literal()
        if self.at("op", "("):
            self.take()
            grouped = self.operand()
            self.expect(")")
            return grouped
        self.unexpected()
        raise AssertionError  # unexpected() raises

    def word(self) -> tuple[Expr, DType, bool]:
        word = self.take().value
        if word in ("true", "false"):
            return Literal(word == "true"), DType(Kind.BOOLEAN), True
        if word == "null":
            raise Unsupported("表达式中的 null")
        if word == "date" and self.at("op", "("):
            self.take()
            text = self.take()
            self.expect(")")
            if text.kind != "string":
                raise Unsupported("date(...) 的参数不是日期字符串")
            return Literal(_date(text.value)), DType(Kind.DATE), True
        if self.at("op", "("):
            raise Unsupported(f"函数「{word}」")
        self.index -= 1
        self.unexpected()
        raise AssertionError

    def at_literal(self) -> tuple[Expr, DType, bool]:
        self.take()
        text = self.take()
        if text.kind != "string":
            self.unexpected()
        return Literal(_date(text.value)), DType(Kind.DATE), True


def _number(text: str) -> Decimal:
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > NUMBER_PLACES:
        raise Unsupported(
            f"数值 {text} 超过 {NUMBER_PLACES} 位小数（数值类型精确到 4 位）"
        )
    if value.adjusted() >= NUMBER_DIGITS:
        raise Unsupported(f"数值 {text} 超过 {NUMBER_DIGITS} 位整数")
    return value


def _date(text: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise Unsupported(f"「{text}」不是日期（不能使用时间、日期时间和时长）")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unsupported(f"日期「{text}」不存在") from None


def _arithmetic(op: str, left: Expr, lt: DType, right: Expr, rt: DType) -> Expr:
    for side in (lt, rt):
        if not side.is_numeric:
            raise Unsupported("非数值的运算（如字符串拼接）")
    return Binary(op, left, right)


def _family(dtype: DType) -> str:
    if dtype.is_numeric:
        return "number"
    return "text" if dtype.kind in (Kind.TEXT, Kind.ENUM) else str(dtype.kind)


def _check_comparable(column: DType, operand: DType, op: str) -> None:
    if _family(column) != _family(operand):
        raise Unsupported(
            f"类型不同的比较（{column.render()} 与 {operand.render()}，「{op}」）"
        )
    if column.kind is Kind.BOOLEAN and op not in ("=", "!="):
        raise Unsupported("是/否值的大小比较")


def parse_tests(text: str, dtype: DType, resolve: Resolver, known: list[str]) -> Test:
    """An input entry as a unary test of the table format.

    Raises:
        Unsupported: the text leaves the subset; the reason names the construct.
    """
    if not text.strip():
        return AnyTest()
    return _Parser(text, resolve, known).tests(dtype)


def parse_output(
    text: str, resolve: Resolver, known: list[str]
) -> tuple[Expr, DType | None]:
    """An output entry: a literal, ``null``, a name, or names and literals joined by
    ``+`` and ``-``. Returns the expression and its type (None for ``null``)."""
    parser = _Parser(text, resolve, known)
    if parser.at("word", "null") and parser.tokens[1].kind == "end":
        return Literal(None), None
    expr, dtype, _ = parser.operand(arithmetic="+-")
    parser.end()
    return expr, dtype


def parse_name(text: str, resolve: Resolver, known: list[str]) -> Resolved:
    """An input expression, which must be one name of the model (plain input data, a
    component of one, or a decision)."""
    tokens = _Lexer(text, known).tokens()
    if len(tokens) == 2 and tokens[0].kind == "name":
        return resolve(tokens[0].value)
    if len(tokens) == 2 and tokens[0].kind == "word":
        raise Unsupported(f"模型中没有名为「{text}」的输入数据或决策")
    raise Unsupported(f"「{text}」不是输入数据或决策的名称（输入表达式只能是名称）")


def check_enum_output(
    expr: Expr, dtype: DType | None, column: DType, policy: str
) -> None:
    """An output of an enum column is a listed value, or (outside PRIORITY and OUTPUT
    ORDER, which sort by the listed values) a name whose values are all listed and
    which no listed value shadows (a bare word in an enum column is read as a value)."""
    if isinstance(expr, Literal):
        if expr.value is not None and expr.value not in column.values:
            raise Unsupported(f"输出「{expr.value}」不在输出值列表中")
        return
    if policy in ("PRIORITY", "OUTPUT ORDER"):
        raise Unsupported("按输出值排序的表中输出必须是常量")
    values = dtype.values if dtype is not None and dtype.kind is Kind.ENUM else ()
    if not (isinstance(expr, Name) and values and set(values) <= set(column.values)):
        raise Unsupported("枚举列的输出只能是常量，或取值都在输出值列表中的枚举名称")
    if expr.name in column.values:
        raise Unsupported(f"名称「{expr.name}」与输出值同名")


def parse_values(text: str) -> list[str] | None:
    """A list of string literals (``"a", "b"``) as Python strings; None when the text is
    something else (ranges, numbers, expressions)."""
    try:
        tokens = _Lexer(text, []).tokens()
    except Unsupported:
        return None
    values, expect_value = [], True
    for token in tokens[:-1]:
        if expect_value and token.kind == "string":
            values.append(token.value)
        elif not expect_value and token.value == ",":
            pass
        else:
            return None
        expect_value = not expect_value
    return values if values and not expect_value else None


def parse_literal(text: str) -> object:
    """A literal cell (default output entries, allowed values): number, string,
    boolean, date or null."""
    expr, _ = parse_output(text, _no_names, [])
    if isinstance(expr, Literal):
        return expr.value
    raise Unsupported("默认输出不是常量")


def _no_names(name: str) -> Resolved:
    raise Unsupported(f"名称「{name}」")


# ---------------------------------------------------------------- writing FEEL


def feel_literal(value: object) -> str:
    """A Python value as a FEEL literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return _plain(Decimal(value))
    if isinstance(value, date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise Unsupported(f"无法写成 FEEL 的值 {value!r}")


def _plain(value: Decimal) -> str:
    try:
        text = format(value.normalize(), "f")
    except InvalidOperation:
        raise Unsupported(f"数值 {value}") from None
    _number(text.lstrip("-"))
    return text


def feel_expr(node: Expr, name: Callable[[str], str], ops: str = "+-") -> str:
    """An output (``ops`` "+-") or a test operand ("+-*") as FEEL; ``name`` gives the
    FEEL name of an identifier. Refuses what ``parse_output``/``parse_tests`` refuse."""
    match node:
        case Literal(value):
            return feel_literal(value)
        case Name(ident):
            return name(ident)
        case Binary(op, left, right) if op in ops:
            return f"({feel_expr(left, name, ops)} {op} {feel_expr(right, name, ops)})"
    raise Unsupported(_construct(node))


def feel_tests(test: Test, name: Callable[[str], str]) -> str:
    """An input cell as FEEL unary tests."""
    match test:
        case AnyTest():
            return "-"
        case NullTest():
            return "null"
        case Compare(op, Literal(None)):
            raise Unsupported(f"与空值比较「{op} null」")
        case Compare("=" | "!=", operand) if not isinstance(operand, Literal):
            raise Unsupported("与变量比较是否相等（变量为空时 FEEL 判为相等）")
        case Compare("=", operand):
            return feel_expr(operand, name)
        case Compare(op, operand):
            return f"{op} {feel_expr(operand, name, '+-*')}"
        case Interval(low, low_closed, high, high_closed):
            left, right = "[" if low_closed else "(", "]" if high_closed else ")"
            ends = feel_expr(low, name, "+-*"), feel_expr(high, name, "+-*")
            return f"{left}{ends[0]}..{ends[1]}{right}"
        case Disjunction(tests):
            return ", ".join(feel_tests(t, name) for t in tests)
        case Negation(tests):
            return f"not({feel_tests(tests, name)})"
    raise Unsupported(_construct(test))


def _construct(node: object) -> str:
    from compiler.expr import Call, If

    if isinstance(node, Call):
        return f"函数「{node.func}」"
    if isinstance(node, If):
        return "条件表达式 if ... then ... else"
    if isinstance(node, Binary):
        return f"运算「{node.op}」"
    if isinstance(node, Unary):
        return f"运算「{node.op}」"
    return type(node).__name__


__all__ = [
    "DMN13",
    "JZ",
    "Names",
    "Resolved",
    "Unsupported",
    "feel_expr",
    "feel_literal",
    "feel_tests",
    "identifier",
    "parse_output",
    "parse_tests",
    "parse_xml",
]
