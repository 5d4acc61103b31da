#!/usr/bin/python3
"""Generate torchvision_keys.json, the PyTorch side of mobilenet's cross-check.

Run from anywhere (needs Debian's python3-torch and python3-torchvision, no
network):

    /usr/bin/python3 frontend/mobilenet/testdata/gen_keys.py

For each config in CONFIGS it builds the PyTorch model (torchvision's
mobilenet_v2 / mobilenet_v3_large / mobilenet_v3_small, the segmentation
models lraspp_mobilenet_v3_large / deeplabv3_mobilenet_v3_large (at another
width or reduced_tail through the builders' own _lraspp_mobilenetv3 /
_deeplabv3_mobilenetv3 on mobilenet_v3_large(dilated=True)), the detector
ssdlite320_mobilenet_v3_large (by its builder's code, to choose
reduced_tail, which the builder ties to weights_backbone; only its backbone
and head, the network SSD.forward runs on the transformed images), or the team's
MobileNetV1 below, identical to testdata/gen/make_golden.py's), runs one
forward pass of a [1,3,R,R] input with hooks on every module and records:

  state_dict  [[key, shape], ...] in state_dict order (num_batches_tracked too)
  params      sum of parameter sizes (torchvision's num_params)
  macs        multiply-accumulates of Conv2d and Linear for one image
  modules     [[path, type, output shape without batch, attrs], ...] for every
              named module (containers too), attrs holding the Conv2d
              geometry, BatchNorm eps and Dropout p

The Go test (torchvision_test.go) builds the same configs and compares keys,
shapes, key order, node types, attributes, output shapes and the counts. The
output is deterministic; CI never runs this script, its output is committed.
"""

import json
import os

import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = [
    dict(arch="mobilenet_v1", width=1.0, classes=1000, reduced_tail=False, resolution=224),
    dict(arch="mobilenet_v1", width=0.25, classes=10, reduced_tail=False, resolution=97),
    dict(arch="mobilenet_v2", width=1.0, classes=1000, reduced_tail=False, resolution=224),
    dict(arch="mobilenet_v2", width=0.35, classes=10, reduced_tail=False, resolution=97),
    dict(arch="mobilenet_v2", width=1.4, classes=7, reduced_tail=False, resolution=80),
    dict(arch="mobilenet_v3_large", width=1.0, classes=1000, reduced_tail=False, resolution=224),
    dict(arch="mobilenet_v3_large", width=0.75, classes=100, reduced_tail=True, resolution=72),
    dict(arch="mobilenet_v3_large", width=0.1, classes=16, reduced_tail=False, resolution=64),
    dict(arch="mobilenet_v3_small", width=1.0, classes=1000, reduced_tail=False, resolution=224),
    dict(arch="mobilenet_v3_small", width=0.5, classes=10, reduced_tail=True, resolution=97),
    dict(arch="mobilenet_v3_small", width=1.25, classes=5, reduced_tail=False, resolution=33),
    dict(arch="lraspp_mobilenet_v3_large", width=1.0, classes=21, reduced_tail=False, resolution=224),
    dict(arch="lraspp_mobilenet_v3_large", width=0.5, classes=5, reduced_tail=True, resolution=100),
    dict(arch="deeplabv3_mobilenet_v3_large", width=1.0, classes=21, reduced_tail=False, resolution=224),
    dict(arch="deeplabv3_mobilenet_v3_large", width=0.35, classes=3, reduced_tail=False, resolution=97),
    dict(arch="ssdlite320_mobilenet_v3_large", width=1.0, classes=91, reduced_tail=True, resolution=320),
    dict(arch="ssdlite320_mobilenet_v3_large", width=1.0, classes=91, reduced_tail=False, resolution=320),
    dict(arch="ssdlite320_mobilenet_v3_large", width=0.5, classes=21, reduced_tail=True, resolution=320),
    dict(arch="ssdlite320_mobilenet_v3_large", width=0.75, classes=5, reduced_tail=False, resolution=200),
]


