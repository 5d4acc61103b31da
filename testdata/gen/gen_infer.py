#!/usr/bin/python3
"""Generate testdata/infer/: checkpoints that mnc loads without --arch.

How to run (from the repository root; needs Debian's python3-torch,
python3-torchvision, python3-numpy; no network, no images):

    /usr/bin/python3 testdata/gen/gen_infer.py [--out DIR] [--full]

--out defaults to testdata/infer next to this script's folder.  --full also
writes the full-width models that are not committed (see FULL below), e.g.
for a local check with MNC_INFER_DIR=DIR go test ./frontend -run Infer.

CI never runs this script; its outputs are committed.  It is deterministic
(fixed seeds, one thread, deterministic algorithms).

The Go test (frontend, TestInferGolden) loads every checkpoint of the
manifest twice, once with no architecture flags (the architecture, width,
classes, reduced tail and MobileNetV2 variant inferred from the tensor names
and shapes) and once with the manifest's flags, and compares the reference
interpreter's logits with PyTorch's.

Models (all at resolution 64 with 10 classes: small files, and both still
inferable from the shapes; the weights are float32, since the parity bound is
1e-4):

  v2a_0.35 ... v2a_0.75  MobileNetV2 as in the Keras/TF-slim lineage of the
                         article this project started from: torchvision's
                         MobileNetV2 except that the last 1x1 conv has
                         _make_divisible(1280 * alpha, 8) channels for every
                         alpha (torchvision keeps 1280 for alpha <= 1), so
                         also classifier.1's input.
  v3l_0.35, v3l_0.35_rt  torchvision's mobilenet_v3_large, without and with
                         reduced_tail
  v3s_0.5, v3s_0.5_rt    torchvision's mobilenet_v3_small, without and with
                         reduced_tail (v3s_0.5_rt is written as
                         .safetensors, the others as .pth)

Weights: torchvision's seeded default init, BatchNorm weights from
U(0.5, 1.5) and biases from N(0, 0.2), then BatchNorm statistics from
BN_BATCHES forward passes in train mode (momentum=None: cumulative average)
on random N(0, 1) batches, then eval mode: every BatchNorm has non-trivial
mean, variance, scale and shift.

Each model's NAME.logits.npy holds PyTorch's eval-mode logits for input.npy,
one fixed float32 [2,3,64,64] N(0, 1) tensor shared by all models.

FULL (not committed, --full only): v2a_1.0 (9.1 MB: at alpha 1.0 the
alpha-scaled network is torchvision's own mobilenet_v2, which ../shared's
mobilenet_v2_1.0_224_tv.pth already covers with real weights) and v3l_1.0
(17 MB).  The committed files total 15.3 MB (the budget was ~15 MB): the
three alpha-scaled V2 take 9.3 MB, so the V3 models are the smallest widths
that still exercise width inference and the reduced tail.
"""

import argparse
import collections
import hashlib
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models.mobilenetv2 import _make_divisible
from torchvision.ops.misc import Conv2dNormActivation

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "infer"))

RES = 64
CLASSES = 10
BN_BATCHES = 4
BN_BATCH = 8

MODELS = [
    dict(name="v2a_0.35", arch="mobilenet_v2", width=0.35, reduced_tail=False, alpha_scaled=True, seed=2001),
    dict(name="v2a_0.5", arch="mobilenet_v2", width=0.5, reduced_tail=False, alpha_scaled=True, seed=2002),
    dict(name="v2a_0.75", arch="mobilenet_v2", width=0.75, reduced_tail=False, alpha_scaled=True, seed=2003),
    dict(name="v3l_0.35", arch="mobilenet_v3_large", width=0.35, reduced_tail=False, seed=2011),
    dict(name="v3l_0.35_rt", arch="mobilenet_v3_large", width=0.35, reduced_tail=True, seed=2012),
    dict(name="v3s_0.5", arch="mobilenet_v3_small", width=0.5, reduced_tail=False, seed=2021),
    dict(name="v3s_0.5_rt", arch="mobilenet_v3_small", width=0.5, reduced_tail=True, seed=2022,
         format="safetensors"),
]
FULL = [
    dict(name="v2a_1.0", arch="mobilenet_v2", width=1.0, reduced_tail=False, alpha_scaled=True, seed=2004),
    dict(name="v3l_1.0", arch="mobilenet_v3_large", width=1.0, reduced_tail=False, seed=2013),
]


