"""Expressions and unary tests: the language of the cells (docs/table-format.md, 5).

``parse_expression`` reads what a derived value or an output cell holds; ``parse_tests``
reads an input cell (``< 低保标准``, ``[1000..1500)``, ``not(a, b)``, ``-``). Both take
text already folded by the reader (full-width characters are ASCII by then) and return
an immutable tree. Names stay unresolved here; the validation pass binds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

# ---------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Literal:
    value: Decimal | str | bool | date | None
    # the unit written after a number (元, 元/年, %, 万元), its factor applied to
    # value: kept so that the binder can refuse one the column contradicts (E110)
    unit: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / = != < <= > >= and or
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Expr
    otherwise: Expr


Expr = Literal | Name | Unary | Binary | Call | If


@dataclass(frozen=True, slots=True)
class AnyTest:
    """``-``: matches every value, missing ones included."""


@dataclass(frozen=True, slots=True)
class NullTest:
    """``null``: matches a missing value."""


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # < <= > >= = !=
    operand: Expr


@dataclass(frozen=True, slots=True)
class Interval:
    low: Expr
    low_closed: bool
    high: Expr
    high_closed: bool


@dataclass(frozen=True, slots=True)
class Disjunction:
    """``a, b, c``: matches when any of the tests does."""

    tests: tuple[Test, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    """``not(a, b)``: matches when none of the tests does (and the value is present)."""

    tests: Disjunction


Test = AnyTest | NullTest | Compare | Interval | Disjunction | Negation

COMPARISONS = ("<", "<=", ">", ">=", "=", "!=")
T = TypeVar("T", bound="Expr | Test")

# How deep a cell may nest: brackets (a function's too), if, not and signs inside one
# another, and the tree the cell makes (a sum of n terms is n - 1 levels deep). Every
# pass after the parser walks the tree recursively, a few Python frames a level; 100
# levels keep each of them far below Python's limit of 1000 frames, and no table comes
# near it (the deepest cell of the province's tables is 9 levels).
MAX_DEPTH = 100
_TOO_DEEP_HINT = "把表达式拆成几个派生值，每个派生值写其中一段，再在这里引用它们"


# the exponent of a number in scientific notation (1e30, 2.5E-3), which cells do not take
_EXPONENT = re.compile(r"[eE][+-]?[0-9]+")


class ParseError(Exception):
    """A cell's text does not follow the grammar; ``message`` is Chinese for users,
    ``hint`` (may be empty) the next step."""

    def __init__(self, message: str, position: int, text: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.text = text
        self.hint = hint


# ---------------------------------------------------------------- the lexer

_UNITS = (
    ("万元/人/月", Decimal(10000)),
    ("万元/人/年", Decimal(10000)),
    ("万元/月", Decimal(10000)),
    ("万元/年", Decimal(10000)),
    ("万/月", Decimal(10000)),
    ("万/年", Decimal(10000)),
    ("元/人/月", Decimal(1)),
    ("元/人/年", Decimal(1)),
    ("元/月", Decimal(1)),
    ("元/年", Decimal(1)),
    ("万元", Decimal(10000)),
    ("万", Decimal(10000)),
    ("元", Decimal(1)),
    ("%", Decimal("0.01")),
)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<date>\d{4}-\d{1,2}-\d{1,2}(?!\d|\.\d)|\d{4}年\d{1,2}月\d{1,2}日)
  | (?P<number>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?)
  | (?P<string>"[^"]*"|“[^”]*”|'[^']*')
  | (?P<name>[A-Za-z_\u3400-\u9fff][A-Za-z0-9_\u3400-\u9fff]*
              (?:\.[A-Za-z_\u3400-\u9fff][A-Za-z0-9_\u3400-\u9fff]*)*)
  | (?P<op>\.\.|<=|>=|!=|<>|==|[-+*/<>=(),;\[\]×÷])
    """,
    re.VERBOSE,
)
_OP_ALIASES = {"<>": "!=", "==": "=", "×": "*", "÷": "/"}
_WORD_LITERALS: dict[str, bool | None] = {
    "true": True,
    "false": False,
    "是": True,
    "否": False,
    "null": None,
}
KEYWORDS = {"and", "or", "not", "if", "then", "else"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number, string, date, name, op, end
    value: object
    position: int
    unit: str = ""  # a number's unit as written


def _number(text: str, rest: str) -> tuple[Decimal, str, int]:
    """The number's value, the unit that followed it ("" for none) and how many
    characters that took (a space may come first: 「1301 元」 as well as 「1301元」)."""
    value = Decimal(text.replace(",", ""))
    spaced = rest[1:] if rest[:1] == " " else rest
    for unit, factor in _UNITS:
        if spaced.startswith(unit):
            return value * factor, unit, len(rest) - len(spaced) + len(unit)
    return value, "", 0


def _comma_run(text: str, position: int) -> str:
    """The digits and commas from ``position``: what the user typed as one number."""
    match = re.match(r"[0-9,.]+", text[position:])
    return match.group() if match else text[position:]


def _date(text: str, position: int, source: str) -> date:
    parts = [int(p) for p in re.findall(r"\d+", text)]
    try:
        return date(parts[0], parts[1], parts[2])
    except ValueError:
        raise ParseError(f"日期「{text}」不存在", position, source) from None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    depth = 0  # brackets open: inside a function's, a comma parts its arguments
    deepest, too_deep_at = 0, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ParseError(f"无法识别的字符「{text[position]}」", position, text)
        kind = match.lastgroup or ""
        raw = match.group()
        end = match.end()
        if kind == "number":
            if not depth and text[end:end + 1] == "," and text[end + 1:end + 2].isdigit():
                # 「1,30」「10,0000」: neither thousands (three digits each) nor a list,
                # whose items are parted by 「, 」 or 「；」; read as a list it changed decisions
                raise ParseError(
                    f"数字中的逗号位置不对：「{_comma_run(text, position)}」；千位分隔符每三位一个"
                    "（如 1,301），多个条件之间用「, 」（逗号加空格）或「；」分隔",
                    position,
                    text,
                )
            value, unit, length = _number(raw, text[end:])
            tokens.append(Token("number", value, position, unit))
            end += length
        elif kind == "date":
            tokens.append(Token("date", _date(raw, position, text), position))
        elif kind == "string":
            tokens.append(Token("string", raw[1:-1], position))
        elif kind == "name":
            tokens.append(Token("name", raw, position))
        elif kind == "op":
            tokens.append(Token("op", _OP_ALIASES.get(raw, raw), position))
            depth += (raw == "(") - (raw == ")")
            if depth > deepest:
                deepest = depth
                too_deep_at = too_deep_at or (position if depth > MAX_DEPTH else 0)
        position = end
    if deepest > MAX_DEPTH:  # said before parsing, which recurses once per bracket
        raise ParseError(
            f"括号嵌套 {deepest} 层，超过上限 {MAX_DEPTH} 层", too_deep_at, text, _TOO_DEEP_HINT
        )
    tokens.append(Token("end", None, len(text)))
    return tokens


# ---------------------------------------------------------------- the parser

# How tightly each binary operator binds; not (a prefix) sits between and and comparison
_OR, _AND, _NOT, _COMPARE, _ADD, _MUL = 1, 2, 3, 4, 5, 6
_LEVELS = {"or": _OR, "and": _AND, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL}
_LEVELS.update((op, _COMPARE) for op in COMPARISONS)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0  # levels of brackets, if, not and signs open (MAX_DEPTH)

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def at(self, kind: str, value: object = None) -> bool:
        token = self.token
        return token.kind == kind and (value is None or token.value == value)

    def at_word(self, word: str) -> bool:
        return self.token.kind == "name" and str(self.token.value).lower() == word

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def expect_op(self, op: str) -> None:
        if not self.at("op", op):
            self.fail(f"此处应为「{op}」")
        self.advance()

    def fail(self, message: str) -> None:
        token = self.token
        exponent = _EXPONENT.match(self.text, token.position)
        if exponent and token.position and self.text[token.position - 1].isdigit():
            # 1e30 read as the number 1 and a name e30: say what was meant
            start = token.position
            while start and (self.text[start - 1].isdigit() or self.text[start - 1] == "."):
                start -= 1
            raise ParseError(
                f"数字「{self.text[start:exponent.end()]}」用了科学计数法，单元格中的数字不能这样写",
                token.position, self.text,
                "写出完整的数字，如 1e6 写作 1000000",
            )
        # where parsing stopped, not 实际为: the diagnostic quotes the whole cell as
        # 实际为, and a fragment said so read as if it were the cell (helper-135)
        if token.kind == "end":
            where = "单元格在此结束，没有写完"
        else:
            after = self.tokens[self.index + 1].position
            shown = self.text[token.position:after].rstrip()
            where = f"在第 {token.position + 1} 个字符「{shown}」处无法继续"
        raise ParseError(f"{message}（{where}）", token.position, self.text)

    def nest(self) -> None:
        """One level deeper (a bracket, an if, a not or a sign): refused past MAX_DEPTH,
        before the recursion it costs could reach Python's limit."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(
                f"嵌套超过 {MAX_DEPTH} 层（括号、函数、if、not 或正负号层层相套）",
                self.token.position,
                self.text,
                _TOO_DEEP_HINT,
            )

    # expressions, loosest binding first: if, or, and, not, comparison, + -, * /, sign
    def expression(self) -> Expr:
        self.nest()
        if self.at_word("if"):
            self.advance()
            cond = self.expression()
            self.expect_word("then")
            then = self.expression()
            self.expect_word("else")
            result: Expr = If(cond, then, self.expression())
        else:
            result = self.operation(_OR)
        self.depth -= 1
        return result

    def expect_word(self, word: str) -> None:
        if not self.at_word(word):
            self.fail(f"此处应为「{word}」")
        self.advance()

    def operator_level(self) -> int:
        """How tightly the binary operator at the current token binds; 0 for none."""
        token = self.token
        if token.kind == "op":
            return _LEVELS.get(str(token.value), 0)
        if token.kind == "name":
            return _LEVELS.get(str(token.value).lower(), 0)
        return 0

    def operation(self, lowest: int) -> Expr:
        """Operators binding at level ``lowest`` or tighter, by precedence climbing.

        One call a level of brackets, not one a level of precedence, so that nesting
        costs the stack little. ``and``, ``or``, ``+ - * /`` group from the left; a
        comparison takes one on each side (``a < b < c`` is refused); ``not`` binds
        looser than a comparison (``not a < 1`` is ``not (a < 1)``).
        """
        last = 0  # the level of the operator just applied: tighter ones came before
        if lowest <= _NOT and self.at_word("not"):
            self.advance()
            self.nest()
            left: Expr = Unary("not", self.operation(_NOT))
            self.depth -= 1
            last = _NOT
        else:
            left = self.unary()
        while True:
            level = self.operator_level()
            if level < lowest or (last and (level > last or level == last == _COMPARE)):
                return left
            op = str(self.advance().value).lower()
            left = Binary(op, left, self.operation(level + 1))
            last = level

    def additive(self) -> Expr:
        """An operand of a unary test: arithmetic, no comparison, and or not."""
        return self.operation(_ADD)

    def unary(self) -> Expr:
        if self.at("op", "-") or self.at("op", "+"):
            sign = str(self.advance().value)
            self.nest()
            operand = self.unary()
            self.depth -= 1
            if sign == "+":
                return operand
            if isinstance(operand, Literal) and isinstance(operand.value, Decimal):
                return Literal(-operand.value)
            return Unary("-", operand)
        return self.primary()

    def primary(self) -> Expr:
        token = self.token
        if token.kind in ("number", "string", "date"):
            self.advance()
            return Literal(token.value, token.unit)  # type: ignore[arg-type]
        if token.kind == "name":
            return self.name_or_call()
        if self.at("op", "("):
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        self.fail("此处应为数值、名称或括号")
        raise AssertionError  # unreachable: fail raises

    def name_or_call(self) -> Expr:
        word = str(self.advance().value)
        if word.lower() in _WORD_LITERALS:
            return Literal(_WORD_LITERALS[word.lower()])
        if word.lower() in KEYWORDS:
            self.index -= 1
            self.fail("此处应为数值、名称或括号")
        if not self.at("op", "("):
            return Name(word)
        self.advance()
        args: list[Expr] = []
        if not self.at("op", ")"):
            args.append(self.expression())
            while self.at("op", ","):
                self.advance()
                args.append(self.expression())
        self.expect_op(")")
        return Call(word.lower(), tuple(args))

    def shallow(self, tree: T) -> T:
        """The tree, if no deeper than MAX_DEPTH: a long chain (``1 + 1 + …``) is parsed
        by a loop, but each term makes the tree one level deeper."""
        # along a path from the root every node but a list of tests and a comparison
        # written without its operator has a token of its own: few tokens, no deep tree
        if len(self.tokens) + 2 <= MAX_DEPTH:
            return tree
        levels = depth(tree)
        if levels > MAX_DEPTH:
            raise ParseError(
                f"表达式过长：运算层层相套共 {levels} 层（连加、连乘每多一项就深一层），"
                f"超过上限 {MAX_DEPTH} 层",
                0,
                self.text,
                _TOO_DEEP_HINT,
            )
        return tree

    # unary tests
    def tests(self) -> Test:
        if self.at("op", "-") and self.tokens[self.index + 1].kind == "end":
            self.advance()
            return AnyTest()
        if self.at_word("not") and self.tokens[self.index + 1].value == "(":
            self.advance()
            self.advance()
            inner = self.test_list(closing=")")
            self.expect_op(")")
            if not self.at("end"):
                self.fail("「not(…)」之后不能再写条件，要排除的各项都写在括号内")
            return Negation(inner)
        return self.test_list(closing=None)

    def test_list(self, closing: str | None) -> Disjunction:
        items = [self.test()]
        while self.at("op", ",") or self.at("op", ";"):
            self.advance()
            items.append(self.test())
        if closing is None and not self.at("end"):
            self.fail("条件之间应以逗号分隔")
        return Disjunction(tuple(items))

    def test(self) -> Test:
        token = self.token
        if token.kind == "name" and str(token.value).lower() == "null":
            self.advance()
            return NullTest()
        if token.kind == "op" and token.value in COMPARISONS:
            self.advance()
            return Compare(str(token.value), self.additive())
        if token.kind == "op" and token.value in ("[", "]"):
            return self.interval()
        if token.kind == "op" and token.value == "(":
            saved = self.index
            self.advance()
            self.additive()
            is_interval = self.at("op", "..")
            self.index = saved
            if is_interval:
                return self.interval()
        return Compare("=", self.additive())

    def interval(self) -> Interval:
        opening = str(self.advance().value)
        low = self.additive()
        self.expect_op("..")
        high = self.additive()
        if not (self.at("op", "]") or self.at("op", ")") or self.at("op", "[")):
            self.fail("区间应以「]」或「)」结束")
        closing = str(self.advance().value)
        return Interval(low, opening == "[", high, closing == "]")


def parse_expression(text: str) -> Expr:
    """Parse a derived value's or an output cell's expression.

    Raises:
        ParseError: the text is not an expression; the message says where and why.
    """
    parser = _Parser(text)
    if parser.at("end"):
        raise ParseError("表达式为空", 0, text)
    result = parser.expression()
    if not parser.at("end"):
        parser.fail("表达式在此处应当结束")
    return parser.shallow(result)


def parse_tests(text: str) -> Test:
    """Parse an input cell's unary tests; an empty cell means ``-``.

    Raises:
        ParseError: the text is not a unary test; the message says where and why.
    """
    if not text.strip():
        return AnyTest()
    parser = _Parser(text)
    return parser.shallow(parser.tests())


# ---------------------------------------------------------------- walking the tree


def names_in(node: Expr | Test) -> list[str]:
    """Every name the node refers to, in order of appearance."""
    found: list[str] = []
    _collect_names(node, found)
    return found


def _collect_names(node: object, found: list[str]) -> None:
    if isinstance(node, Name):
        found.append(node.name)
        return
    if isinstance(node, Literal | AnyTest | NullTest):
        return
    for child in children(node):
        _collect_names(child, found)


def depth(node: object) -> int:
    """How many levels deep the tree is (a leaf is 1), counted without recursion."""
    deepest, pending = 0, [(node, 1)]
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children(item))
    return deepest


def children(node: object) -> tuple[object, ...]:
    """The direct sub-nodes of an expression or test node."""
    match node:
        case Unary(_, operand):
            return (operand,)
        case Binary(_, left, right):
            return (left, right)
        case Call(_, args):
            return args
        case If(cond, then, otherwise):
            return (cond, then, otherwise)
        case Compare(_, operand):
            return (operand,)
        case Interval(low, _, high, _):
            return (low, high)
        case Disjunction(tests):
            return tests
        case Negation(tests):
            return (tests,)
    return ()


def render(node: Expr | Test) -> str:
    """A canonical text for a node, used in traces, SQL comments and canonical YAML."""
    match node:
        case Literal(value):
            return _render_literal(value)
        case Name(name):
            return name
        case Unary("-", operand):
            return f"-{render(operand)}"
        case Unary(op, operand):
            return f"not {render(operand)}"
        case Binary(op, left, right):
            return f"({render(left)} {op} {render(right)})"
        case Call(func, args):
            return f"{func}({', '.join(render(a) for a in args)})"
        case If(cond, then, otherwise):
            return f"if {render(cond)} then {render(then)} else {render(otherwise)}"
        case AnyTest():
            return "-"
        case NullTest():
            return "null"
        case Compare(op, operand):
            return f"{op} {render(operand)}"
        case Interval(low, low_closed, high, high_closed):
            opening, closing = "[" if low_closed else "(", "]" if high_closed else ")"
            return f"{opening}{render(low)}..{render(high)}{closing}"
        case Disjunction(tests):
            return ", ".join(render(t) for t in tests)
        case Negation(tests):
            return f"not({render(tests)})"
    raise TypeError(f"not a node: {node!r}")


def _render_literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)
