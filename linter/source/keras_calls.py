"""What Keras and TensorFlow calls mean, to the source view.

:class:`KerasCalls` models the Keras API as the file's code uses it: layers
and models (Sequential, functional, subclassed, applications), optimizers and
learning-rate schedules, callbacks, datasets, ``compile``/``fit``, gradient
tapes and ``apply_gradients``. It reads as a table of behaviours: the dicts at
the end of this module map canonical Keras and TensorFlow names
(:data:`KERAS_CALLS`, :data:`KERAS_CLASSES`, :data:`TF_CALLS`) and method
names (:data:`MODEL_METHODS`, :data:`DATASET_METHODS`...) to the small
handlers that model them; adding a Keras API is adding an entry.

It is a mixin of :class:`~klint.source.interpreter.Interpreter`: evaluating
Python comes from :class:`~klint.source.evaluator.Evaluator`.
"""
from __future__ import annotations

import libcst as cst

from klint.knowledge import api as K
from klint.source.analysis import CompileInfo, FitInfo, LoopInfo, LRAssignment
from klint.source.expressions import DICT_METHODS, LIST_METHODS, Scope, link, mark_output, tensors_in
from klint.source.values import (
    ABSENT, UNKNOWN, Arg, BoundMethod, CallSite, ClassV, Const, DatasetV, DictV, EachV, FuncV, GradientsV,
    LayerObj, ModelObj, Obj, OpUse, OptimizerObj, PartV, SeqV, TapeV, TensorV, UserObj, Value, VarsV,
)

LR_ATTRS = ("learning_rate", "lr")
VARIABLE_ATTRS = ("trainable_variables", "trainable_weights", "variables", "weights")