def build(spec):
    tvm = torchvision.models
    arch, w = spec["arch"], spec["width"]
    if arch == "mobilenet_v2":
        m = tvm.mobilenet_v2(weights=None, width_mult=w, num_classes=CLASSES)
        if spec.get("alpha_scaled"):
            # the article's rule: the last conv scales with alpha for every alpha
            last = _make_divisible(1280 * w, 8)
            inp = m.features[-1][0].in_channels
            m.features[-1] = Conv2dNormActivation(inp, last, kernel_size=1, norm_layer=nn.BatchNorm2d,
                                                  activation_layer=nn.ReLU6)
            m.classifier[1] = nn.Linear(last, CLASSES)
            # torchvision's init of the replaced modules
            nn.init.kaiming_normal_(m.features[-1][0].weight, mode="fan_out")
            nn.init.normal_(m.classifier[1].weight, 0, 0.01)
            nn.init.zeros_(m.classifier[1].bias)
        return m
    f = {"mobilenet_v3_large": tvm.mobilenet_v3_large, "mobilenet_v3_small": tvm.mobilenet_v3_small}[arch]
    return f(weights=None, width_mult=w, num_classes=CLASSES, reduced_tail=spec["reduced_tail"])


@torch.no_grad()
def make_weights(model, spec):
    g = torch.Generator().manual_seed(spec["seed"] * 7 + 1)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.weight.copy_(0.5 + torch.rand(m.num_features, generator=g))
        m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
    # classifier weights a little larger than torchvision's N(0, 0.01) so that
    # the logits spread
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.weight.normal_(0, 0.1, generator=g)
            m.bias.normal_(0, 0.1, generator=g)
    model.train()
    for _ in range(BN_BATCHES):
        model(torch.randn(BN_BATCH, 3, RES, RES, generator=g))
    model.eval()
    for m in bns:
        m.momentum = 0.1  # the module's default
    var = torch.cat([m.running_var for m in bns])
    mean = torch.cat([m.running_mean for m in bns])
    return dict(running_var=[var.min().item(), var.max().item()],
                running_mean_abs_max=mean.abs().max().item())


def write_safetensors(state_dict, path):  # as make_golden.py's
    dt = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}
    items = list(state_dict.items())
    items.sort(key=lambda kv: 0 if kv[1].dtype == torch.int64 else 1)
    header = collections.OrderedDict()
    header["__metadata__"] = {"format": "pt"}
    blobs, off = [], 0
    for name, t in items:
        code, npdt = dt[t.dtype]
        b = t.detach().cpu().contiguous().numpy().astype(npdt).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * (-len(hj) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--full", action="store_true", help="also the full-width models (not committed)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    versions = dict(python=sys.version.split()[0], torch=torch.__version__, torchvision=torchvision.__version__,
                    numpy=np.__version__)
    print("versions:", versions)
    os.makedirs(args.out, exist_ok=True)
    p = lambda f: os.path.join(args.out, f)

    x = torch.randn(2, 3, RES, RES, generator=torch.Generator().manual_seed(2000))
    np.save(p("input.npy"), x.numpy().astype(np.float32))

    manifest = []
    for spec in MODELS + (FULL if args.full else []):
        name = spec["name"]
        torch.manual_seed(spec["seed"])
        model = build(spec)
        stats = make_weights(model, spec)
        with torch.no_grad():
            logits = model(x)
        assert torch.isfinite(logits).all()
        sd = model.state_dict()
        last = sd["classifier.1.weight" if spec["arch"] == "mobilenet_v2" else "classifier.0.weight"].shape
        print("%-12s %s  last %s  logits std %.3f max|.| %.3f  BN var [%.3g, %.3g]" % (
            name, spec, list(last), logits.std().item(), logits.abs().max().item(), *stats["running_var"]))
        fmt = spec.get("format", "pth")
        files = collections.OrderedDict()
        if fmt == "safetensors":
            files["safetensors"] = name + ".safetensors"
            write_safetensors(sd, p(files["safetensors"]))
        else:
            files["pth"] = name + ".pth"
            torch.save(sd, p(files["pth"]))
        files["input"] = "input.npy"
        files["logits"] = name + ".logits.npy"
        np.save(p(files["logits"]), logits.numpy().astype(np.float32))
        manifest.append(collections.OrderedDict([
            ("name", name), ("arch", spec["arch"]), ("width", spec["width"]), ("resolution", RES),
            ("classes", CLASSES), ("reduced_tail", spec["reduced_tail"]),
            ("alpha_scaled", bool(spec.get("alpha_scaled", False))), ("seed", spec["seed"]),
            ("files", files), ("logit_max_abs", float(logits.abs().max())),
            ("params", int(sum(t.numel() for t in sd.values()))),
            ("bn_running_var", stats["running_var"]),
            ("sha256", collections.OrderedDict((k, sha256(p(f))) for k, f in files.items())),
        ]))

    with open(p("manifest.json"), "w") as f:
        json.dump(dict(versions=versions, models=manifest), f, indent=1)
        f.write("\n")
    total = 0
    for f in sorted(os.listdir(args.out)):
        sz = os.path.getsize(p(f))
        total += sz
        print("  %9d  %s" % (sz, f))
    print("total: %d bytes (%.2f MB)" % (total, total / 1e6))


if __name__ == "__main__":
    main()
