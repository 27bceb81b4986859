"""KL801 keras3-removed-module."""
from __future__ import annotations

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge import keras3
from klint.knowledge.names import keras_rest


class Keras3RemovedModule(Rule):
    """
    ## What it does
    Checks imports of Keras 1/2 module paths that Keras 3 removed, such as
    `keras.layers.core`, `keras.layers.convolutional`,
    `keras.layers.recurrent`, `keras.layers.advanced_activations`,
    `keras.layers.experimental.preprocessing`, `keras.utils.np_utils`,
    `keras.engine` and `keras.wrappers.scikit_learn`, through any Keras root
    (`keras`, `tensorflow.keras`), and of `keras.optimizers.legacy`, which
    still imports but whose optimizers raise when they are built. Names that
    went with their module (`Merge`, `merge`, `CuDNNLSTM`, `CuDNNGRU`) are
    reported wherever they are imported from.

    ## Why is this bad
    In Keras 3 the layers, utilities and optimizers live directly in
    `keras.layers`, `keras.utils` and `keras.optimizers`; the old submodules
    are gone (Keras 3.15.1 sources, `keras/api`). `from keras.layers.core
    import Dense` raises `ModuleNotFoundError: No module named
    'keras.layers.core'`, and `keras.optimizers.legacy.Adam()` raises
    `ImportError: keras.optimizers.legacy is not supported in Keras 3`:
    the script stops on its first line, before any model is built.

    ## Example
    ```python
    from keras.layers.core import Dense, Dropout
    from keras.utils import np_utils
    ```

    ## Use instead
    ```python
    from keras.layers import Dense, Dropout
    from keras import utils as np_utils
    ```

    ## Fix safety
    The import is rewritten to the module that holds the same names in
    Keras 3, keeping the root the file uses (`tensorflow.keras.layers.core`
    becomes `tensorflow.keras.layers`): the same classes and functions, so
    the fix is safe. A removed module imported as a name (`from keras.utils
    import np_utils`) becomes an alias of its replacement (`from keras
    import utils as np_utils`) when every attribute the file reads from it
    exists there. The fix is offered only when every imported name exists
    in the new module (Keras 3.15.1); `Merge`, `CuDNNLSTM`, a star import
    or a module with no replacement (`keras.wrappers.SKLearnClassifier` or
    SciKeras replace `keras.wrappers.scikit_learn`) are reported without
    one. Only the public roots of Keras 3 are checked: `keras.src` (Keras's
    private tree) and `tf_keras` (Keras 2) are not.

    `CuDNNLSTM` and `CuDNNGRU` are imported as aliases of `LSTM` and `GRU`
    (`from keras.layers import LSTM as CuDNNLSTM`), so every use stays as
    written: the same function (tanh and sigmoid, which Keras 3 runs with
    cuDNN by itself on a GPU), but the fix is unsafe, since weights saved by
    a CuDNN layer are laid out for it. Members of `keras.engine` are
    imported from their Keras 3 home (`Layer`, `InputSpec` from
    `keras.layers`; `Model`, `Sequential` from `keras`) when they share one.

    `keras.optimizers.legacy` becomes `keras.optimizers`: the fix is unsafe,
    since the Keras 3 optimizer is the current implementation, not the
    legacy one the script was written for (the hyperparameters are the
    same).

    ## Options
    None.
    """

    code = "KL801"
    name = "keras3-removed-module"
    summary = "Import of a Keras module that Keras 3 removed"
    views = ("source",)
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid("from keras.layers import Dense, Dropout\nfrom keras.utils import to_categorical\n"),
        Valid("from tensorflow.keras.optimizers import Adam\n", "a module Keras 3 has"),
        Valid("from mylib.layers.core import Dense\n", "not Keras"),
        Valid("from .layers.core import Dense\n", "a relative import of the project's own module"),
        Valid("from keras.src.layers.core import dense\nfrom tf_keras.layers.core import Dense\n",
              "Keras's private tree, and Keras 2 itself"),
    ]

    INVALID = [
        Invalid(
            "from keras.layers.core import Dense, Dropout\n\nlayer = Dense(4)\n",
            "from keras.layers import Dense, Dropout\n\nlayer = Dense(4)\n",
            lines=(1,), raises="ModuleNotFoundError"),
        Invalid(
            "from tensorflow.keras.layers.experimental.preprocessing import Rescaling\n\nscale = Rescaling(1 / 255)\n",
            "from tensorflow.keras.layers import Rescaling\n\nscale = Rescaling(1 / 255)\n",
            note="the root the file uses is kept", raises="ModuleNotFoundError"),
        Invalid(
            "from keras.utils.np_utils import to_categorical\n\ny = to_categorical([0, 1, 2])\n",
            "from keras.utils import to_categorical\n\ny = to_categorical([0, 1, 2])\n", raises="ModuleNotFoundError"),
        Invalid(
            "from keras.utils import np_utils\n\ny = np_utils.to_categorical([0, 1, 2])\n",
            "from keras import utils as np_utils\n\ny = np_utils.to_categorical([0, 1, 2])\n",
            note="a removed module imported as a name becomes an alias of its replacement", raises="ImportError"),
        Invalid(
            "from keras.optimizers.legacy import Adam\n\nopt = Adam(learning_rate=1e-3)\n",
            "from keras.optimizers import Adam\n\nopt = Adam(learning_rate=1e-3)\n",
            note="unsafe: the current optimizer replaces the legacy one", raises="ImportError"),
        Invalid("from keras.layers import Merge\n", None, note="a removed name: no exact replacement", raises="ImportError"),
        Invalid("from tensorflow.keras.layers import CuDNNGRU\n\nlayer = CuDNNGRU(8)\n",
                "from tensorflow.keras.layers import GRU as CuDNNGRU\n\nlayer = CuDNNGRU(8)\n", raises="ImportError"),
        Invalid("from keras.layers import GRU, CuDNNGRU, CuDNNLSTM\n\nlayers = [CuDNNGRU(8), CuDNNLSTM(8)]\n",
                "from keras.layers import GRU, GRU as CuDNNGRU, LSTM as CuDNNLSTM\n\n"
                "layers = [CuDNNGRU(8), CuDNNLSTM(8)]\n", note="two in one import", raises="ImportError"),
        Invalid("from keras.layers.recurrent import LSTM, CuDNNLSTM\n\nlayer = CuDNNLSTM(8)\n",
                "from keras.layers import LSTM, LSTM as CuDNNLSTM\n\nlayer = CuDNNLSTM(8)\n",
                note="unsafe: CuDNNLSTM becomes an alias of LSTM, the same function", raises="ModuleNotFoundError"),
        Invalid("from keras.engine.topology import Layer, InputSpec\n\nspec = InputSpec(ndim=2)\n",
                "from keras.layers import Layer, InputSpec\n\nspec = InputSpec(ndim=2)\n", raises="ModuleNotFoundError"),
        Invalid("from keras.engine import Network\n", None, note="no Keras 3 home", raises="ModuleNotFoundError"),
        Invalid("from keras.wrappers.scikit_learn import KerasClassifier\n", None, note="SciKeras replaces it", raises="ModuleNotFoundError"),
    ]

    def check(self, ctx) -> None:
        finder = _Imports()
        ctx.module.visit(finder)
        for node, line in finder.found:
            if isinstance(node, cst.ImportFrom):
                self.check_from(ctx, node, line, finder.attributes)
            else:
                self.check_import(ctx, node, line)

    def check_from(self, ctx, node: cst.ImportFrom, line, attributes: dict) -> None:
        if node.relative or node.module is None:
            return
        full = _dotted(node.module)
        rest = keras_rest(full) if full else None
        if rest is None:
            return
        root = full[:len(full) - len(rest)].rstrip(".")
        if root not in keras3.KERAS3_ROOTS:
            return
        names = None if isinstance(node.names, cst.ImportStar) else [a for a in node.names]
        new = keras3.REMOVED_MODULES.get(rest)
        raising = keras3.RAISING_MODULES.get(rest)
        if rest.startswith("engine") and rest in keras3.REMOVED_MODULES and names:
            homes = {keras3.ENGINE_HOMES.get(a.name.value) if isinstance(a.name, cst.Name) else None for a in names}
            if len(homes) == 1 and None not in homes:
                new = homes.pop()
                target = f"{root}.{new}" if new else root
                fix = ctx.fix(f"Import from `{target}`", [ctx.replace((node.module, line), target)])
                ctx.report((node.module, line), f"`{full}` does not import in Keras 3 (ModuleNotFoundError): "
                           f"import from `{target}`", fix)
                return
        if rest in keras3.REMOVED_MODULES or raising:
            target = raising or new
            what = (f"`{full}` still imports in Keras 3, but its optimizers raise when they are built"
                    if raising else f"`{full}` does not import in Keras 3 (ModuleNotFoundError)")
            missing = [a.name.value for a in names or () if isinstance(a.name, cst.Name)
                       and target is not None and a.name.value not in keras3.EXPORTS.get(target, ())]
            if target is None:
                message = f"{what}: {keras3.NO_REPLACEMENT.get(rest, 'it has no replacement')}"
            elif missing:
                removed = [keras3.REMOVED_NAMES.get(f"{target}.{m}") for m in missing]
                message = (f"{what}: its members are in `{root}.{target}`, but "
                           + "; ".join(r or f"`{m}` is not there" for m, r in zip(missing, removed)))
            else:
                message = f"{what}: import from `{root}.{target}`"
            fix = None
            same = [m for m in missing if m in keras3.SAME_FUNCTION]
            if target is not None and names is not None and len(same) == len(missing):
                edits = [ctx.replace((node.module, line), f"{root}.{target}")]
                for alias in names:
                    if isinstance(alias.name, cst.Name) and alias.name.value in same and alias.asname is None:
                        # the name, not the alias node, which holds the comma after it
                        edits.append(ctx.replace((alias.name, line),
                                                 f"{keras3.SAME_FUNCTION[alias.name.value]} as {alias.name.value}"))
                    elif isinstance(alias.name, cst.Name) and alias.name.value in same:
                        edits.append(ctx.replace((alias.name, line), keras3.SAME_FUNCTION[alias.name.value]))
                fix = ctx.fix(f"Import from `{root}.{target}`", edits, safe=not raising and not same)
            ctx.report((node.module, line), message, fix)
            return
        # `from keras.utils import np_utils`: a removed module imported by its name
        for alias in names or ():
            if not isinstance(alias.name, cst.Name):
                continue
            sub = f"{rest}.{alias.name.value}" if rest else alias.name.value
            if sub in keras3.REMOVED_MODULES:
                self.module_as_name(ctx, node, line, alias, root, sub, attributes)
            elif f"{rest}.{alias.name.value}" in keras3.REMOVED_NAMES:
                fix = None
                same = keras3.SAME_FUNCTION.get(alias.name.value)
                if same is not None:
                    text = f"{same} as {alias.name.value}" if alias.asname is None else same
                    edit = ctx.replace((alias.name, line), text)  # the name: the alias node holds its comma
                    fix = ctx.fix(f"Import `{same}` in its place", [edit], safe=False)
                ctx.report((alias, line), f"`{full}.{alias.name.value}` is not in Keras 3: "
                           f"{keras3.REMOVED_NAMES[f'{rest}.{alias.name.value}']}", fix)

    def module_as_name(self, ctx, node, line, alias, root: str, sub: str, attributes: dict) -> None:
        new = keras3.REMOVED_MODULES[sub]
        local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) \
            else alias.name.value
        shown = f"{root}.{sub}"
        if new is None:
            ctx.report((alias, line), f"`{shown}` does not import in Keras 3: "
                       f"{keras3.NO_REPLACEMENT.get(sub, 'it has no replacement')}")
            return
        used = attributes.get(local, set())
        unknown = sorted(used - keras3.EXPORTS.get(new, frozenset()))
        message = f"`{shown}` does not import in Keras 3 (ImportError): its members are in `{root}.{new}`"
        fix = None
        if not unknown and len(node.names) == 1:
            parent, _, leaf = f"{root}.{new}".rpartition(".")
            fix = ctx.fix(f"Import `{root}.{new}` as `{local}`",
                          [ctx.replace((node, line), f"from {parent} import {leaf} as {local}")])
        elif unknown:
            message += f" (not `{'`, `'.join(unknown)}`)"
        ctx.report((alias, line), message, fix)

    def check_import(self, ctx, node: cst.Import, line) -> None:
        for alias in node.names:
            full = _dotted(alias.name)
            rest = keras_rest(full) if full else None
            if rest is None:
                continue
            root = full[:len(full) - len(rest)].rstrip(".")
            module = next((m for m in keras3.REMOVED_MODULES if rest == m or rest.startswith(m + ".")), None)
            if module is not None and root in keras3.KERAS3_ROOTS:
                new = keras3.REMOVED_MODULES[module]
                where = f"its members are in `{root}.{new}`" if new else keras3.NO_REPLACEMENT.get(
                    module, "it has no replacement")
                ctx.report((alias, line), f"`{full}` does not import in Keras 3 (ModuleNotFoundError): {where}")


class _Imports(cst.CSTVisitor):
    """Every import statement with the statement line it is on, and the attributes read from each name."""

    def __init__(self):
        self.found: list = []
        self.attributes: dict[str, set] = {}
        self._line = None

    def visit_SimpleStatementLine(self, node) -> None:
        self._line = node

    def visit_Import(self, node) -> None:
        self.found.append((node, self._line))

    def visit_ImportFrom(self, node) -> None:
        self.found.append((node, self._line))

    def visit_Attribute(self, node) -> None:
        if isinstance(node.value, cst.Name):
            self.attributes.setdefault(node.value.value, set()).add(node.attr.value)


def _dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None
