#!/usr/bin/python3
"""Generate the segmentation golden data for mnc (testdata/seg/).

How to run (from the repository root; needs Debian's python3-torch,
python3-torchvision, python3-onnx, python3-numpy, python3-pil; no network):

    /usr/bin/python3 testdata/gen/make_seg_golden.py [--images DIR] [--out DIR]

--images defaults to /work/shared/images (subfolders calib/ and eval/),
--out defaults to testdata/seg next to this script's folder.

CI never runs this script; its outputs are committed. It is deterministic
(fixed seeds, one thread, deterministic algorithms): two runs with the same
torch/torchvision/onnx versions write identical files.

Models: torchvision 0.14's lraspp_mobilenet_v3_large and
deeplabv3_mobilenet_v3_large (aux_loss=False), at smaller widths to keep the
files small. torchvision's builders fix the backbone at width 1.0, so the
script builds the same models by hand with the builders' own code:

    backbone = torchvision.models.mobilenet_v3_large(width_mult=W, dilated=True)
    torchvision.models.segmentation.lraspp._lraspp_mobilenetv3(backbone, classes)
    torchvision.models.segmentation.deeplabv3._deeplabv3_mobilenetv3(backbone, classes, False)

which is what lraspp_mobilenet_v3_large(num_classes=classes) and
deeplabv3_mobilenet_v3_large(num_classes=classes) do at W = 1.0 (checked
below: same modules, same state_dict keys and shapes). mnc's builder takes
the width as for the classifiers (--width, inferred from the checkpoint).
Widths: LR-ASPP 0.5 (3.7 MB of float32 weights; 1.0 would be 13 MB per file)
and DeepLabV3 0.1 (6.7 MB: its head has 256 channels at every width, 0.92M
parameters in the ASPP projection and the 3x3 conv alone; width 0.25 would
be 11.7 MB per file, 1.0 44 MB).

Inputs: LR-ASPP at 100x100, so that the head's two resizes have
non-integer factors (the stride-16 feature is 7x7, the stride-8 one 13x13);
DeepLabV3 at 200x200, so that its stride-16 feature (13x13) is larger than
the smallest atrous rate (12) and the dilated 3x3 branches read more than
their centre tap.

For each model NAME it writes:

  NAME.pth          torch.save(state_dict): backbone.* and classifier.* keys,
                    float32 tensors and int64 num_batches_tracked
  NAME.onnx         torch.onnx.export of model(x)["out"] (LR-ASPP at opset 13,
                    DeepLabV3 at opset 17: one file each, both opsets covered),
                    batch dimension dynamic ("N"), constant folding on
  NAME.input.npy    float32 [2,3,R,R]: 2 real images of images/eval,
                    Resize(R) (bilinear, PIL) + CenterCrop(R) + ToTensor +
                    Normalize(ImageNet mean/std)
  NAME.out.npy      float32 [2,classes,R,R]: PyTorch's eval-mode "out"

and manifest.json (configs, files, shapes, sha256, the ONNX ops and the
ONNX-vs-PyTorch difference of the check below).

Weights: torchvision's seeded init (the backbone's kaiming/ones/zeros, the
heads' PyTorch default), BatchNorm weights then drawn from U(0.75, 1.25) and
biases from N(0, 0.1) so that folding them stays non-trivial, then every
BatchNorm's statistics recomputed on the 37 images of images/calib: train
mode with momentum=None (a cumulative average) and Dropout off, two forward
passes (centre crop, flipped centre crop), then eval mode. No training: the
parity test needs trained-looking activations, not a useful model.

The ONNX files are checked with onnx.checker and run by the small float64
numpy interpreter at the end of this file (onnx 1.12 has no reference
evaluator, onnxruntime is not installed); the max abs difference to
PyTorch's output is printed and recorded.
"""

import argparse
import collections
import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision import transforms
from torchvision.models import segmentation
from PIL import Image
import onnx

from mini_onnx import MiniOnnx  # testdata/gen/mini_onnx.py

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "seg"))
DEFAULT_IMAGES = "/work/shared/images"

EVAL_IMAGES = ["grace_hopper.bmp", "parrot.jpg"]
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
BN_INIT = 0.25  # BN weights U(1-BN_INIT, 1+BN_INIT), biases N(0, 0.1)

MODELS = [
    dict(name="lraspp", arch="lraspp_mobilenet_v3_large", width=0.5, classes=21, resolution=100,
         opset=13, seed=1801),
    dict(name="deeplabv3", arch="deeplabv3_mobilenet_v3_large", width=0.1, classes=6, resolution=200,
         opset=17, seed=1802),
]


def build(spec, width=None):
    """The torchvision model of spec at width (default spec's), by the
    builders' own code on a scaled dilated backbone."""
    w = spec["width"] if width is None else width
    backbone = torchvision.models.mobilenet_v3_large(weights=None, width_mult=w, dilated=True)
    if spec["arch"] == "lraspp_mobilenet_v3_large":
        return segmentation.lraspp._lraspp_mobilenetv3(backbone, spec["classes"])
    return segmentation.deeplabv3._deeplabv3_mobilenetv3(backbone, spec["classes"], False)


def check_builder(spec):
    """At width 1.0, build() is torchvision's public builder."""
    mine = build(spec, width=1.0)
    theirs = getattr(segmentation, spec["arch"])(weights=None, weights_backbone=None, num_classes=spec["classes"])
    assert repr(mine) == repr(theirs), spec["arch"]
    a, b = mine.state_dict(), theirs.state_dict()
    assert list(a) == list(b) and all(a[k].shape == b[k].shape for k in a), spec["arch"]
    assert not any(k.startswith("aux_classifier") for k in a)


