#!/usr/bin/python3
"""Generate the SSDLite detector golden data for mnc (testdata/det/).

How to run (from the repository root; needs Debian's python3-torch,
python3-torchvision, python3-onnx, python3-numpy, python3-pil; no network):

    /usr/bin/python3 testdata/gen/make_ssd_model_golden.py [--images DIR] [--out DIR]

--images defaults to /work/shared/images (subfolders calib/ and eval/),
--out defaults to testdata/det next to this script's folder.

CI never runs this script; its outputs are committed. It is deterministic
(fixed seeds, one thread, deterministic algorithms): two runs with the same
torch/torchvision/onnx versions write identical files.

Model: torchvision 0.14's public builder,

    ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None,
                                  num_classes=21, width_mult=0.5)

width_mult reaches mobilenet_v3_large through the builder's **kwargs (SSD
and GeneralizedRCNNTransform ignore it). weights_backbone=None makes the
builder choose reduced_tail=True, as it does for the COCO checkpoint
(weights=COCO_V1 sets weights_backbone=None too). The extra blocks keep
512/256/256/128 channels at every width (the builder does not pass the
width to SSDLiteFeatureExtractorMobileNet). Width 0.5 and 21 classes (VOC's
count) keep the state dict at 4.5 MB: width 1.0 with COCO's 91 classes would
be 13.8 MB, width 0.5 with 91 classes 7.5 MB.

Weights: the builder's seeded init (normal(0, 0.03) convs), BatchNorm
weights then drawn from U(0.75, 1.25) and biases from N(0, 0.1), then every
BatchNorm's statistics recomputed on the 37 images of images/calib (train
mode with momentum=None, a cumulative average over two passes: the images
and their mirror images, each through the model's own transform), then eval
mode. A random head's logits are nearly uniform (std 0.3), so that every
anchor scores about 1/21 for every class: thousands of near-tied candidates,
whose order any rounding changes. So, as in a trained detector, the
prediction blocks' last 1x1 convs are rescaled so that cls_logits have std
2 and bbox_regression std 1 on the calibration images, and each anchor's
background logit (channel a*21 of every class conv) gets a bias of +16: few
anchors then score above the 0.001 threshold. No training: the parity test
needs trained-looking activations and a detection list that float32
rounding cannot change, not a useful model. The script checks the latter:
50 perturbations of both outputs by uniform noise of 3e-5 of their max
|value| must give the same detection count, labels and order as the
unperturbed outputs. That is three times the largest difference between
mnc's float outputs and PyTorch's (1.1e-5 of the max for bbox_regression,
5.5e-6 for cls_logits, see frontend/mobilenet's TestDetGolden); at the
parity bound of 1e-4 some boxes near the score threshold do change.

Inputs: bird.bmp and dragonfly.bmp of images/eval (41 and 24 detections),
read as RGB, ToTensor, then the model's transform (GeneralizedRCNNTransform:
Normalize(0.5, 0.5), bilinear resize to 320x320): what SSD.forward feeds its
backbone.

It writes:

  ssdlite.pth                   torch.save(state_dict): backbone.features.*,
                                backbone.extra.*, head.* keys (float32, and
                                int64 num_batches_tracked)
  ssdlite.onnx                  torch.onnx.export (opset 13) of backbone +
                                head returning (cls_logits, bbox_regression),
                                batch dynamic ("N"), constant folding on
  ssdlite.input.npy             float32 [2,3,320,320], the transformed images
  ssdlite.cls_logits.npy        float32 [2,3234,21], PyTorch's head output
  ssdlite.bbox_regression.npy   float32 [2,3234,4]
  ssdlite.detections.json       per image, SSD.postprocess_detections of those
                                outputs (score_thresh 0.001, nms_thresh 0.55,
                                detections_per_img 300, topk_candidates 300)
                                in the 320x320 frame: boxes [x0,y0,x1,y1],
                                scores, labels, in torchvision's order; the
                                float32 values written exactly (each JSON
                                number is the float32's value as a double)
  manifest.json                 configuration, files, shapes, sha256, the
                                ONNX ops and the ONNX-vs-PyTorch difference

The ONNX file is checked with onnx.checker and run by the small float64
numpy interpreter at the end of this file (onnx 1.12 has no reference
evaluator, onnxruntime is not installed).
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
from torchvision.models.detection import ssdlite320_mobilenet_v3_large
from torchvision.transforms import functional as TF
from PIL import Image
import onnx

from mini_onnx import MiniOnnx  # testdata/gen/mini_onnx.py

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "det"))
DEFAULT_IMAGES = "/work/shared/images"

NAME = "ssdlite"
ARCH = "ssdlite320_mobilenet_v3_large"
WIDTH = 0.5
CLASSES = 21
SEED = 1803
OPSET = 13
EVAL_IMAGES = ["bird.bmp", "dragonfly.bmp"]
BN_INIT = 0.25  # BN weights U(1-BN_INIT, 1+BN_INIT), biases N(0, 0.1)
CLS_STD = 2.0  # cls_logits std on the calibration images
REG_STD = 1.0  # bbox_regression std
BACKGROUND_BIAS = 16.0
PERTURB = 3e-5  # of max |output|
PERTURB_TRIALS = 50


class Net(nn.Module):
    """The network part of the SSD, as SSD.forward runs it on the
    transformed images: the backbone's six feature maps, then the head."""

    def __init__(self, model):
        super().__init__()
        self.backbone, self.head = model.backbone, model.head

    def forward(self, x):
        out = self.head(list(self.backbone(x).values()))
        return out["cls_logits"], out["bbox_regression"]


