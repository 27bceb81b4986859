"""KL201 batchnorm-small-batch."""
from __future__ import annotations

from klint.engine.rule import FixAvailability, Invalid, Option, Rule, Valid
from klint.knowledge.layers import has_batchnorm
from klint.source.values import ABSENT, Arg, Const, LayerObj, ModelObj


def _positive_int(v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"expected a positive integer, got {v!r}")
    return v


class BatchNormSmallBatch(Rule):
    """
    ## What it does
    Checks that a model containing BatchNormalization (or
    SyncBatchNormalization, or a `keras.applications` model built with it:
    ResNet, EfficientNet, MobileNet, DenseNet, Inception, Xception, NASNet,
    ConvNeXt, RegNet) is trained with a batch of at least `min-batch-size`
    samples.

    The batch size is read from `fit(batch_size=...)`, from the
    `.batch(n)` of a `tf.data` pipeline that feeds `fit` (also through
    helper functions of the same file), from `image_dataset_from_directory`
    and similar loaders, from `ImageDataGenerator.flow*`, and from the
    `batch_size` of a `keras.utils.Sequence`/`PyDataset` subclass, through
    constants.

    The batch size is one decision for the whole model, so the layers that
    one `fit` trains with it are reported once, naming every
    BatchNormalization layer, with one fix for all of them. A layer whose
    line says `# noqa: KL201` is left out.

    ## Why is this bad
    During training BatchNormalization normalizes with the mean and
    variance of the current batch. With a handful of samples those
    estimates are noise: the training signal jitters from step to step, and
    the moving averages used at inference (updated with momentum 0.99)
    drift away from what the layers saw in training, so evaluation accuracy
    collapses while the training loss looks fine.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((64,)), layers.Dense(256), layers.BatchNormalization()])
    model.fit(x, y, batch_size=4)
    ```

    ## Use instead
    A batch of 16 or more; or `layers.GroupNormalization()`, which does not
    depend on the batch; or, when the batch must stay small, let the moving
    statistics follow faster:
    ```python
    layers.BatchNormalization(momentum=0.9)
    ```

    ## Fix safety
    The fix sets `momentum=0.9` on BatchNormalization layers that keep the
    default 0.99, so that the moving statistics track the noisy small-batch
    estimates faster. It changes only the moving averages used at
    inference, and is safe. A layer whose momentum is already 0.9 or lower
    is considered adapted and not reported. Pretrained `keras.applications`
    models are reported on their constructor without a fix: freeze their
    BatchNormalization layers (`base.trainable = False`, or call the base
    with `training=False`) or use a larger batch.

    ## Options
    - `min-batch-size` (integer, default 16): the smallest batch considered
      safe for BatchNormalization.
    """

    code = "KL201"
    name = "batchnorm-small-batch"
    summary = "BatchNormalization trained with a small batch"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES
    options = {"min-batch-size": Option(_positive_int, 16, "smallest safe batch size")}

    VALID = [
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization()])\n"
            "model.fit(x, y, batch_size=64)\n",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.LayerNormalization()])\n"
            "model.fit(x, y, batch_size=2)\n",
            "no BatchNormalization",
        ),
        Valid(
            "import keras\n\n"
            "base = keras.applications.ResNet50(include_top=False, weights='imagenet')\n"
            "base.trainable = False\n"
            "model = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])\n"
            "model.fit(x, y, batch_size=4)\n",
            "frozen BatchNormalization runs in inference mode",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization(momentum=0.9)])\n"
            "model.fit(x, y, batch_size=4)\n",
            "momentum already lowered",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((8,)),\n"
            "    layers.Dense(8),\n"
            "    layers.BatchNormalization(),\n"
            "    layers.Dense(8),\n"
            "    layers.BatchNormalization(),\n"
            "])\n"
            "model.fit(x, y, batch_size=4)\n",
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((8,)),\n"
            "    layers.Dense(8),\n"
            "    layers.BatchNormalization(momentum=0.9),\n"
            "    layers.Dense(8),\n"
            "    layers.BatchNormalization(momentum=0.9),\n"
            "])\n"
            "model.fit(x, y, batch_size=4)\n",
            lines=(7,),
            note="one finding for the model, one fix for its layers",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization()])\n"
            "model.fit(x, y, batch_size=4)\n",
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization(momentum=0.9)])\n"
            "model.fit(x, y, batch_size=4)\n",
            lines=(4,),
        ),
        Invalid(
            "import tensorflow as tf\n\nBATCH_SIZE = 2\n\n\n"
            "def dataset(images, labels):\n"
            "    return tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(100).batch(BATCH_SIZE)\n\n\n"
            "def run(images, labels):\n"
            "    model = tf.keras.Sequential([\n"
            "        tf.keras.layers.Conv2D(8, 3),\n"
            "        tf.keras.layers.BatchNormalization(axis=-1, momentum=0.99),\n"
            "    ])\n"
            "    model.fit(dataset(images, labels), epochs=5)\n",
            "import tensorflow as tf\n\nBATCH_SIZE = 2\n\n\n"
            "def dataset(images, labels):\n"
            "    return tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(100).batch(BATCH_SIZE)\n\n\n"
            "def run(images, labels):\n"
            "    model = tf.keras.Sequential([\n"
            "        tf.keras.layers.Conv2D(8, 3),\n"
            "        tf.keras.layers.BatchNormalization(axis=-1, momentum=0.9),\n"
            "    ])\n"
            "    model.fit(dataset(images, labels), epochs=5)\n",
            lines=(13,),
            note="the batch size comes from a tf.data pipeline built in a helper",
        ),
        Invalid(
            "import keras\n\n"
            "base = keras.applications.EfficientNetB0(include_top=False)\n"
            "model = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])\n"
            "model.fit(x, y, batch_size=8)\n",
            None,
            lines=(3,),
            note="an application model trained whole",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization()])\n"
            "model.fit(x, y, batch_size=32)\n",
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization(momentum=0.9)])\n"
            "model.fit(x, y, batch_size=32)\n",
            options={"min-batch-size": 64},
            note="with min-batch-size = 64",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        minimum = ctx.options["min-batch-size"]
        reported: set = set()
        for fit in a.fits:
            if fit.batch is None or not isinstance(fit.batch.value, Const):
                continue
            size = fit.batch.value.value
            if not isinstance(size, int) or isinstance(size, bool) or size >= minimum or size < 1:
                continue
            line = ctx.line(fit.batch) if fit.batch.node is not None else None
            origin = fit.batch_from + (f" on line {line}" if line else "")
            parts, alone = [], []
            for layer in a.layers_of([fit.model]):
                key = layer.node if layer.node is not None else id(layer)
                if not has_batchnorm(layer) or key in reported or layer.frozen:
                    continue
                if isinstance(layer, ModelObj):
                    if layer.inference_call:
                        continue
                    reported.add(key)
                    part = ctx.part(layer, None, f"`{_short(layer)}` contains BatchNormalization")
                else:
                    fix = self.layer_fix(ctx, layer)
                    if fix is False:
                        continue  # momentum already lowered, or one the source view cannot read
                    reported.add(key)
                    part = ctx.part(layer, fix, f"`{_short(layer)}`")
                (parts if part.at is not None else alone).append((part, layer))
            for _part, layer in alone:  # built outside this file's calls (model view): no fix there
                ctx.report(layer, _message([layer], [None], size, origin, minimum))
            if parts:
                layers = {id(p): layer for p, layer in parts}
                ctx.report_group([p for p, _ in parts],
                                 lambda kept, layers=layers, size=size, origin=origin: _message(
                                     [layers[id(p)] for p in kept], [p.row for p in kept], size, origin, minimum),
                                 "Set `momentum=0.9`")

    @staticmethod
    def layer_fix(ctx, layer: LayerObj):
        """The momentum fix for one layer, None when it cannot be written, False when not to report."""
        m = layer.arg("momentum", 1)
        if m is ABSENT:
            return ctx.fix("Set `momentum=0.9`", [ctx.add_keyword(layer.site, "momentum", "0.9")])
        if isinstance(m, Arg) and isinstance(m.value, Const) and isinstance(m.value.value, (int, float)):
            if m.value.value <= 0.9:
                return False
            return ctx.fix("Set `momentum=0.9`", [ctx.replace(m, "0.9")], safe=m.via in ("keyword", "positional"))
        return False