def _make_divisible(v, divisor=8, min_value=None):  # torchvision's rule
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class MobileNetV1(nn.Module):
    # Same as testdata/gen/make_golden.py.
    cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
           (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, width_mult=1.0, num_classes=1000, dropout=0.2):
        super().__init__()
        c = lambda x: _make_divisible(x * width_mult, 8)
        layers = [nn.Sequential(nn.Conv2d(3, c(32), 3, 2, 1, bias=False), nn.BatchNorm2d(c(32)), nn.ReLU(inplace=True))]
        inp = c(32)
        for out, s in self.cfg:
            out = c(out)
            layers.append(nn.Sequential(
                nn.Conv2d(inp, inp, 3, s, 1, groups=inp, bias=False), nn.BatchNorm2d(inp), nn.ReLU(inplace=True),
                nn.Conv2d(inp, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)))
            inp = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(inp, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def build_ssdlite(w, k, reduced_tail):
    """ssdlite320_mobilenet_v3_large(weights=None, num_classes=k, width_mult=w)
    with reduced_tail chosen: the builder's own code (detection/ssdlite.py),
    which sets reduce_tail = weights_backbone is None; at reduced_tail=True
    it is the public builder with weights_backbone=None (checked)."""
    from functools import partial
    from torchvision.models.detection import ssdlite, ssd
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
    norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
    backbone = torchvision.models.mobilenet_v3_large(weights=None, norm_layer=norm_layer, reduced_tail=reduced_tail,
                                                     width_mult=w)
    ssdlite._normal_init(backbone)
    backbone = ssdlite._mobilenet_extractor(backbone, 6, norm_layer)
    size = (320, 320)
    anchor_generator = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    out_channels = det_utils.retrieve_out_channels(backbone, size)
    num_anchors = anchor_generator.num_anchors_per_location()
    model = ssd.SSD(backbone, anchor_generator, size, k,
                    head=ssdlite.SSDLiteHead(out_channels, num_anchors, k, norm_layer),
                    score_thresh=0.001, nms_thresh=0.55, detections_per_img=300, topk_candidates=300,
                    image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
    if reduced_tail:
        theirs = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=k, width_mult=w)
        assert repr(model) == repr(theirs)
        a, b = model.state_dict(), theirs.state_dict()
        assert list(a) == list(b) and all(a[x].shape == b[x].shape for x in a)
    return model


class DetNet(nn.Module):
    """The network part of an SSD: backbone and head, as SSD.forward runs
    them on the transformed images."""

    def __init__(self, model):
        super().__init__()
        self.backbone, self.head = model.backbone, model.head

    def forward(self, x):
        return self.head(list(self.backbone(x).values()))


def build(cfg):
    arch, w, k = cfg["arch"], cfg["width"], cfg["classes"]
    tvm = torchvision.models
    seg = tvm.segmentation
    if arch == "ssdlite320_mobilenet_v3_large":
        return DetNet(build_ssdlite(w, k, cfg["reduced_tail"]))
    if arch in ("lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"):
        if w == 1.0 and not cfg["reduced_tail"]:  # torchvision's own builder (no width or reduced_tail argument)
            return getattr(seg, arch)(weights=None, weights_backbone=None, num_classes=k)
        # the builders' own code (segmentation/lraspp.py, deeplabv3.py) on a scaled dilated backbone
        backbone = tvm.mobilenet_v3_large(weights=None, width_mult=w, reduced_tail=cfg["reduced_tail"], dilated=True)
        if arch.startswith("lraspp"):
            return seg.lraspp._lraspp_mobilenetv3(backbone, k)
        return seg.deeplabv3._deeplabv3_mobilenetv3(backbone, k, False)
    if arch == "mobilenet_v1":
        return MobileNetV1(width_mult=w, num_classes=k)
    if arch == "mobilenet_v2":
        return tvm.mobilenet_v2(weights=None, width_mult=w, num_classes=k)
    fn = getattr(tvm, arch)
    return fn(weights=None, width_mult=w, num_classes=k, reduced_tail=cfg["reduced_tail"])


def attrs(m):
    if isinstance(m, nn.Conv2d):
        return dict(stride=list(m.stride), padding=list(m.padding), dilation=list(m.dilation),
                    groups=m.groups, bias=m.bias is not None)
    if isinstance(m, nn.BatchNorm2d):
        return dict(eps=m.eps)
    if isinstance(m, nn.Dropout):
        return dict(p=m.p)
    return {}


def main():
    torch.manual_seed(0)
    out = []
    for cfg in CONFIGS:
        model = build(cfg).eval()
        rec = {}
        macs = [0]

        def hook(name):
            def f(m, inp, o):
                if isinstance(o, torch.Tensor):  # not IntermediateLayerGetter's dict
                    rec[name] = list(o.shape[1:])
                if isinstance(m, nn.Conv2d):
                    kh, kw = m.kernel_size
                    macs[0] += o.numel() * (m.in_channels // m.groups) * kh * kw
                elif isinstance(m, nn.Linear):
                    macs[0] += m.in_features * m.out_features
            return f

        for name, m in model.named_modules():
            if name:
                m.register_forward_hook(hook(name))
        with torch.no_grad():
            model(torch.zeros(1, 3, cfg["resolution"], cfg["resolution"]))
        modules = [[n, type(m).__name__, rec.get(n), attrs(m)] for n, m in model.named_modules() if n]
        out.append(dict(
            config=cfg,
            params=sum(p.numel() for p in model.parameters()),
            macs=macs[0],
            state_dict=[[k, list(v.shape)] for k, v in model.state_dict().items()],
            modules=modules,
        ))
    path = os.path.join(HERE, "torchvision_keys.json")
    with open(path, "w") as f:
        f.write("{\n \"torch\": %s,\n \"torchvision\": %s,\n \"models\": [\n" %
                (json.dumps(torch.__version__), json.dumps(torchvision.__version__)))
        for i, e in enumerate(out):
            f.write("  {\n   \"config\": %s,\n   \"params\": %d,\n   \"macs\": %d,\n" %
                    (json.dumps(e["config"]), e["params"], e["macs"]))
            f.write("   \"state_dict\": [\n" + ",\n".join("    " + json.dumps(x) for x in e["state_dict"]) + "\n   ],\n")
            f.write("   \"modules\": [\n" + ",\n".join("    " + json.dumps(x) for x in e["modules"]) + "\n   ]\n")
            f.write("  }" + ("," if i + 1 < len(out) else "") + "\n")
        f.write(" ]\n}\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