class KerasCalls:
    """What the Keras and TensorFlow objects of a file do when its code uses them."""

    # ====================================================== models built

    def finish(self) -> None:
        for m in list(self.a.models):
            if m.kind == "sequential":
                self.link_sequential(m)

    def link_sequential(self, m: ModelObj) -> None:
        """Link a Sequential model's layers in order; a layer class of the file in it is called on
        the output of the layer before it, so that its own layers join the chain."""
        flat = _flatten_sequential(m.layers)
        cur: list = list(m.producers)  # what feeds the model, when it is applied to a tensor
        first = True
        for item in flat:
            if isinstance(item, UserObj) and item.model is not None and (
                    item.cls.find_method("call") or item.cls.find_method("__call__")):
                site = CallSite(None, None)
                site.positional.append(Arg(TensorV(list(cur)), None, "positional"))
                out = tensors_in(self.call_user_layer(item, site))
                cur = [p for t in out for p in t.producers]
            elif isinstance(item, (LayerObj, ModelObj)):
                if not first:
                    for p in cur:
                        link(p, item)
                        item.producers.append(p)
                cur = [item]
            else:
                for p in cur:
                    link(p, OpUse())  # something the source view cannot see
                cur = []
            first = False
        for last, start in m.repeats:  # ``model.add`` in a loop: one iteration follows another
            last.consumers.append(start)
            start.producers.append(last)
            self.a.back_edges.add((id(last), id(start)))
        if cur and not m.open:
            for p in cur:
                mark_output(p, m)

    def subclass_model(self, obj: UserObj, site: CallSite | None) -> None:
        """A new instance of a ``keras.Model`` or layer subclass is a model, built by its methods."""
        cls = obj.cls
        if cls.derives("keras.Model", "keras.Sequential", "keras.layers.Layer"):
            m = ModelObj("keras.Model", site, kind="subclass", cls=cls, instance=obj,
                         owner=self.class_ctx[-1])
            obj.model = m
            self.a.models.append(m)

    def sequence_dataset(self, cls: ClassV, site: CallSite) -> DatasetV | None:
        """A new ``keras.utils.Sequence`` (or ``PyDataset``) of the file is a dataset."""
        if cls.derives("keras.utils.Sequence", "keras.utils.PyDataset"):
            return DatasetV(self.init_arg(cls, site, "batch_size"), None, f"{cls.node.name.value}()")
        return None

    def model_call_outputs(self, f: FuncV, self_obj: Value | None, result: Value) -> None:
        """What the ``call`` method of a model subclass returns is made by the model's output layers."""
        if f.cls.derives("keras.Model"):
            model = self_obj.model if isinstance(self_obj, UserObj) else None
            for t in tensors_in(result):
                for p in t.producers:
                    if model is not None:
                        mark_output(p, model)
                    elif isinstance(p, (LayerObj, ModelObj)):
                        p.is_output = True

    # ======================================================= attributes

    def set_attribute(self, target: cst.Attribute, obj: Value, v: Value) -> None:
        """``obj.attr = v``: a learning rate set by hand, a layer frozen, or an attribute kept."""
        attr = target.attr.value
        if attr in LR_ATTRS:
            self.a.lr_assignments.append(LRAssignment(target, self.class_ctx[-1], _optimizer_of(obj)))
        if isinstance(obj, EachV):
            for item in obj.items:
                if attr == "trainable" and isinstance(v, Const) and v.value is False:
                    item.frozen = True
        elif isinstance(obj, UserObj):
            obj.attrs[attr] = v
        elif isinstance(obj, ClassV):
            obj.attrs[attr] = v
        elif isinstance(obj, (LayerObj, ModelObj)):
            if attr == "trainable" and isinstance(v, Const) and v.value is False:
                obj.frozen = True
            obj.attrs[attr] = v
        elif isinstance(obj, Obj):
            obj.attrs[attr] = v

    def user_model_attribute(self, model: ModelObj, attr: str) -> Value | None:
        """An attribute of a model subclass's instance that its class does not set, or None."""
        if attr in VARIABLE_ATTRS:
            return VarsV(model)
        if attr == "optimizer" and model.optimizers:
            return model.optimizers[-1]
        return None

    def model_attribute(self, m: ModelObj, attr: str, node: cst.Attribute) -> Value:
        if attr == "optimizer":
            return m.optimizers[-1] if m.optimizers else BoundMethod(m, attr, node.value)
        if attr in VARIABLE_ATTRS:
            return VarsV(m)
        if attr in ("output", "outputs"):
            return TensorV([m])
        if attr in m.attrs:
            return m.attrs[attr]
        if attr == "layers":
            return SeqV(self.a.model_layers(m)[0], None, True)
        return BoundMethod(m, attr, node.value)

    def layer_attribute(self, layer: LayerObj, attr: str, node: cst.Attribute) -> Value:
        if attr in VARIABLE_ATTRS:
            return VarsV(layer)
        if attr == "output":
            return TensorV([layer])
        if attr in layer.attrs:
            return layer.attrs[attr]
        return BoundMethod(layer, attr, node.value)

    def part_attribute(self, part: PartV, attr: str) -> Value:
        # a layer inside the model: what comes out of it comes out of the model's layers
        return TensorV([part.model]) if attr in ("output", "outputs") else UNKNOWN

    # ================================================= layers called

    def call_layer(self, obj, site: CallSite) -> Value:
        inputs = site.value("inputs", 0)
        if self.training and isinstance(obj, ModelObj):
            # a model applied in a training step (a GAN's discriminator on the generator's images, a
            # loss on a model's output) is not a layer of a bigger model: no edges in or out
            out = TensorV([])
        else:
            out = TensorV([obj])
            for t in tensors_in(inputs):
                for p in t.producers:
                    link(p, obj)
                    obj.producers.append(p)
        training = site.arg("training")
        if isinstance(training, Arg) and isinstance(training.value, Const) and training.value.value is False:
            if isinstance(obj, ModelObj):
                obj.inference_call = True
        return out

    def call_user_layer(self, obj: UserObj, site: CallSite) -> Value:
        m = obj.cls.find_method("call") or obj.cls.find_method("__call__")
        if m is None:
            self.escape(site)
            return UNKNOWN
        if self.training and obj.model is not None and obj.cls.derives("keras.Model", "keras.Sequential"):
            return TensorV([])  # a whole model run by a training step (see call_layer)
        res = self.call_function(m, site, obj)
        if not tensors_in(res):
            ts = tensors_in(site.value("inputs", 0))
            return self.tensor_op(ts) if ts else TensorV([OpUse()])
        return res

    # ================================================= the Keras API

    def call_keras(self, q: str, site: CallSite) -> Value:
        """A call of ``q``, a canonical Keras name: its entry in :data:`KERAS_CALLS`, else the entry of
        its module in :data:`KERAS_CLASSES` when it is a class, else an op on the tensors it is given."""
        handler = KERAS_CALLS.get(q)
        if handler is None:
            if q.rsplit(".", 1)[1][:1].isupper():
                for prefix, family in KERAS_CLASSES:
                    if q.startswith(prefix):
                        return family(self, q, site)
            return self.function_op(q, site)
        return handler(self, q, site)

    def building_class(self) -> ClassV | None:
        # the class whose method is building: also through module helpers that the method calls
        return next((c for c in reversed(self.class_ctx) if c is not None), None)

    def sequential_model(self, q: str, site: CallSite) -> Value:
        layers = site.value("layers", 0)
        m = ModelObj(q, site, kind="sequential", owner=self.building_class())
        if isinstance(layers, SeqV):
            m.layers = list(layers.items)
            m.open = layers.open
        elif site.arg("layers", 0) is not ABSENT:
            m.open = True
        self.a.models.append(m)
        return m

    def functional_model(self, q: str, site: CallSite) -> Value:
        """``keras.Model(inputs, outputs)``; without outputs, a model the source view cannot see."""
        outputs = site.arg("outputs", 1)
        if not isinstance(outputs, Arg):
            return self.opaque_model(q, site)
        ts = tensors_in(outputs.value)
        m = ModelObj(q, site, kind="functional", outputs=ts, owner=self.building_class(), open=not ts)
        for t in ts:
            for p in t.producers:
                mark_output(p, m)
        self.a.models.append(m)
        return m

    def opaque_model(self, q: str, site: CallSite) -> Value:
        """A model whose layers the source view cannot see (``load_model``, ``clone_model``...)."""
        m = ModelObj(q, site, kind="opaque", owner=self.building_class(), open=True)
        self.a.models.append(m)
        return m

    def input_tensor(self, q: str, site: CallSite) -> Value:
        return TensorV([OpUse(node=site.node, op="input")])  # a node, so that skips from the input show

    def layer(self, q: str, site: CallSite) -> Value:
        layer = LayerObj(q, site, owner=self.building_class(), repeat=self.repetitions(),
                         function=self.active[-1] if self.active else None)
        if q in K.WRAPPER_LAYERS:
            layer.wrapped = site.value("layer", 0)
        elif q == "keras.layers.RNN":
            layer.wrapped = site.value("cell", 0)
        self.a.layers.append(layer)
        return layer

    def application_model(self, q: str, site: CallSite) -> Value:
        m = ModelObj(q, site, kind="application", owner=self.building_class())
        for t in tensors_in(site.value("input_tensor")):  # built on a tensor of the file's graph
            for p in t.producers:
                link(p, m)
                m.producers.append(p)
        self.a.models.append(m)
        return m

    def lr_schedule(self, q: str, site: CallSite) -> Value:
        o = Obj(q, site)
        self.a.schedules.append(o)
        self.a.schedule_made[id(o)] = {"how": "flow", "module": not self.active}
        return o

    def optimizer(self, q: str, site: CallSite) -> Value:
        o = OptimizerObj(q, site)
        self.a.optimizers.append(o)
        return o

    def callback(self, q: str, site: CallSite) -> Value:
        o = Obj(q, site)
        self.a.callbacks.append(o)
        return o

    def dataset_factory(self, q: str, site: CallSite) -> Value:
        """``image_dataset_from_directory(...)`` and the like: a dataset, batched by its ``batch_size``."""
        b = site.arg("batch_size")
        return DatasetV(b if isinstance(b, Arg) else None,
                        K.DATASET_FACTORIES[q][1] if b is ABSENT else None, f"{q.rsplit('.', 1)[1]}()")

    def set_value(self, q: str, site: CallSite) -> Value:
        """``keras.backend.set_value(opt.learning_rate, ...)`` sets a learning rate by hand."""
        if site.node.args:
            first = site.node.args[0].value
            if isinstance(first, cst.Attribute) and first.attr.value in LR_ATTRS:
                receiver = site.positional[0].value if site.positional else UNKNOWN
                target = _optimizer_of(receiver.obj) if isinstance(receiver, BoundMethod) else None
                self.a.lr_assignments.append(LRAssignment(site.node, self.class_ctx[-1], target))
        return self.function_op(q, site)

    def function_op(self, q: str, site: CallSite) -> Value:
        """A Keras or TensorFlow function applied to tensors: an op of the layer graph."""
        act = K.activation_from_function(q)
        merge = K.MERGE_FUNCTIONS.get(q)
        # an activation applies to its first argument; other ops (``ops.einsum("ab,bc", x, w)``,
        # ``ops.stack([a, b])``) to every tensor they are given
        args = site.positional[:1] if act else list(site.positional) + list(site.keywords.values())
        ts = [t for arg in args for t in tensors_in(arg.value)]
        if ts:
            return self.tensor_op(ts, act, site.node, merge)
        self.escape(site)
        return Obj(q, site)

    # ============================================ the TensorFlow API

    def call_tf(self, q: str, site: CallSite) -> Value:
        """A call of ``q``, a canonical TensorFlow name: its entry in :data:`TF_CALLS`, else the entry of
        its module in :data:`TF_MODULES`, else an op on the tensors it is given."""
        handler = TF_CALLS.get(q)
        if handler is None:
            for prefix, family in TF_MODULES:
                if q.startswith(prefix):
                    return family(self, q, site)
            return self.function_op(q, site)
        return handler(self, q, site)

    def gradient_tape(self, q: str, site: CallSite) -> Value:
        return TapeV()

    def clip_gradients(self, q: str, site: CallSite) -> Value:
        """``tf.clip_by_global_norm(grads, ...)`` and the like: the gradients, clipped."""
        g = self.find_gradients([a.value for a in site.positional] + [a.value for a in site.keywords.values()])
        if g is not None:
            clipped = GradientsV(g.model, True)
            if q.endswith("clip_by_global_norm"):
                return SeqV([clipped, UNKNOWN])
            return clipped
        return UNKNOWN

    def tf_data(self, q: str, site: CallSite) -> Value:
        return DatasetV(None, None, "the tf.data pipeline")

    # ========================================================= methods

    def call_method(self, bm: BoundMethod, site: CallSite, scope: Scope) -> Value:
        """``obj.name(...)``: what its receiver's entry in :data:`RECEIVERS` says the method does."""
        obj, name = bm.obj, bm.name
        if isinstance(obj, (Obj, UserObj)):
            self.a.method_calls.append((site, obj, name))
        if isinstance(obj, UserObj):
            return self.user_method(bm, site, scope)
        for kind in type(obj).__mro__:
            receiver = RECEIVERS.get(kind)
            if receiver is not None:
                methods, other = receiver
                return methods.get(name, other)(self, obj, name, site)
        # the receiver is unknown: recognise the Keras calls by their shape
        return self.unknown_method(bm, name, site)

    def user_method(self, bm: BoundMethod, site: CallSite, scope: Scope) -> Value:
        """A method of an instance of a class of the file; a model subclass has the methods of a model."""
        obj, name = bm.obj, bm.name
        m = obj.cls.find_method(name)
        if m is not None:
            return self.call_function(m, site, obj)
        if obj.model is not None:
            result = self.call_method(BoundMethod(obj.model, name, bm.node), site, scope)
            if name in ("fit", "train_on_batch"):
                # Keras runs the class's own train_step on this instance
                step = obj.cls.find_method("train_step")
                if step is not None:
                    self.call_function(step, None, obj)
            return result
        self.escape(site)
        return UNKNOWN

    def no_effect(self, obj: Value, name: str, site: CallSite) -> Value:
        """A method the source view does not model, on an object it follows: it changes nothing."""
        return UNKNOWN

    def escaping_method(self, obj: Value, name: str, site: CallSite) -> Value:
        """A method the source view does not model: its arguments go where it cannot follow them."""
        self.escape(site)
        return UNKNOWN

    def object_method(self, obj: Obj, name: str, site: CallSite) -> Value:
        """A method of another Keras (or imported) object: ``ImageDataGenerator.flow`` makes batches."""
        short = obj.qual.rsplit(".", 1)[-1]
        if short == "ImageDataGenerator" and name in K.GENERATOR_METHODS:
            b = site.arg("batch_size", 2 if name == "flow" else None)
            return DatasetV(b if isinstance(b, Arg) else None,
                            K.GENERATOR_METHODS[name] if b is ABSENT else None, f"ImageDataGenerator.{name}()")
        self.escape(site)
        return UNKNOWN

    def tensor_method(self, t: TensorV, name: str, site: CallSite) -> Value:
        return self.tensor_op([t])

    # ------------------------------------------------- methods of models

    def add_layer(self, m: ModelObj, name: str, site: CallSite) -> Value:
        """``model.add(layer)``: the next layer of a Sequential model."""
        if not site.positional:
            return self.escaping_method(m, name, site)
        v = site.positional[0].value
        m.layers.append(v)
        if not isinstance(v, (LayerObj, ModelObj, UserObj, TensorV)):
            m.open = True
        return UNKNOWN

    def pop_layer(self, m: ModelObj, name: str, site: CallSite) -> Value:
        if m.layers:
            m.layers.pop()
        return UNKNOWN

    def compile_model(self, m: ModelObj, name: str, site: CallSite) -> Value:
        self.compile(m, site)
        return UNKNOWN

    def fit_model(self, m: ModelObj, name: str, site: CallSite) -> Value:
        self.fit(m, site)
        return UNKNOWN

    def apply_layer(self, obj, name: str, site: CallSite) -> Value:
        """``layer(x)`` spelled ``layer.call(x)`` or ``layer.__call__(x)``."""
        return self.call_layer(obj, site)

    def get_layer(self, m: ModelObj, name: str, site: CallSite) -> Value:
        return PartV(m)

    # ------------------------------------------- methods of optimizers and tapes

    def optimizer_step(self, opt: OptimizerObj, name: str, site: CallSite) -> Value:
        """``opt.apply_gradients(...)``, ``opt.apply(...)``, ``opt.minimize(...)``: a training step."""
        self.apply_gradients(opt, name, site)
        return UNKNOWN

    def tape_gradient(self, tape: TapeV, name: str, site: CallSite) -> Value:
        return self.gradient(site)

    # ----------------------------------------------- methods of datasets

    def rebatched(self, d: DatasetV, name: str, site: CallSite) -> Value:
        b = site.arg("batch_size", 0)
        return DatasetV(b if isinstance(b, Arg) else None, None, d.what)

    def unbatched(self, d: DatasetV, name: str, site: CallSite) -> Value:
        return DatasetV(None, None, d.what)

    def same_batches(self, d: DatasetV, name: str, site: CallSite) -> Value:
        return d

    # ------------------------------------------ methods of an unknown receiver

    def unknown_method(self, bm: BoundMethod, name: str, site: CallSite) -> Value:
        self.a.unresolved_calls.append((site.node, name))
        if name in ("batch", "padded_batch") and (site.positional or "batch_size" in site.keywords):
            return DatasetV(site.positional[0] if site.positional else site.keywords["batch_size"], None,
                            "the dataset")
        if name == "compile" and ("optimizer" in site.keywords or "loss" in site.keywords):
            self.compile(None, site)
            return UNKNOWN
        if name in ("fit", "fit_generator") and (
                any(k in site.keywords for k in ("batch_size", "epochs", "callbacks", "validation_data",
                                                 "validation_split", "steps_per_epoch"))
                or (site.positional and isinstance(site.positional[0].value, DatasetV))):
            self.fit(None, site)
            return UNKNOWN
        if name == "apply_gradients" or (name == "apply" and self.applies_gradients(site)):
            # ``apply`` is also pandas' and tf.data's: only gradients make it a training step
            self.apply_gradients(None, name, site)
            return UNKNOWN
        if name == "gradient" and len(site.positional) >= 2:
            return self.gradient(site)
        if name == "assign" and isinstance(bm.node, cst.Attribute) and bm.node.attr.value in LR_ATTRS:
            receiver = bm.obj.obj if isinstance(bm.obj, BoundMethod) else None
            self.a.lr_assignments.append(LRAssignment(site.node, self.class_ctx[-1], _optimizer_of(receiver)))
            return UNKNOWN
        if name == "assign" and isinstance(bm.node, cst.Name) and bm.node.value in LR_ATTRS:
            self.a.lr_assignments.append(LRAssignment(site.node, self.class_ctx[-1]))
        self.escape(site)
        return UNKNOWN

    # ===================================================== training

    def applies_gradients(self, site: CallSite) -> bool:
        """Whether a call's arguments are gradients or a model's variables (``optimizer.apply(grads, vars)``)."""
        values = [a.value for a in site.positional] + [a.value for a in site.keywords.values()]
        return self.find_gradients(values) is not None or bool(self.find_vars(values))

    def find_gradients(self, values: list[Value], depth: int = 0) -> GradientsV | None:
        for v in values:
            if isinstance(v, GradientsV):
                return v
            if isinstance(v, SeqV) and depth < 3:
                g = self.find_gradients(list(v.items), depth + 1)
                if g is not None:
                    return g
        return None

    def find_vars(self, values: list[Value], depth: int = 0) -> list:
        out: list = []
        for v in values:
            if isinstance(v, VarsV):
                out += v.model if isinstance(v.model, list) else [v.model]
            elif isinstance(v, SeqV) and depth < 3:
                out += self.find_vars(list(v.items), depth + 1)
        return out

    def compile(self, model: ModelObj | None, site: CallSite) -> None:
        opt = site.arg("optimizer", 0)
        o = None
        if isinstance(opt, Arg):
            v = opt.value
            if isinstance(v, OptimizerObj):
                o = v
            elif isinstance(v, Const) and isinstance(v.value, str):
                cls_name = K.OPTIMIZER_STRINGS.get(v.value.lower())
                if cls_name is not None:
                    o = OptimizerObj(f"keras.optimizers.{cls_name}", None, string=opt)
                    self.a.optimizers.append(o)
        if o is not None and model is not None:
            o.models.append(model)
            model.optimizers.append(o)
        elif o is not None:
            o.models.append(None)
        self.a.compiles.append(CompileInfo(model, o, site, site.arg("loss", 1)))
        if model is not None:
            model.compiles.append(self.a.compiles[-1])

    def fit(self, model: ModelObj | None, site: CallSite) -> None:
        x = site.value("x", 0)
        b = site.arg("batch_size", 2)
        batch: Arg | None = None
        src = ""
        if isinstance(b, Arg) and not (isinstance(b.value, Const) and b.value.value is None):
            batch, src = b, "`fit(batch_size=...)`"
        elif isinstance(x, DatasetV):
            if x.batch is not None:
                batch = x.batch
                src = f"`batch_size` of `{x.what}`" if x.what.endswith("()") else f"`.batch()` of {x.what}"
            elif x.default is not None:
                batch, src = Arg(Const(x.default), None, "default"), f"the default batch size of `{x.what}`"
        elif b is ABSENT and isinstance(x, (SeqV, Obj, Const)):
            batch, src = Arg(Const(32), None, "default"), "the default of `fit()`"
        cb = site.arg("callbacks", 5)
        callbacks = None if cb is ABSENT else (cb.value if isinstance(cb, Arg) else UNKNOWN)
        calls = self.a.method_calls
        order = len(calls) - 1 if calls and calls[-1][0] is site else len(calls)  # the fit's own entry
        info = FitInfo(model, site, batch, src, callbacks, x, order)
        if model is not None:
            model.fits.append(info)
        self.a.fits.append(info)

    def gradient(self, site: CallSite) -> Value:
        sources = site.value("sources", 1)
        models = self.find_vars([sources])
        return GradientsV(models or None, False, not models and _plain_variables([sources]))

    def apply_gradients(self, opt: OptimizerObj | None, name: str, site: CallSite) -> None:
        values = [a.value for a in site.positional] + [a.value for a in site.keywords.values()]
        g = self.find_gradients(values)
        models = self.find_vars(values)
        if g is not None and isinstance(g.model, list):
            models = models or g.model
        clipped = name != "minimize" and g is not None and g.clipped
        inputs = not models and ((g is not None and g.inputs) or _plain_variables(values))
        info = LoopInfo(opt, [m for m in models if m is not None], clipped, site.node, self.class_ctx[-1], site.top,
                        inputs)
        if opt is not None:
            opt.loops.append(info)
        self.a.loops.append(info)


