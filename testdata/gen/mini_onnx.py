"""mini_onnx: a tiny float64 numpy interpreter of the ONNX ops the golden
scripts' exports use (make_golden.py, make_seg_golden.py,
make_ssd_model_golden.py): an independent check of an export where onnx 1.12
has no onnx.reference and onnxruntime is absent. Not a general interpreter:
an op it does not know is an error."""
import numpy as np
import onnx
from onnx import numpy_helper


class MiniOnnx:
    def __init__(self, model):
        self.g = model.graph

    @staticmethod
    def _attrs(node):
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    @staticmethod
    def _conv(x, w, b, a):
        s = a.get("strides", [1, 1])
        d = a.get("dilations", [1, 1])
        g = a.get("group", 1)
        p = a.get("pads", [0, 0, 0, 0])
        assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
        x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
        n, c, hp, wp = x.shape
        o, cg, kh, kw = w.shape
        ho = (hp - d[0] * (kh - 1) - 1) // s[0] + 1
        wo = (wp - d[1] * (kw - 1) - 1) // s[1] + 1
        xg = x.reshape(n, g, c // g, hp, wp)
        wg = w.reshape(g, o // g, cg, kh, kw)
        out = np.zeros((n, g, o // g, ho, wo))
        for i in range(kh):
            for j in range(kw):
                patch = xg[:, :, :, i * d[0]: i * d[0] + s[0] * (ho - 1) + 1: s[0],
                           j * d[1]: j * d[1] + s[1] * (wo - 1) + 1: s[1]]
                out += np.einsum("ngchw,goc->ngohw", patch, wg[:, :, :, i, j])
        out = out.reshape(n, o, ho, wo)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def _resize(x, sizes, a):
        """Linear, half_pixel (or pytorch_half_pixel with sizes > 1), from
        sizes; coordinates clamped to [0, in-1] as onnxruntime does."""
        assert a.get("mode") == b"linear", a
        assert a.get("coordinate_transformation_mode") in (b"half_pixel", b"pytorch_half_pixel"), a
        assert list(sizes[:2]) == list(x.shape[:2]), (sizes, x.shape)
        for axis in (2, 3):
            n_in, n_out = x.shape[axis], int(sizes[axis])
            d = np.arange(n_out)
            src = np.clip((d + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
            x0 = np.floor(src).astype(int)
            x1 = np.minimum(x0 + 1, n_in - 1)
            f = src - x0
            shape = [1, 1, 1, 1]
            shape[axis] = n_out
            f = f.reshape(shape)
            x = np.take(x, x0, axis=axis) * (1 - f) + np.take(x, x1, axis=axis) * f
        return x

    def run(self, x):
        """The first graph output for input x (as float64)."""
        return self.run_all(x)[0]

    def run_all(self, x):
        """Every graph output, in order, for input x (as float64)."""
        env = {}
        for t in self.g.initializer:
            v = numpy_helper.to_array(t)
            env[t.name] = v.astype(np.float64) if v.dtype.kind == "f" else v
        env[self.g.input[0].name] = x.astype(np.float64)
        for node in self.g.node:
            a = self._attrs(node)
            ins = [env[i] if i else None for i in node.input]
            op = node.op_type
            if op == "Conv":
                r = self._conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
            elif op == "BatchNormalization":
                xx, sc, bb, mean, var = ins[:5]
                sh = (1, -1, 1, 1)
                r = (xx - mean.reshape(sh)) / np.sqrt(var.reshape(sh) + a.get("epsilon", 1e-5)) * sc.reshape(sh) + bb.reshape(sh)
            elif op == "Relu":
                r = np.maximum(ins[0], 0)
            elif op == "Clip":  # bounds as inputs (opset >= 11) or attributes
                lo = ins[1] if len(ins) > 1 and ins[1] is not None else a.get("min", -np.inf)
                hi = ins[2] if len(ins) > 2 and ins[2] is not None else a.get("max", np.inf)
                r = np.clip(ins[0], lo, hi)
            elif op == "HardSigmoid":
                r = np.clip(a.get("alpha", 0.2) * ins[0] + a.get("beta", 0.5), 0, 1)
            elif op == "HardSwish":
                r = ins[0] * np.clip(ins[0] / 6 + 0.5, 0, 1)
            elif op == "Sigmoid":
                r = 1 / (1 + np.exp(-ins[0]))
            elif op == "Mul":
                r = ins[0] * ins[1]
            elif op == "Add":
                r = ins[0] + ins[1]
            elif op == "GlobalAveragePool":
                r = ins[0].mean(axis=(2, 3), keepdims=True)
            elif op == "Flatten":
                ax = a.get("axis", 1)
                r = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
            elif op == "Gemm":
                A = ins[0].T if a.get("transA", 0) else ins[0]
                B = ins[1].T if a.get("transB", 0) else ins[1]
                r = a.get("alpha", 1.0) * (A @ B)
                if len(ins) > 2 and ins[2] is not None:
                    r = r + a.get("beta", 1.0) * ins[2]
            elif op in ("Identity", "Dropout"):
                r = ins[0]
            elif op == "Constant":
                v = numpy_helper.to_array(a["value"])
                r = v.astype(np.float64) if v.dtype.kind == "f" else v
            elif op == "Shape":
                r = np.array(ins[0].shape, dtype=np.int64)
            elif op == "Slice":
                starts, ends = ins[1], ins[2]
                axes = ins[3] if len(ins) > 3 and ins[3] is not None else np.arange(len(starts))
                steps = ins[4] if len(ins) > 4 and ins[4] is not None else np.ones(len(starts), dtype=np.int64)
                sl = [slice(None)] * ins[0].ndim
                for s, e, ax, st in zip(starts, ends, axes, steps):
                    sl[int(ax)] = slice(int(s), int(e), int(st))
                r = ins[0][tuple(sl)]
            elif op == "Gather":
                r = np.take(ins[0], ins[1], axis=a.get("axis", 0))
            elif op == "Unsqueeze":
                r = np.expand_dims(ins[0], tuple(int(v) for v in ins[1]))
            elif op == "Cast":
                assert a["to"] == onnx.TensorProto.INT64, a
                r = ins[0].astype(np.int64)
            elif op == "Concat":
                r = np.concatenate(ins, axis=a["axis"])
            elif op == "Reshape":
                shape = [int(v) for v in ins[1]]
                shape = [ins[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
                r = ins[0].reshape(shape)
            elif op == "Transpose":
                r = np.transpose(ins[0], a["perm"])
            elif op == "Resize":
                assert ins[1] is None or ins[1].size == 0, "roi"
                assert ins[2] is None or ins[2].size == 0, "scales"
                r = self._resize(ins[0], ins[3], a)
            else:
                raise NotImplementedError("MiniOnnx: op " + op)
            env[node.output[0]] = r
        return [env[o.name] for o in self.g.output]
