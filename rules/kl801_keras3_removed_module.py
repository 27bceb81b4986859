"""KL801 keras3-removed-module."""
from __future__ import annotations

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.engine.syntax import dotted
from klint.knowledge import keras3
from klint.knowledge.names import canonical, keras_rest
from klint.source.values import Ref


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
    went with their module (`Merge`, `merge`, `CuDNNLSTM`, `CuDNNGRU`, and
    Keras 2's aliases `Deconv2D`, `Deconvolution2D`, `Deconv3D`,
    `Deconvolution3D`) are reported wherever they are imported from. So
    are Keras 2's preprocessing utilities that standalone Keras 3 dropped
    (`ImageDataGenerator` and the image iterators and transforms,
    `TimeseriesGenerator`, `skipgrams`, `Tokenizer`, `one_hot`...), when
    imported from `keras.preprocessing`.

    ## Why is this bad
    In Keras 3 the layers, utilities and optimizers live directly in
    `keras.layers`, `keras.utils` and `keras.optimizers`; the old submodules
    are gone (Keras 3.15.1 sources, `keras/api`). `from keras.layers.core
    import Dense` raises `ModuleNotFoundError: No module named
    'keras.layers.core'`, and `keras.optimizers.legacy.Adam()` raises
    `ImportError: keras.optimizers.legacy is not supported in Keras 3`:
    the script stops on its first line, before any model is built. Keras
    1's functional `merge([a, b], mode='concat')` and layer `Merge`, and
    Keras 2's `Deconv2D = Deconvolution2D = Conv2DTranspose` (Keras 2.2.4,
    `keras/layers/convolutional.py`), are not in Keras 3.15.1's
    `keras/api/layers/__init__.py`: `from keras.layers import merge` raises
    `ImportError: cannot import name 'merge' from 'keras.layers'`.

    ## Example
    ```python
    from keras.layers.core import Dense, Dropout
    from keras.layers import Input, merge
    from keras.utils import np_utils

    a = Input(shape=(4,))
    x = merge([a, a], mode="concat", concat_axis=1)
    ```

    ## Use instead
    ```python
    from keras.layers import Dense, Dropout
    from keras.layers import Input, concatenate
    from keras import utils as np_utils

    a = Input(shape=(4,))
    x = concatenate([a, a], axis=1)
    ```

    ## Fix safety
    The import is rewritten to the module that holds the same names in
    Keras 3, keeping the root the file uses (`tensorflow.keras.layers.core`
    becomes `tensorflow.keras.layers`): the same classes and functions, so
    the fix is safe. A removed module imported as a name (`from keras.utils
    import np_utils`) becomes an alias of its replacement (`from keras
    import utils as np_utils`) when every attribute the file reads from it
    exists there. The fix is offered only when every imported name exists
    in the new module (Keras 3.15.1); `Merge`, a star import
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

    Keras 2's `Deconv2D`/`Deconvolution2D` and `Deconv3D`/`Deconvolution3D`
    are imported as aliases of `Conv2DTranspose` and `Conv3DTranspose`
    (`from keras.layers import Conv2DTranspose as Deconv2D`): Keras 2
    defined them as those very classes, so the fix is safe. (Keras 1's
    `Deconvolution2D(nb_filter, nb_row, nb_col, output_shape, ...)` calls
    keep Keras 1 arguments, which KL803 rewrites.)

    Keras 1's `merge(inputs, mode=..., ...)` (Keras 1.2.2,
    `keras/engine/topology.py`) is rewritten, call by call, to the Keras 3
    function of its mode, and the import names those functions in its
    place: `'concat'` is `concatenate(inputs, axis=concat_axis)`, `'sum'`
    (the default) `add`, `'mul'` `multiply`, `'ave'` `average`, `'max'`
    `maximum`, `'dot'` `dot(inputs, axes=dot_axes)` (default `-1`), and
    `name=` is kept: the same computation, so the fix is safe. `'cos'`
    becomes `dot(inputs, axes=dot_axes, normalize=True)`, which is unsafe:
    Keras 1 divided the product by `max(sqrt(|a|^2 |b|^2), epsilon)` and
    added an axis, Keras 3 normalizes each input first and adds none. The
    fix is offered only when every use of the imported name is a call with
    a literal mode (a function as the mode, `output_shape=`,
    `output_mask=` or `arguments=` have no Keras 3 function) and the
    function names are free in the file. A `merge` only read as a module
    (`merge.concatenate`, Keras 2's `keras.layers.merge`) is treated as a
    removed module. `Merge([model_a, model_b], mode=...)`, Keras 1's layer
    that merged Sequential branches, has no one-line replacement: it is
    reported without a fix (build the model with the functional API and
    `Concatenate`, `Add`...).

    An import of Keras 2's preprocessing from `keras.preprocessing.image`,
    `.sequence` or `.text` is moved to `tensorflow.keras.preprocessing...`,
    where Keras 3 keeps those classes for TensorFlow (`keras/_tf_keras` in
    the Keras 3.15.1 wheel, implemented in `keras/src/legacy/preprocessing`):
    the same classes, so the fix is safe in a file that imports TensorFlow,
    and unsafe in one that does not, since the script then needs TensorFlow
    as well as Keras.

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
        Valid("from keras.preprocessing.sequence import pad_sequences\n"
              "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
              "from tensorflow.keras.preprocessing.text import Tokenizer\nimport tensorflow.keras.preprocessing.text\n",
              "what Keras 3 keeps, and TensorFlow's Keras 3 API"),
        Valid("from keras.layers import Dense, Dropout\nfrom keras.utils import to_categorical\n"),
        Valid("from tensorflow.keras.optimizers import Adam\n", "a module Keras 3 has"),
        Valid("from mylib.layers.core import Dense\n", "not Keras"),
        Valid("from .layers.core import Dense\n", "a relative import of the project's own module"),
        Valid("from keras.src.layers.core import dense\nfrom tf_keras.layers.core import Dense\n",
              "Keras's private tree, and Keras 2 itself"),
        Valid("from keras.layers import Input, concatenate\n\na = Input(shape=(4,))\nx = concatenate([a, a], axis=-1)\n",
              "Keras 3's merge function"),
        Valid("def merge(xs, mode='sum'):\n    return xs\n\ny = merge([1, 2], mode='concat')\n",
              "a function of the file named merge"),
        Valid("from mylib.layers import merge, Deconv2D\n\ny = merge([1, 2], mode='concat')\n", "not Keras"),
        Valid("from keras.layers import Conv2DTranspose as Deconv2D\n\nlayer = Deconv2D(4, 3)\n",
              "the Keras 3 class under its Keras 2 name"),
    ]

    INVALID = [
        Invalid(
            "import tensorflow as tf\nfrom keras.preprocessing.image import ImageDataGenerator, load_img\n\n"
            "augment = ImageDataGenerator(rotation_range=10, horizontal_flip=True)\n",
            "import tensorflow as tf\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator, load_img\n\n"
            "augment = ImageDataGenerator(rotation_range=10, horizontal_flip=True)\n",
            lines=(2,), note="Keras 2's preprocessing, kept for TensorFlow only", raises="ImportError"),
        Invalid(
            "from keras.preprocessing.text import Tokenizer\n\ntokenizer = Tokenizer(num_words=100)\n",
            "from tensorflow.keras.preprocessing.text import Tokenizer\n\ntokenizer = Tokenizer(num_words=100)\n",
            note="unsafe in a file that does not import TensorFlow", raises="ModuleNotFoundError"),
        Invalid(
            "import tensorflow as tf\nfrom keras.preprocessing import text\n\ntokenizer = text.Tokenizer(num_words=100)\n",
            "import tensorflow as tf\nfrom tensorflow.keras.preprocessing import text\n\n"
            "tokenizer = text.Tokenizer(num_words=100)\n",
            note="the module imported by name", raises="ImportError"),
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
        Invalid("from keras.layers import Input, merge\n\na = Input(shape=(4,))\nb = Input(shape=(4,))\n"
                "x = merge([a, b], mode='concat', concat_axis=1)\ny = merge([a, b], mode='ave', name='avg')\n",
                "from keras.layers import Input, concatenate, average\n\na = Input(shape=(4,))\nb = Input(shape=(4,))\n"
                "x = concatenate([a, b], axis=1)\ny = average([a, b], name='avg')\n",
                lines=(1,), note="Keras 1's merge: each call becomes the function of its mode", raises="ImportError"),
        Invalid("from tensorflow.keras import Input\nfrom tensorflow.keras.layers import Dense, merge\n\n"
                "a = Input(shape=(4,))\nb = Dense(4)(a)\ns = merge([a, b])\nd = merge([a, b], 'dot', dot_axes=1)\n",
                "from tensorflow.keras import Input\nfrom tensorflow.keras.layers import Dense, add, dot\n\n"
                "a = Input(shape=(4,))\nb = Dense(4)(a)\ns = add([a, b])\nd = dot([a, b], axes=1)\n",
                note="the default mode is 'sum'; arguments given by position", raises="ImportError"),
        Invalid("from keras.layers import Input, merge as km\n\na = Input(shape=(4,))\n"
                "y = km([km([a, a], mode='mul'), a], mode='max')\n",
                "from keras.layers import Input, maximum, multiply\n\na = Input(shape=(4,))\n"
                "y = maximum([multiply([a, a]), a])\n",
                note="imported under another name; a call in another's inputs", raises="ImportError"),
        Invalid("from keras.layers import Input, concatenate, merge\n\na = Input(shape=(4,))\n"
                "x = concatenate([a, a])\ny = merge([a, a], mode='concat')\n",
                "from keras.layers import Input, concatenate\n\na = Input(shape=(4,))\n"
                "x = concatenate([a, a])\ny = concatenate([a, a])\n",
                note="a function the file already imports", raises="ImportError"),
        Invalid("from keras.layers import Input, merge\n\na = Input(shape=(4,))\nb = Input(shape=(4,))\n"
                "c = merge([a, b], mode='cos', dot_axes=1)\n",
                "from keras.layers import Input, dot\n\na = Input(shape=(4,))\nb = Input(shape=(4,))\n"
                "c = dot([a, b], axes=1, normalize=True)\n",
                note="unsafe: Keras 3 normalizes each input first and adds no axis", raises="ImportError"),
        Invalid("from keras.layers import Input, merge\n\na = Input(shape=(4,))\n"
                "x = merge([a, a], mode=lambda t: t[0] - t[1], output_shape=(4,))\n",
                None, note="a function as the mode: no Keras 3 function", raises="ImportError"),
        Invalid("from keras.layers import Input, merge\n\na = Input(shape=(4,))\nx = merge.concatenate([a, a])\n",
                None, note="Keras 2's module keras.layers.merge, among other names: reported, not fixed",
                raises="ImportError"),
        Invalid("from keras.layers import merge\n\nlayer = merge.Concatenate(axis=1)\n",
                "from keras import layers as merge\n\nlayer = merge.Concatenate(axis=1)\n",
                note="Keras 2's module keras.layers.merge", raises="ImportError"),
        Invalid("from keras.layers.convolutional import Conv2D, Deconv2D\n\nlayer = Deconv2D(4, 3)\n",
                "from keras.layers import Conv2D, Conv2DTranspose as Deconv2D\n\nlayer = Deconv2D(4, 3)\n",
                note="a Keras 2 alias of a Keras 3 class: the same class, so safe", raises="ModuleNotFoundError"),
        Invalid("from tensorflow.keras.layers import Dense, Deconvolution3D\n\nlayer = Deconvolution3D(2, 3)\n",
                "from tensorflow.keras.layers import Dense, Conv3DTranspose as Deconvolution3D\n\n"
                "layer = Deconvolution3D(2, 3)\n", raises="ImportError"),
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
        full = dotted(node.module)
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
        if self.check_tf_keras_only(ctx, node, line, full, rest, root, names):
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
            same = [m for m in missing if _replacement(m) is not None]
            if target is not None and names is not None and len(same) == len(missing):
                edits = [ctx.replace((node.module, line), f"{root}.{target}")]
                for alias in names:
                    if isinstance(alias.name, cst.Name) and alias.name.value in same:
                        edits.append(_alias_edit(ctx, alias, line))
                exact = all(_replacement(m)[1] for m in same)
                fix = ctx.fix(f"Import from `{root}.{target}`", edits, safe=not raising and exact)
            ctx.report((node.module, line), message, fix)
            return
        # `from keras.utils import np_utils`: a removed module imported by its name
        for alias in names or ():
            if not isinstance(alias.name, cst.Name):
                continue
            sub = f"{rest}.{alias.name.value}" if rest else alias.name.value
            if sub == "layers.merge" and self.check_merge(ctx, node, line, alias, full, names):
                continue
            if sub in keras3.REMOVED_MODULES:
                self.module_as_name(ctx, node, line, alias, root, sub, attributes)
            elif f"{rest}.{alias.name.value}" in keras3.REMOVED_NAMES:
                fix = None
                same = _replacement(alias.name.value)
                if same is not None:
                    fix = ctx.fix(f"Import `{same[0]}` in its place", [_alias_edit(ctx, alias, line)], safe=same[1])
                ctx.report((alias, line), f"`{full}.{alias.name.value}` is not in Keras 3: "
                           f"{keras3.REMOVED_NAMES[f'{rest}.{alias.name.value}']}", fix)

    @staticmethod
    def check_tf_keras_only(ctx, node: cst.ImportFrom, line, full: str, rest: str, root: str, names) -> bool:
        """``from keras.preprocessing.image import ImageDataGenerator``: Keras 2's preprocessing, which
        Keras 3 keeps only in ``tensorflow.keras``. Reported when a name is gone from standalone Keras 3."""
        there = keras3.TF_KERAS_ONLY.get(rest)
        if there is not None and root == "tensorflow.keras":
            return True  # where Keras 3 keeps them
        if there is None or root != "keras" or names is None:
            return False
        imported = [a.name.value for a in names if isinstance(a.name, cst.Name)]
        gone = [n for n in imported if n not in keras3.KERAS3_KEEPS[rest]]
        if not gone:
            return False
        target = f"tensorflow.keras.{rest}"
        listed = ", ".join(f"`{n}`" for n in gone)
        message = (f"{listed} of `{full}` {'is' if len(gone) == 1 else 'are'} not in Keras 3 (ImportError): "
                   f"Keras 3 keeps Keras 2's preprocessing only for TensorFlow, in `{target}`")
        fix = None
        if len(imported) == len(names) and all(n in there for n in imported):
            uses_tf = _imports_tensorflow(ctx.module)
            fix = ctx.fix(f"Import from `{target}`" + ("" if uses_tf else " (the file then needs TensorFlow)"),
                          [ctx.replace((node.module, line), target)], safe=uses_tf)
        ctx.report((node.module, line), message, fix)
        return True

    def check_merge(self, ctx, node: cst.ImportFrom, line, alias, full: str, names: list) -> bool:
        """``from keras.layers import merge``: Keras 1's function, or Keras 2's module ``keras.layers.merge``.

        Reports (and returns True) when the file calls it: Keras 1's function, whose calls are rewritten
        to the Keras 3 function of their mode when every use of the name is such a call. A name only
        read as a module (``merge.concatenate``), or never used, is left to ``module_as_name``.
        """
        local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) \
            else alias.name.value
        uses = _Uses(local, alias)
        ctx.module.visit(uses)
        if not uses.calls:
            return False
        message = f"`{full}.merge` is not in Keras 3: {keras3.REMOVED_NAMES['layers.merge']}"
        resolved = {id(call): stmt for call, qual, stmt in ctx.analysis.calls if qual == "keras.layers.merge"}
        rewrites, problem = [], None
        if uses.other or uses.attributes:
            problem = f"`{local}` is also used other than called"
        for call in uses.calls:
            if problem is not None:
                break
            stmt = resolved.get(id(call))
            if stmt is None:
                problem = f"a call of `{local}` does not resolve to Keras's `merge`"
                break
            new, why = _merge_call(call)
            if new is None:
                problem = why
                break
            rewrites.append((call, stmt, *new))
        fix = None
        if problem is None:
            scope = ctx.analysis.module_scope.vars if ctx.analysis.module_scope is not None else {}
            wanted, taken = [], []
            for _call, _stmt, _new, function, _exact in rewrites:
                if function in wanted:
                    continue
                bound = scope.get(function)
                if bound is None and function not in uses.bare:
                    wanted.append(function)
                elif not (isinstance(bound, Ref) and canonical(bound.raw) == f"keras.layers.{function}"):
                    taken.append(function)
            if taken:
                problem = f"`{'`, `'.join(taken)}` already names something else in this file"
            else:
                fix = self.merge_fix(ctx, node, line, alias, names, rewrites, wanted)
        if problem is not None:
            message += f" (not fixed: {problem})"
        ctx.report((alias, line), message, fix)
        return True

    @staticmethod
    def merge_fix(ctx, node, line, alias, names: list, rewrites: list, wanted: list):
        functions = sorted({r[3] for r in rewrites})
        # a call in the arguments of another (merge([merge([a, b]), c])) is rewritten inside it
        news = {id(call): new for call, _stmt, new, _function, _exact in rewrites}
        inner = set()
        for call, *_ in rewrites:
            inner.update(i for i in _calls_within(call) if i in news)
        swap = _Swap(news)
        edits = [ctx.replace((call, stmt), new.visit(swap))
                 for call, stmt, new, _function, _exact in rewrites if id(call) not in inner]
        # the import names the functions in `merge`'s place (one of them if the file has them all)
        slot = (wanted or [rewrites[0][3]]) if len(names) == 1 else wanted
        if slot:
            edits.append(ctx.replace((alias.name, line), ", ".join(slot)) if alias.asname is None else
                         ctx.replace((alias, line), ", ".join(slot) + _comma_text(ctx, alias)))
        else:
            kept = [a for a in names if a is not alias]
            last = names[-1]
            if kept and alias is last:
                kept[-1] = kept[-1].with_changes(comma=last.comma)
            edits.append(ctx.replace((node, line), node.with_changes(names=kept)))
        exact = all(r[4] for r in rewrites)
        message = f"Call `{'`, `'.join(functions)}` in place of Keras 1's `merge`"
        if not exact:
            message += (" (mode 'cos': Keras 3's `dot(..., normalize=True)` normalizes each input before the "
                        "product, with its own epsilon, and adds no axis to the result)")
        return ctx.fix(message, edits, safe=exact)

    def module_as_name(self, ctx, node, line, alias, root: str, sub: str, attributes: dict) -> None:
        new = keras3.REMOVED_MODULES[sub]
        local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) \
            else alias.name.value
        shown = f"{root}.{sub}"
        if sub in keras3.TF_KERAS_ONLY:
            if root == "tensorflow.keras":
                return  # where Keras 3 keeps Keras 2's preprocessing
            target = f"tensorflow.keras.{sub}"
            fix = None
            if root == "keras" and len(node.names) == 1:
                uses_tf = _imports_tensorflow(ctx.module)
                fix = ctx.fix(f"Import `{target}`" + ("" if uses_tf else " (the file then needs TensorFlow)"),
                              [ctx.replace((node.module, line), target.rpartition(".")[0])], safe=uses_tf)
            ctx.report((alias, line), f"`{shown}` does not import in Keras 3 (ModuleNotFoundError): Keras 3 keeps "
                       f"Keras 2's preprocessing only for TensorFlow, in `{target}`", fix)
            return
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
            full = dotted(alias.name)
            rest = keras_rest(full) if full else None
            if rest is None:
                continue
            root = full[:len(full) - len(rest)].rstrip(".")
            module = next((m for m in keras3.REMOVED_MODULES if rest == m or rest.startswith(m + ".")), None)
            if module in keras3.TF_KERAS_ONLY and root == "tensorflow.keras":
                continue  # where Keras 3 keeps Keras 2's preprocessing
            if module is not None and root in keras3.KERAS3_ROOTS:
                new = keras3.REMOVED_MODULES[module]
                where = f"its members are in `{root}.{new}`" if new else keras3.NO_REPLACEMENT.get(
                    module, "it has no replacement")
                ctx.report((alias, line), f"`{full}` does not import in Keras 3 (ModuleNotFoundError): {where}")