def _flatten_sequential(items: list, seen: set | None = None) -> list:
    seen = seen if seen is not None else set()
    out: list = []
    for it in items:
        if isinstance(it, ModelObj) and it.kind == "sequential" and id(it) not in seen:
            seen.add(id(it))
            out += _flatten_sequential(it.layers, seen)
        elif isinstance(it, TensorV):
            continue  # keras.Input(...) inside a Sequential list
        else:
            out.append(it)
    return out


def _plain_variables(values: list, depth: int = 0) -> bool:
    """Whether these values hold variables or tensors that are not a model's weights, and nothing else known.

    ``tf.Variable(image)`` optimized by style transfer or deep dream, or an
    input tensor perturbed by an adversarial attack.
    """
    found = False
    for v in values:
        if isinstance(v, Obj) and v.qual in K.VARIABLE_CLASSES or isinstance(v, TensorV):
            found = True
        elif isinstance(v, SeqV) and depth < 3:
            if _plain_variables(list(v.items), depth + 1):
                found = True
        elif isinstance(v, (VarsV, LayerObj, ModelObj, UserObj)):
            return False
    return found


def _optimizer_of(v) -> OptimizerObj | None:
    """The optimizer a learning-rate assignment sets, when the receiver is one the source view knows."""
    return v if isinstance(v, OptimizerObj) else None