class Out(nn.Module):
    """model(x)["out"], the tensor ONNX exports."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


# ---------------------------------------------------------------------------
# images

def load_rgb(path):
    with Image.open(path) as im:
        return im.convert("RGB")


def preprocess(res, flip=False):
    t = [transforms.Resize(res, interpolation=transforms.InterpolationMode.BILINEAR), transforms.CenterCrop(res)]
    if flip:
        t.append(transforms.RandomHorizontalFlip(p=1.0))
    t += [transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    return transforms.Compose(t)


def batch(images, tf):
    return torch.stack([tf(im) for im in images])


# ---------------------------------------------------------------------------
# weights

def init_bn(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + (torch.rand(m.num_features, generator=g) * 2 - 1) * BN_INIT)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def calibrate_bn(model, calib_images, res):
    """BatchNorm statistics of the calibration images: train mode, momentum
    None (cumulative average over the passes), Dropout off."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    with torch.no_grad():
        for flip in (False, True):
            model(batch(calib_images, preprocess(res, flip=flip)))
    model.eval()
    var = torch.cat([m.running_var for m in model.modules() if isinstance(m, nn.BatchNorm2d)])
    return float(var.min()), float(var.max())


# ---------------------------------------------------------------------------
# ONNX

def export_onnx(model, path, res, opset):
    torch.onnx.export(Out(model), torch.zeros(1, 3, res, res), path, opset_version=opset,
                      input_names=["input"], output_names=["out"],
                      dynamic_axes={"input": {0: "N"}, "out": {0: "N"}}, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    return m, dict(sorted(ops.items()))


# ---------------------------------------------------------------------------

def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", default=DEFAULT_IMAGES)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    versions = dict(python=sys.version.split()[0], torch=torch.__version__, torchvision=torchvision.__version__,
                    onnx=onnx.__version__, numpy=np.__version__, pillow=Image.__version__)
    print("versions:", versions)
    calib_dir = os.path.join(args.images, "calib")
    calib_images = [load_rgb(os.path.join(calib_dir, f)) for f in sorted(os.listdir(calib_dir))]
    eval_images = [load_rgb(os.path.join(args.images, "eval", f)) for f in EVAL_IMAGES]
    print("calibration images: %d" % len(calib_images))
    os.makedirs(args.out, exist_ok=True)

    manifest = []
    for spec in MODELS:
        name, res = spec["name"], spec["resolution"]
        print("\n==", name, spec)
        check_builder(spec)
        torch.manual_seed(spec["seed"])
        model = build(spec)
        init_bn(model, spec["seed"] + 1)
        vmin, vmax = calibrate_bn(model, calib_images, res)
        print("  BN running_var range [%.3g, %.3g]" % (vmin, vmax))

        x = batch(eval_images, preprocess(res))
        with torch.no_grad():
            out = model(x)["out"]
        assert out.shape == (len(eval_images), spec["classes"], res, res), out.shape
        assert torch.isfinite(out).all()
        print("  out: std %.3f  max|.| %.3f  per-image argmax classes %s" % (
            out.std().item(), out.abs().max().item(),
            [sorted(set(out[i].argmax(0).flatten().tolist())) for i in range(len(out))]))

        files = collections.OrderedDict()
        p = lambda f: os.path.join(args.out, f)
        files["pth"] = name + ".pth"
        sd = model.state_dict()
        torch.save(sd, p(files["pth"]))
        sd2 = torch.load(p(files["pth"]))
        assert list(sd2) == list(sd) and all(torch.equal(sd2[k], sd[k]) for k in sd)
        files["input"] = name + ".input.npy"
        files["out"] = name + ".out.npy"
        np.save(p(files["input"]), x.numpy().astype(np.float32))
        np.save(p(files["out"]), out.numpy().astype(np.float32))

        files["onnx"] = name + ".onnx"
        m, ops = export_onnx(model, p(files["onnx"]), res, spec["opset"])
        y = MiniOnnx(m).run(x.numpy())
        onnx_diff = float(np.abs(y - out.numpy()).max())
        print("  %-16s ops %s" % (files["onnx"], ops))
        print("  %-16s max|onnx - torch| = %.3g (numpy float64)" % (files["onnx"], onnx_diff))
        assert onnx_diff < 1e-4 * max(1.0, float(out.abs().max())), onnx_diff

        manifest.append(collections.OrderedDict([
            ("name", name), ("arch", spec["arch"]), ("width", spec["width"]), ("resolution", res),
            ("classes", spec["classes"]), ("seed", spec["seed"]), ("opset", spec["opset"]),
            ("files", files),
            ("input_shape", list(x.shape)), ("out_shape", list(out.shape)),
            ("out_max_abs", float(out.abs().max())),
            ("eval_images", EVAL_IMAGES),
            ("preprocess", {"resize_shorter": res, "center_crop": res, "interpolation": "bilinear",
                            "mean": MEAN, "std": STD}),
            ("onnx_ops", ops),
            ("onnx_max_abs_diff", onnx_diff),
            ("sha256", collections.OrderedDict((k, sha256(p(f))) for k, f in files.items())),
        ]))

    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    print("\nfiles:")
    total = 0
    for f in sorted(os.listdir(args.out)):
        sz = os.path.getsize(os.path.join(args.out, f))
        total += sz
        print("  %9d  %s" % (sz, f))
    print("total: %d bytes (%.2f MB)" % (total, total / 1e6))


if __name__ == "__main__":
    main()