def _imports_tensorflow(module: cst.Module) -> bool:
    """Whether the file imports TensorFlow (``import tensorflow as tf``, ``from tensorflow import ...``)."""
    for stmt in module.body:
        for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Import):
                if any((dotted(a.name) or "").split(".")[0] == "tensorflow" for a in small.names):
                    return True
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                if (dotted(small.module) or "").split(".")[0] == "tensorflow":
                    return True
    return False


def _replacement(name: str):
    """The Keras 3 class a removed layer name is imported as, and whether that is exact, or None."""
    if name in keras3.KERAS2_ALIASES:
        return keras3.KERAS2_ALIASES[name], True
    if name in keras3.SAME_FUNCTION:
        return keras3.SAME_FUNCTION[name], False
    return None


def _alias_edit(ctx, alias: cst.ImportAlias, line):
    """``CuDNNLSTM`` -> ``LSTM as CuDNNLSTM``; ``Deconv2D as D`` -> ``Conv2DTranspose as D``."""
    new = _replacement(alias.name.value)[0]
    text = f"{new} as {alias.name.value}" if alias.asname is None else new
    return ctx.replace((alias.name, line), text)  # the name: the alias node holds the comma after it


def _comma_text(ctx, alias: cst.ImportAlias) -> str:
    return ctx.code(alias.comma) if isinstance(alias.comma, cst.Comma) else ""