# ====================================================== the tables

#: Keras calls by canonical name; looked up first.
KERAS_CALLS = {
    "keras.Sequential": KerasCalls.sequential_model,
    "keras.Model": KerasCalls.functional_model,
    "keras.Input": KerasCalls.input_tensor,
    "keras.models.load_model": KerasCalls.opaque_model,
    "keras.models.clone_model": KerasCalls.opaque_model,
    "keras.models.model_from_json": KerasCalls.opaque_model,
    "keras.models.model_from_config": KerasCalls.opaque_model,
    "keras.models.model_from_yaml": KerasCalls.opaque_model,
    "keras.backend.set_value": KerasCalls.set_value,
    **{q: KerasCalls.dataset_factory for q in K.DATASET_FACTORIES},
}

#: Keras classes (a capitalized last name) by the module they are in; the first prefix that matches wins.
KERAS_CLASSES = (
    ("keras.layers.", KerasCalls.layer),
    ("keras.applications.", KerasCalls.application_model),
    (K.LR_SCHEDULE_PREFIX, KerasCalls.lr_schedule),  # before the optimizers, whose module holds it
    ("keras.optimizers.", KerasCalls.optimizer),
    ("keras.callbacks.", KerasCalls.callback),
)

#: TensorFlow calls by canonical name; looked up first.
TF_CALLS = {
    "tensorflow.GradientTape": KerasCalls.gradient_tape,
    **{q: KerasCalls.clip_gradients for q in K.GRADIENT_CLIP_FUNCTIONS if q.startswith("tensorflow.")},
}