def load_rgb(path):
    with Image.open(path) as im:
        return TF.to_tensor(im.convert("RGB"))


def transformed(model, images):
    """The model's own transform (eval mode): a [N,3,320,320] batch."""
    model.eval()
    with torch.no_grad():
        il, _ = model.transform(images)
    return il


def init_bn(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + (torch.rand(m.num_features, generator=g) * 2 - 1) * BN_INIT)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def calibrate_bn(net, batches):
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    net.train()
    with torch.no_grad():
        for x in batches:
            net(x)
    net.eval()
    var = torch.cat([m.running_var for m in net.modules() if isinstance(m, nn.BatchNorm2d)])
    return float(var.min()), float(var.max())


def shape_head(model, x):
    """Rescale the prediction blocks' last convs to the target output std on
    x, then add the background bias."""
    with torch.no_grad():
        feats = list(model.backbone(x).values())
        for head, target in ((model.head.classification_head, CLS_STD), (model.head.regression_head, REG_STD)):
            for k, block in enumerate(head.module_list):
                std = block(feats[k]).std().item()
                block[1].weight.mul_(target / std)  # the bias is zero (_normal_init)
        for block in model.head.classification_head.module_list:
            block[1].bias[0::CLASSES] += BACKGROUND_BIAS


def detections(model, cls, reg, il, feats):
    anchors = model.anchor_generator(il, feats)
    return model.postprocess_detections({"cls_logits": cls, "bbox_regression": reg}, anchors, il.image_sizes)


def check_stable(model, cls, reg, il, feats, dets):
    g = torch.Generator().manual_seed(SEED + 7)
    for trial in range(PERTURB_TRIALS):
        c2 = cls + (torch.rand(cls.shape, generator=g) * 2 - 1) * PERTURB * cls.abs().max()
        r2 = reg + (torch.rand(reg.shape, generator=g) * 2 - 1) * PERTURB * reg.abs().max()
        for i, (a, b) in enumerate(zip(dets, detections(model, c2, r2, il, feats))):
            assert torch.equal(a["labels"], b["labels"]), "image %d: trial %d changes the detections" % (i, trial)


# ---------------------------------------------------------------------------
# ONNX