def _merge_call(call: cst.Call):
    """``merge(inputs, mode=..., ...)`` as a call of the Keras 3 function of its mode:
    ((new call, function, exact), None), or (None, why not)."""
    positional: list = []
    for arg in call.args:
        if arg.star:
            return None, "its arguments come from `*`/`**`"
        if arg.keyword is None:
            positional.append(arg)  # Python puts them before the keywords
    if len(positional) > len(keras3.MERGE_PARAMETERS):
        return None, "it has more arguments than `merge` takes"
    args = {keras3.MERGE_PARAMETERS[i]: a.value for i, a in enumerate(positional)}
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value not in keras3.MERGE_PARAMETERS or arg.keyword.value in args:
                return None, f"`{arg.keyword.value}=` is not one of `merge`'s arguments"
            args[arg.keyword.value] = arg.value
    if "inputs" not in args:
        return None, "it has no inputs"
    mode = args.get("mode")
    if mode is None:
        mode_name = keras3.MERGE_DEFAULT_MODE
    elif isinstance(mode, cst.SimpleString) and isinstance(mode.evaluated_value, str):
        mode_name = mode.evaluated_value
    else:
        return None, "its `mode` is not a string literal; a function as the mode is a `Lambda` layer in Keras 3"
    if mode_name not in keras3.MERGE_MODES:
        return None, f"mode {mode_name!r} is not one of Keras 1's"
    for name in ("output_shape", "output_mask", "arguments"):
        value = args.get(name)
        if value is not None and not (isinstance(value, cst.Name) and value.value == "None"):
            return None, f"it sets `{name}=`"
    function, parameter, default, keyword = keras3.MERGE_MODES[mode_name]
    new_args = [cst.Arg(args["inputs"])]
    if parameter is not None:
        value = args.get(parameter, cst.parse_expression(default) if keyword == "axes" else None)
        if value is not None:
            new_args.append(_keyword(keyword, value))
    if mode_name == "cos":
        new_args.append(_keyword("normalize", cst.Name("True")))
    if args.get("name") is not None:
        new_args.append(_keyword("name", args["name"]))
    commas = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in new_args[:-1]]
    new = cst.Call(func=cst.Name(function), args=commas + new_args[-1:])
    return (new, function, mode_name != "cos"), None


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value, keyword=cst.Name(name), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def _calls_within(call: cst.Call) -> set:
    """The ids of the calls in the arguments of ``call``."""
    found: set = set()

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, node) -> None:
            found.add(id(node))

    for arg in call.args:
        arg.value.visit(_Calls())
    return found


