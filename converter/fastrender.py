"""The format's Jinja template, compiled once into Polars string expressions.

Rendering 100,000 demandes with Jinja costs about a third of a millisecond each (attribute
look-ups, loop objects): far more than reading the workbook. The template stays the only
source of the layout: this module reads its syntax tree and turns the subset that deposit
templates use into Polars expressions:

- text between tags, `{{ entete.X }}` outside the loop over `demandes`;
- `{% for d in demandes %}` at the top level, `{{ loop.index }}` directly in its body;
- `{{ v.X }}` where `v` is the innermost loop variable (a `Field` of the loop's row);
- `{% for c in v.X %}` over the rows of a child sheet (a `Loop`, nested as deep as wanted);
- `{{ "," if not loop.last }}` (any constant text), followed only by text, in a loop body.

Each row of a child sheet is rendered flat (`text`: one `concat_str` over its own columns),
then the texts of a parent's children are joined (`Loop.joined`, in a group-by): no list or
struct column. build.Renderer says what a `Field` and a `Loop` are in a given sheet.

`compile_template` returns None for any other construct, and the caller renders with Jinja:
output is byte for byte what Jinja writes, which tests/test_performance.py checks.

>>> from converter.build import template
>>> from converter.formats import get_format
>>> compile_template(template(get_format("ms2-dui-pds-avance"))) is not None
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import jinja2
import polars as pl
from jinja2 import nodes



class Unsupported(Exception):
    """A construct outside the compiled subset: render with Jinja instead."""


@dataclass(frozen=True)
class Field:
    """`{{ v.name }}`, `v` the innermost loop variable: a value of the loop's row."""

    name: str


@dataclass(frozen=True)
class Loop:
    """`{% for c in v.attr %}body{{ sep if not loop.last }}after{% endfor %}`: Jinja writes
    each item's body, `sep` between items, `after` after each: join(bodies, sep + after) + after,
    and nothing without items."""

    attr: str
    body: tuple[object, ...]  # str, Field or Loop
    sep: str
    after: str

    @property
    def column(self) -> str:
        """The column holding, in each row of the parent, the whole text of this loop."""
        return f"__loop:{self.attr}"

    def joined(self, items: pl.Expr) -> pl.Expr:
        """The loop's text from the list of its items' texts (a null item makes it null).
        A group-by's implode then `list.join` costs a tenth of `str.join` in the aggregation."""
        return pl.concat_str(items.list.join(self.sep + self.after, ignore_nulls=False), pl.lit(self.after))


def text(parts: tuple[object, ...], field: Callable[[str], pl.Expr]) -> pl.Expr:
    """The text of `parts` for one row: `field(name)` is the JSON literal of a `Field`, and
    each `Loop` reads its own column (a row without items holds "" there)."""
    exprs = [pl.lit(p) if isinstance(p, str) else pl.col(p.column) if isinstance(p, Loop) else field(p.name)
             for p in parts]
    return pl.concat_str(exprs) if exprs else pl.lit("")


def loops(parts: tuple[object, ...]) -> list[Loop]:
    return [p for p in parts if isinstance(p, Loop)]


@dataclass(frozen=True)
class Compiled:
    """prefix + join(demande texts, sep) + tail + suffix (prefix, suffix: header literals filled)."""

    prefix: tuple[object, ...]  # str or ("entete", balise)
    demande: tuple[object, ...]  # str, ("index",), Field or Loop over the rows of the demandes sheet
    sep: str
    tail: str
    suffix: tuple[object, ...]

    @property
    def numbered(self) -> bool:
        """Whether a demande's text holds its `loop.index` (`expressions` cuts it there)."""
        return any(isinstance(p, tuple) for p in self.demande)

    def expressions(self, field: Callable[[str], pl.Expr]) -> tuple[pl.Expr, pl.Expr | None]:
        """The text of one demande inside the list (`text`), without separator, cut at
        `loop.index`: (text before, text after) — (whole text, None) when the body has no loop.index."""
        cut = next((i for i, p in enumerate(self.demande) if isinstance(p, tuple)), None)
        if cut is None:
            return text(self.demande, field), None
        return text(self.demande[:cut], field), text(self.demande[cut + 1:], field)

    def _fill(self, parts: tuple[object, ...], header: dict[str, str]) -> bytes:
        return "".join(p if isinstance(p, str) else str(header[p[1]]) for p in parts).encode()

    def document(self, header: dict[str, str], before: list[bytes], after: list[bytes] | None = None) -> bytes:
        """The UTF-8 bytes of the file of these demandes: the text of the i-th is `before[i]`,
        its loop.index, then `after[i]` (`before[i]` alone when the body has no loop.index).
        One join of every part, in place: formatting each demande, then joining, copied each text twice more."""
        head, foot = self._fill(self.prefix, header), self._fill(self.suffix, header)
        if not before:
            return head + foot
        step = 2 if after is None else 4  # a demande's parts, then the separator
        parts = [self.sep.encode()] * (step * len(before) + 1)
        parts[0], parts[-1] = head, self.tail.encode() + foot
        parts[1::step] = before
        if after is not None:
            parts[2::4] = _numbers(len(before))
            parts[3::4] = after
        return b"".join(parts)


