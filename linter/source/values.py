"""Abstract values: what the source view knows an expression evaluates to.

The interpreter (:mod:`klint.source.interpreter`) evaluates a file's
statements in order and gives every expression one of these values. Keras
objects keep a handle on the libcst node that built them: that is where a
finding is reported and where a fix edits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst


class Value:
    """Base class. ``UNKNOWN`` is the value of anything the source view cannot tell."""

    __slots__ = ()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{type(self).__name__}>"


class Unknown(Value):
    __slots__ = ()


UNKNOWN = Unknown()


@dataclass(eq=False, repr=False)
class Const(Value):
    """A Python literal (number, string, bool, None), with the node that spelled it."""

    value: Any
    node: cst.CSTNode | None = None
    top: cst.CSTNode | None = None  # the top-level statement holding ``node``


@dataclass(eq=False, repr=False)
class Ref(Value):
    """An imported module or object: ``raw`` as imported, ``qual`` canonical."""

    raw: str
    qual: str


@dataclass(eq=False, repr=False)
class Entry:
    value: Value
    node: cst.CSTNode | None  # the expression that gave the value
    owner: cst.CSTNode | None = None  # the dict literal it sits in
    top: cst.CSTNode | None = None


@dataclass(eq=False, repr=False)
class DictV(Value):
    entries: dict = field(default_factory=dict)
    node: cst.CSTNode | None = None
    open: bool = False  # holds keys the source view cannot see


@dataclass(eq=False, repr=False)
class SeqV(Value):
    items: list = field(default_factory=list)
    node: cst.CSTNode | None = None
    open: bool = False  # repeated (comprehension) or extended by unknown values
    length: int | None = None  # how many elements an open sequence has, when that is known (``range(8)``)

    def count(self) -> int | None:
        """How many times a loop over this sequence runs, when the code says."""
        return len(self.items) if not self.open else self.length


@dataclass(eq=False, repr=False)
class FuncV(Value):
    node: cst.FunctionDef
    scope: Any
    defaults: dict
    cls: "ClassV | None" = None
    top: cst.CSTNode | None = None


@dataclass(eq=False, repr=False)
class ClassV(Value):
    node: cst.ClassDef
    scope: Any
    bases: list
    methods: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)

    def keras_bases(self) -> list[str]:
        """Canonical names of the Keras classes this class derives from, transitively."""
        out: list[str] = []
        for b in self.bases:
            if isinstance(b, Ref):
                out.append(b.qual)
            elif isinstance(b, ClassV):
                out.extend(b.keras_bases())
        return out

    def derives(self, *quals: str) -> bool:
        return any(q in quals for q in self.keras_bases())

    def find_method(self, name: str) -> "FuncV | None":
        if name in self.methods:
            return self.methods[name]
        for b in self.bases:
            if isinstance(b, ClassV):
                m = b.find_method(name)
                if m is not None:
                    return m
        return None


class Absent:
    """The value of an argument that was not given (the callee's default applies)."""

    __slots__ = ()


ABSENT = Absent()


@dataclass(eq=False, repr=False)
class Arg:
    """One argument of a call, resolved.

    ``node`` is the expression in the call (or in the dict literal expanded
    with ``**``); ``via`` says which: ``keyword``, ``positional`` or ``dict``.
    """

    value: Value
    node: cst.CSTNode | None
    via: str
    name: str | None = None
    top: cst.CSTNode | None = None


class CallSite:
    """A call with its arguments resolved through constants and ``**`` dicts."""

    __slots__ = ("node", "top", "positional", "keywords", "open_args", "open_kwargs")

    def __init__(self, node: cst.Call, top: cst.CSTNode | None = None):
        self.node = node
        self.top = top
        self.positional: list[Arg] = []
        self.keywords: dict[str, Arg] = {}
        self.open_args = False
        self.open_kwargs = False

    def arg(self, name: str, pos: int | None = None, *aliases: str) -> Arg | Absent | Unknown:
        """The argument ``name`` (or at position ``pos``): an :class:`Arg`, ``ABSENT`` or ``UNKNOWN``."""
        for n in (name, *aliases):
            if n in self.keywords:
                return self.keywords[n]
        if pos is not None:
            if pos < len(self.positional):
                return self.positional[pos]
            if self.open_args:
                return UNKNOWN
        if self.open_kwargs:
            return UNKNOWN
        return ABSENT

    def value(self, name: str, pos: int | None = None, *aliases: str) -> Value:
        a = self.arg(name, pos, *aliases)
        return a.value if isinstance(a, Arg) else UNKNOWN


@dataclass(eq=False, repr=False)
class Obj(Value):
    """An instance of a Keras (or other imported) class, built at ``site``."""

    qual: str
    site: CallSite | None = None
    attrs: dict = field(default_factory=dict)
    escaped: bool = False  # passed where the source view cannot follow it

    @property
    def node(self) -> cst.CSTNode | None:
        return self.site.node if self.site else None

    def arg(self, name: str, pos: int | None = None, *aliases: str):
        """An argument of the constructor call: an :class:`Arg`, ``ABSENT`` or ``UNKNOWN``."""
        return self.site.arg(name, pos, *aliases) if self.site else UNKNOWN


@dataclass(eq=False, repr=False)
class OpUse:
    """A consumer of a layer's output that is not a layer: an op or a function.

    Ops are nodes of the layer graph like layers are: they have producers
    and consumers, so that a walk can go through them.
    """

    activation: str | None = None  # set when the op is an activation (tf.nn.relu)
    node: cst.CSTNode | None = None
    producers: list = field(default_factory=list)  # what feeds the op, so graphs can be walked through it
    #: "add" for a sum of tensors (``x + y``, ``layers.add``), "mul" for a product, "opaque" for a call
    #: the source view cannot follow (the tensors escape into it), "input" for ``keras.Input``
    op: str | None = None
    consumers: list = field(default_factory=list)
    is_output: bool = False
    exits: list = field(default_factory=list)  # the models whose output this op is


@dataclass(eq=False, repr=False)
class LayerObj(Obj):
    consumers: list = field(default_factory=list)
    producers: list = field(default_factory=list)
    is_output: bool = False
    frozen: bool = False
    owner: ClassV | None = None
    wrapped: Value | None = None
    library: bool = False  # built inside a library call (a keras.applications model's layers)
    #: How many layers this one object stands for: the iterations of the loops it was built in
    #: (``None``: a loop whose count the code does not say, so at least two).
    repeat: int | None = 1
    exits: list = field(default_factory=list)  # the models whose output this layer is
    function: "FuncV | None" = None  # the function whose call built it (a block helper), None at module level


@dataclass(eq=False, repr=False)
class ModelObj(Obj):
    """A model: ``sequential``, ``functional``, ``subclass``, ``application`` or ``opaque``."""

    kind: str = "opaque"
    layers: list = field(default_factory=list)  # sequential: in order
    outputs: list = field(default_factory=list)  # functional: output tensors
    cls: ClassV | None = None
    instance: Any = None  # the UserObj of a subclassed model
    open: bool = False  # layers the source view cannot see
    optimizers: list = field(default_factory=list)
    fits: list = field(default_factory=list)
    compiles: list = field(default_factory=list)
    frozen: bool = False
    inference_call: bool = False  # called with training=False
    repeats: list = field(default_factory=list)  # sequential: (last, first) layers a loop adds, once per iteration
    consumers: list = field(default_factory=list)
    producers: list = field(default_factory=list)
    is_output: bool = False
    owner: ClassV | None = None
    exits: list = field(default_factory=list)  # the models whose output this one is (a nested model)


@dataclass(eq=False, repr=False)
class OptimizerObj(Obj):
    """An optimizer; ``string`` is the argument of ``compile(optimizer="adam")`` that made it."""

    string: Arg | None = None
    models: list = field(default_factory=list)
    loops: list = field(default_factory=list)

    @property
    def origin(self):
        """Where the optimizer is written: its constructor call, or the string in ``compile``."""
        return self.string if self.string is not None else self.site

    @property
    def short(self) -> str:
        return self.qual.rsplit(".", 1)[1]


@dataclass(eq=False, repr=False)
class UserObj(Value):
    """An instance of a class defined in the file."""

    cls: ClassV
    attrs: dict = field(default_factory=dict)
    site: CallSite | None = None
    model: ModelObj | None = None  # set for keras.Model / Layer subclasses


@dataclass(eq=False, repr=False)
class TensorV(Value):
    """A symbolic tensor; ``producers`` are the layers or ops that made it."""

    producers: list = field(default_factory=list)


@dataclass(eq=False, repr=False)
class DatasetV(Value):
    """A data pipeline; ``batch`` is the :class:`Arg` that set its batch size."""

    batch: Arg | None = None
    default: int | None = None
    what: str = "dataset"


@dataclass(eq=False, repr=False)
class TapeV(Value):
    pass


@dataclass(eq=False, repr=False)
class GradientsV(Value):
    model: Value | None = None
    clipped: bool = False
    #: taken with respect to values that are not a model's weights (a ``tf.Variable`` image being
    #: optimized, an input tensor), so the optimizer that applies them trains no layer
    inputs: bool = False


@dataclass(eq=False, repr=False)
class VarsV(Value):
    """``model.trainable_variables``."""

    model: Value | None = None


@dataclass(eq=False, repr=False)
class EachV(Value):
    """Each of several values, as the variable of ``for layer in model.layers`` is."""

    items: list = field(default_factory=list)


@dataclass(eq=False, repr=False)
class PartV(Value):
    """A layer picked out of a model by ``model.get_layer(...)``: its output comes out of that model."""

    model: Value


@dataclass(eq=False, repr=False)
class LambdaV(Value):
    """A lambda; its body was evaluated once, when the lambda was made."""

    result: Value


@dataclass(eq=False, repr=False)
class BoundMethod(Value):
    obj: Value
    name: str
    node: cst.CSTNode | None = None  # the receiver expression