class _Swap(cst.CSTTransformer):
    """Puts the rewritten call in place of each original call it was made from."""

    def __init__(self, news: dict):
        self.news = news

    def leave_Call(self, original_node, updated_node):
        new = self.news.get(id(original_node))
        return new.visit(self) if new is not None else updated_node


class _Uses(cst.CSTVisitor):
    """How a file uses the name ``local``: the calls of it, how often it is read as a module
    (``local.x``) or otherwise, and every bare name of the file (to know which are free)."""

    def __init__(self, local: str, alias: cst.ImportAlias):
        self.local = local
        self.calls: list = []
        self.attributes = 0
        self.other = 0
        self.bare: set = set()
        self._skip: set = set()
        self._alias = alias

    def visit_ImportAlias(self, node) -> bool:
        # the names an import binds are bare names of the file; the one that binds `local` is not a use
        for n in (node.asname.name if node.asname is not None else None, node.name):
            if isinstance(n, cst.Name):
                self.bare.add(n.value)
        return False

    def visit_ImportFrom(self, node) -> None:
        if node.module is not None:
            self._skip.update(id(n) for n in _names_in(node.module))

    def visit_Attribute(self, node) -> None:
        self._skip.add(id(node.attr))
        if isinstance(node.value, cst.Name) and node.value.value == self.local:
            self.attributes += 1
            self._skip.add(id(node.value))

    def visit_Arg(self, node) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def visit_Call(self, node) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == self.local:
            self.calls.append(node)
            self._skip.add(id(node.func))

    def visit_Name(self, node) -> None:
        if id(node) in self._skip:
            return
        self.bare.add(node.value)
        if node.value == self.local:
            self.other += 1


def _names_in(node):
    while isinstance(node, cst.Attribute):
        yield node.attr
        node = node.value
    if isinstance(node, cst.Name):
        yield node


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