#: TensorFlow calls by the module they are in.
TF_MODULES = (
    ("tensorflow.data.", KerasCalls.tf_data),
)

#: The methods of a model.
MODEL_METHODS = {
    "add": KerasCalls.add_layer,
    "pop": KerasCalls.pop_layer,
    "compile": KerasCalls.compile_model,
    "fit": KerasCalls.fit_model,
    "fit_generator": KerasCalls.fit_model,
    "__call__": KerasCalls.apply_layer,
    "call": KerasCalls.apply_layer,
    "get_layer": KerasCalls.get_layer,
}

#: The methods of a layer.
LAYER_METHODS = dict.fromkeys(("__call__", "call"), KerasCalls.apply_layer)

#: The methods of an optimizer.
OPTIMIZER_METHODS = dict.fromkeys(("apply_gradients", "apply", "minimize"), KerasCalls.optimizer_step)

#: The methods of a ``tf.GradientTape``.
TAPE_METHODS = {"gradient": KerasCalls.tape_gradient}

#: The methods of a dataset: those that set its batch size, and those that keep it.
DATASET_METHODS = {
    **{name: KerasCalls.rebatched for name in ("batch", "padded_batch", "rebatch")},
    **{name: KerasCalls.unbatched for name in ("unbatch", "bucket_by_sequence_length", "window")},
    **{name: KerasCalls.same_batches for name in (
        "as_numpy_iterator", "take", "skip", "shuffle", "map", "prefetch", "cache", "repeat", "filter",
        "with_options", "shard", "apply", "concatenate", "ignore_errors", "enumerate", "interleave", "flat_map",
        "cardinality")},
}

#: What a method call does, by the kind of its receiver: (the methods modelled, what any other does).
#: A kind not here is unknown (:meth:`KerasCalls.unknown_method`); a subclass has its base's entry.
RECEIVERS = {
    ModelObj: (MODEL_METHODS, KerasCalls.escaping_method),
    OptimizerObj: (OPTIMIZER_METHODS, KerasCalls.no_effect),
    LayerObj: (LAYER_METHODS, KerasCalls.no_effect),
    TapeV: (TAPE_METHODS, KerasCalls.no_effect),
    DatasetV: (DATASET_METHODS, KerasCalls.no_effect),
    SeqV: (LIST_METHODS, KerasCalls.no_effect),
    DictV: (DICT_METHODS, KerasCalls.no_effect),
    Obj: ({}, KerasCalls.object_method),
    TensorV: ({}, KerasCalls.tensor_method),
    GradientsV: ({}, KerasCalls.no_effect),
}