def export_onnx(net, path):
    torch.onnx.export(net, torch.zeros(1, 3, 320, 320), path, opset_version=OPSET,
                      input_names=["input"], output_names=["cls_logits", "bbox_regression"],
                      dynamic_axes={"input": {0: "N"}, "cls_logits": {0: "N"}, "bbox_regression": {0: "N"}},
                      do_constant_folding=True)
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
    calib = [load_rgb(os.path.join(calib_dir, f)) for f in sorted(os.listdir(calib_dir))]
    images = [load_rgb(os.path.join(args.images, "eval", f)) for f in EVAL_IMAGES]
    print("calibration images: %d" % len(calib))
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(SEED)
    model = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=CLASSES, width_mult=WIDTH)
    net = Net(model)
    init_bn(model, SEED + 1)
    xc = transformed(model, calib).tensors
    xf = transformed(model, [im.flip(-1) for im in calib]).tensors
    vmin, vmax = calibrate_bn(net, [xc, xf])
    print("BN running_var range [%.3g, %.3g]" % (vmin, vmax))
    shape_head(model, xc)

    il = transformed(model, images)
    x = il.tensors
    assert x.shape == (len(images), 3, 320, 320), x.shape
    with torch.no_grad():
        feats = list(model.backbone(x).values())
        cls, reg = net(x)
        dets = detections(model, cls, reg, il, feats)
        check_stable(model, cls, reg, il, feats, dets)
    maps = [list(f.shape[2:]) for f in feats]
    assert cls.shape == (len(images), 3234, CLASSES) and reg.shape == (len(images), 3234, 4), (cls.shape, reg.shape)
    assert torch.isfinite(cls).all() and torch.isfinite(reg).all()
    print("feature maps %s; cls_logits std %.3f max|.| %.3f; bbox_regression std %.3f max|.| %.3f" % (
        maps, cls.std().item(), cls.abs().max().item(), reg.std().item(), reg.abs().max().item()))
    for name, d in zip(EVAL_IMAGES, dets):
        print("  %-14s %3d detections, labels %s, scores %.4g..%.4g" % (
            name, len(d["labels"]), sorted(set(d["labels"].tolist())), d["scores"].max(), d["scores"].min()))
    print("stable under %d perturbations of %g of max |output|" % (PERTURB_TRIALS, PERTURB))

    files = collections.OrderedDict()
    p = lambda f: os.path.join(args.out, f)
    files["pth"] = NAME + ".pth"
    sd = model.state_dict()
    torch.save(sd, p(files["pth"]))
    sd2 = torch.load(p(files["pth"]))
    assert list(sd2) == list(sd) and all(torch.equal(sd2[k], sd[k]) for k in sd)
    files["input"] = NAME + ".input.npy"
    files["cls_logits"] = NAME + ".cls_logits.npy"
    files["bbox_regression"] = NAME + ".bbox_regression.npy"
    np.save(p(files["input"]), x.numpy().astype(np.float32))
    np.save(p(files["cls_logits"]), cls.numpy().astype(np.float32))
    np.save(p(files["bbox_regression"]), reg.numpy().astype(np.float32))

    files["detections"] = NAME + ".detections.json"
    params = collections.OrderedDict([("score_thresh", model.score_thresh), ("nms_thresh", model.nms_thresh),
                                      ("detections_per_img", model.detections_per_img),
                                      ("topk_candidates", model.topk_candidates)])
    out = collections.OrderedDict([
        ("comment", "SSD.postprocess_detections of ssdlite.cls_logits.npy and ssdlite.bbox_regression.npy, "
                    "in the 320x320 frame of ssdlite.input.npy; float32 values written exactly"),
        ("params", params), ("image_size", [320, 320]), ("feature_maps", maps),
        ("images", [collections.OrderedDict([
            ("image", name),
            ("boxes", [[float(v) for v in b] for b in d["boxes"].tolist()]),
            ("scores", [float(v) for v in d["scores"].tolist()]),
            ("labels", d["labels"].tolist()),
        ]) for name, d in zip(EVAL_IMAGES, dets)]),
    ])
    with open(p(files["detections"]), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")

    files["onnx"] = NAME + ".onnx"
    m, ops = export_onnx(net, p(files["onnx"]))
    ys = MiniOnnx(m).run_all(x.numpy())
    onnx_diff = [float(np.abs(y - t.numpy()).max()) for y, t in zip(ys, (cls, reg))]
    print("%s ops %s" % (files["onnx"], ops))
    print("%s max|onnx - torch| = %.3g, %.3g (numpy float64)" % (files["onnx"], *onnx_diff))
    for d, t in zip(onnx_diff, (cls, reg)):
        assert d < 1e-4 * max(1.0, float(t.abs().max())), d

    manifest = collections.OrderedDict([
        ("name", NAME), ("arch", ARCH), ("width", WIDTH), ("classes", CLASSES), ("reduced_tail", True),
        ("resolution", 320), ("seed", SEED), ("opset", OPSET),
        ("files", files),
        ("input_shape", list(x.shape)), ("cls_logits_shape", list(cls.shape)),
        ("bbox_regression_shape", list(reg.shape)), ("feature_maps", maps),
        ("cls_logits_max_abs", float(cls.abs().max())), ("bbox_regression_max_abs", float(reg.abs().max())),
        ("detections", [len(d["labels"]) for d in dets]),
        ("eval_images", EVAL_IMAGES),
        ("head", collections.OrderedDict([("cls_std", CLS_STD), ("reg_std", REG_STD),
                                          ("background_bias", BACKGROUND_BIAS)])),
        ("stability", collections.OrderedDict([("trials", PERTURB_TRIALS), ("relative_noise", PERTURB)])),
        ("onnx_ops", ops),
        ("onnx_max_abs_diff", onnx_diff),
        ("versions", versions),
        ("sha256", collections.OrderedDict((k, sha256(p(f))) for k, f in files.items())),
    ])
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