@cache
def _numbers(count: int) -> list[bytes]:
    """loop.index of the demandes of a file of `count`, as Jinja writes them."""
    return [b"%d" % i for i in range(1, count + 1)]


def _leaves(body: list[nodes.Node]) -> Iterator[nodes.Node]:
    for node in body:
        if isinstance(node, nodes.Output):
            yield from node.nodes
        elif isinstance(node, nodes.For):
            yield node
        else:
            raise Unsupported(type(node).__name__)


def _last_separator(node: nodes.Node) -> str | None:
    """The text of `{{ "X" if not loop.last }}`, else None."""
    if (isinstance(node, nodes.CondExpr) and node.expr2 is None and isinstance(node.expr1, nodes.Const)
            and isinstance(node.expr1.value, str) and isinstance(node.test, nodes.Not)
            and _is_loop(node.test.node, "last")):
        return node.expr1.value
    return None


def _is_loop(node: nodes.Node, attr: str) -> bool:
    return isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) \
        and node.node.name == "loop" and node.attr == attr


def _split_body(body: list[nodes.Node]) -> tuple[list[nodes.Node], str, str]:
    """(nodes before the separator, separator text, constant text after it)."""
    leaves = list(_leaves(body))
    seps = [i for i, n in enumerate(leaves) if _last_separator(n) is not None]
    if len(seps) > 1:
        raise Unsupported("two loop.last tests")
    if not seps:
        return leaves, "", ""
    at = seps[0]
    after = leaves[at + 1:]
    if not all(isinstance(n, nodes.TemplateData) for n in after):
        raise Unsupported("text after the separator")
    return leaves[:at], _last_separator(leaves[at]), "".join(n.data for n in after)


def _body(leaves: list[nodes.Node], var: str) -> list[object]:
    """The parts of a loop body over `var`: text, `Field` of `var`, nested `Loop`."""
    parts: list[object] = []
    for node in leaves:
        if isinstance(node, nodes.TemplateData):
            parts.append(node.data)
        elif isinstance(node, nodes.For):
            parts.append(_loop(node, var))
        elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == var:
            parts.append(Field(node.attr))
        else:
            raise Unsupported(f"expression {node!r}")
    return parts


def _loop(node: nodes.For, var: str) -> Loop:
    """A nested `{% for c in var.X %}`."""
    it = node.iter
    if node.else_ or node.test is not None or node.recursive or not isinstance(node.target, nodes.Name) \
            or not (isinstance(it, nodes.Getattr) and isinstance(it.node, nodes.Name) and it.node.name == var):
        raise Unsupported("loop form")
    before, sep, after = _split_body(node.body)
    return Loop(it.attr, tuple(_body(before, node.target.name)), sep, after)


def compile_template(template: jinja2.Template) -> Compiled | None:
    """The compiled form of a deposit template, or None when it uses anything else."""
    env = template.environment
    if env.finalize is not None or env.autoescape or not template.filename:
        return None
    try:
        source = env.loader.get_source(env, template.name)[0]
        tree = env.parse(source)
        return _compile(tree)
    except (Unsupported, jinja2.TemplateError, AttributeError, TypeError):
        return None


def _compile(tree: nodes.Template) -> Compiled:
    prefix: list[object] = []
    suffix: list[object] = []
    found: tuple | None = None
    for node in _leaves(tree.body):
        target = suffix if found else prefix
        if isinstance(node, nodes.TemplateData):
            target.append(node.data)
        elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == "entete":
            target.append(("entete", node.attr))
        elif isinstance(node, nodes.For) and found is None and isinstance(node.iter, nodes.Name) \
                and node.iter.name == "demandes" and isinstance(node.target, nodes.Name) \
                and not (node.else_ or node.test is not None or node.recursive):
            var = node.target.name
            before, sep, after = _split_body(node.body)
            parts: list[object] = []
            for leaf in before:  # loop.index is cut out (Renderer.file numbers the demandes)
                parts.extend([("index",)] if _is_loop(leaf, "index") else _body([leaf], var))
            if sum(isinstance(p, tuple) for p in parts) > 1:
                raise Unsupported("loop.index twice")
            found = (tuple(parts), sep + after, after)
        else:
            raise Unsupported(f"top-level {node!r}")
    if found is None:
        raise Unsupported("no loop over demandes")
    parts, sep, tail = found
    return Compiled(prefix=tuple(prefix), demande=parts, sep=sep, tail=tail, suffix=tuple(suffix))