def _short(layer) -> str:
    return layer.qual.rsplit(".", 1)[1]


def _message(layers: list, rows: list, size: int, origin: str, minimum: int) -> str:
    """One message for the BatchNormalization layers that one training run feeds with small batches."""
    apps = [x for x in layers if isinstance(x, ModelObj)]
    own = [x for x in layers if not isinstance(x, ModelObj)]
    batch = f"trained with batch size {size} (from {origin}), below {minimum}"
    if len(layers) == 1 and apps:
        return (f"`{_short(apps[0])}` contains BatchNormalization and is {batch}: freeze it (`trainable = False` "
                f"or `training=False`) or use a larger batch")
    if len(layers) == 1:
        return (f"`{_short(own[0])}` is {batch}: its batch statistics are noise; use a larger batch or "
                f"GroupNormalization, or set momentum=0.9")
    lines = sorted({r for r in rows if r})
    listed = f" (lines {', '.join(map(str, lines))})" if lines else ""
    names = [f"{len(own)} BatchNormalization layers" if len(own) > 1 else f"`{_short(own[0])}`"] if own else []
    names += [f"`{_short(x)}`" for x in apps]
    advice = ["use a larger batch"]
    if apps:
        advice.append("freeze the pretrained " + " and ".join(f"`{_short(x)}`" for x in apps))
    if own:
        advice += ["use GroupNormalization", "set momentum=0.9"]
    return (f"{' and '.join(names)}{listed} are {batch}: their batch statistics are noise; "
            f"{', '.join(advice[:-1])} or {advice[-1]}")
