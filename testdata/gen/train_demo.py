#!/usr/bin/python3
"""Train the embedded demo model internal/demo/model/demo_v3s.pth.

The images come from the project's own Go generator (package internal/demo),
written as PNG files by `go run ./internal/demo/gendata`; this script never
draws an image itself. Three datasets with different seeds are generated into
a temporary directory:

    train  seed 1   --n-train images (default 10000)
    val    seed 2   --n-val images (default 2000), checked every epoch
    test   seed 3   --n-test images (default 2000), checked once at the end

(The Go accuracy test in internal/demo uses seed 4; `mnc demo` should use
other seeds still.)

The network is torchvision's mobilenet_v3_small(width_mult=0.35,
num_classes=10) at 96x96, the configuration of demo.ModelConfig. Images are
generated at 109x109 = int(96*256/224), and the input pipeline is exactly the
`torchvision` preset of runtime/preprocess: PIL bilinear Resize(109) (the
identity here), CenterCrop(96), ToTensor, Normalize(ImageNet mean/std). The
script checks its fast batched version of that pipeline against
torchvision.transforms on a few images. Training augments with random crops
within +-4 pixels of the center crop and random horizontal and vertical flips
(none of them changes a class).

Training: AdamW (lr 3e-3, weight decay 0.05, one warm-up epoch then cosine
decay to zero), BatchNorm momentum 0.1, batch 128, label smoothing 0.1 (keeps
the logits bounded, which helps the int8 conversion), --epochs epochs
(default 20). Afterwards the
BatchNorm running statistics are recomputed exactly (cumulative average over
the training images, center crops) so they match the final weights. The
script prints train/val accuracy per epoch, the final val and test accuracy,
and the largest absolute activations (per module type and the top layers) and
logits seen on the validation set.

Everything is seeded (torch.manual_seed(0), a numpy Generator for the
augmentation), but float reductions in multi-threaded CPU kernels can differ
in the last bits between machines, so a re-run is close to, not necessarily
byte-identical with, the committed checkpoint.

Run from the repository root with Debian's python3-torch and
python3-torchvision (and Go on PATH):

    /usr/bin/python3 testdata/gen/train_demo.py
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RES = 96
WIDTH = 0.35
RESIZE = int(RES * 256 / 224)  # torchvision preset's Resize size
IMAGE_SIZE = RESIZE  # generate at the resize size: the resize is the identity
CROP_TOP = int(round((IMAGE_SIZE - RES) / 2.0))  # torchvision CenterCrop offset
JITTER = 4  # random crop offsets CROP_TOP +- JITTER during training
MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float32).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float32).view(1, 3, 1, 1)

SEED_TRAIN, SEED_VAL, SEED_TEST = 1, 2, 3


def log(*a):
    print(*a, flush=True)


def generate(out, n, seed):
    subprocess.run(
        ["go", "run", "./internal/demo/gendata", "-out", out, "-n", str(n),
         "-seed", str(seed), "-size", str(IMAGE_SIZE)],
        cwd=ROOT, check=True)


def reference_transform():
    return transforms.Compose([
        transforms.Resize(RESIZE, interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.CenterCrop(RES),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])


def load(d):
    """Returns uint8 [N,3,RESIZE,RESIZE] (after the preset's resize) and labels."""
    with open(os.path.join(d, "labels.txt")) as f:
        classes = [l.strip() for l in f if l.strip()]
    files = sorted(p for p in os.listdir(d) if p.endswith(".png"))
    resize = transforms.Resize(RESIZE, interpolation=transforms.InterpolationMode.BILINEAR)
    xs = np.empty((len(files), 3, RESIZE, RESIZE), np.uint8)
    ys = np.empty(len(files), np.int64)
    for i, p in enumerate(files):
        img = resize(Image.open(os.path.join(d, p)).convert("RGB"))
        xs[i] = np.asarray(img, np.uint8).transpose(2, 0, 1)
        ys[i] = classes.index(p[:-4].split("_", 1)[1])
    return torch.from_numpy(xs), torch.from_numpy(ys), classes, files


def normalize(x):
    """ToTensor + Normalize on a uint8 batch, operation by operation."""
    return x.to(torch.float32).div(255).sub(MEAN).div(STD)


def center(x):
    return normalize(x[:, :, CROP_TOP:CROP_TOP + RES, CROP_TOP:CROP_TOP + RES])


def augment(x, rng):
    n = x.shape[0]
    out = torch.empty((n, 3, RES, RES), dtype=torch.uint8)
    oy = rng.integers(CROP_TOP - JITTER, CROP_TOP + JITTER + 1, n)
    ox = rng.integers(CROP_TOP - JITTER, CROP_TOP + JITTER + 1, n)
    hf = rng.random(n) < 0.5
    vf = rng.random(n) < 0.5
    for i in range(n):
        c = x[i, :, oy[i]:oy[i] + RES, ox[i]:ox[i] + RES]
        if hf[i]:
            c = c.flip(2)
        if vf[i]:
            c = c.flip(1)
        out[i] = c
    return normalize(out)


@torch.no_grad()
def evaluate(model, x, y, bs=500):
    model.eval()
    correct = 0
    for i in range(0, len(x), bs):
        correct += (model(center(x[i:i + bs])).argmax(1) == y[i:i + bs]).sum().item()
    return 100.0 * correct / len(x)


@torch.no_grad()
def recalibrate_bn(model, x, bs=500):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average
    model.train()
    for i in range(0, len(x), bs):
        model(center(x[i:i + bs]))
    model.eval()


@torch.no_grad()
def activation_ranges(model, x, bs=500):
    """Max |output| per leaf module over x (eval mode)."""
    ranges = {}
    hooks = []
    for name, m in model.named_modules():
        if len(list(m.children())) == 0 and not isinstance(m, nn.Dropout):
            def hook(mod, inp, out, name=name):
                ranges[name] = max(ranges.get(name, 0.0), out.abs().max().item())
            hooks.append(m.register_forward_hook(hook))
    model.eval()
    logit_max = 0.0
    for i in range(0, len(x), bs):
        logit_max = max(logit_max, model(center(x[i:i + bs])).abs().max().item())
    for h in hooks:
        h.remove()
    return ranges, logit_max


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "internal/demo/model/demo_v3s.pth"))
    ap.add_argument("--data", help="dataset directory (kept); default: a temporary directory")
    ap.add_argument("--n-train", type=int, default=10000)
    ap.add_argument("--n-val", type=int, default=2000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    t_start = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    log(f"python {sys.version.split()[0]}, torch {torch.__version__}, torchvision {torchvision.__version__}")

    tmp = None
    data = args.data
    if data is None:
        tmp = tempfile.TemporaryDirectory(prefix="mnc-demo-")
        data = tmp.name
    sets = {}
    for name, n, seed in (("train", args.n_train, SEED_TRAIN), ("val", args.n_val, SEED_VAL),
                          ("test", args.n_test, SEED_TEST)):
        d = os.path.join(data, name)
        t = time.time()
        generate(d, n, seed)
        sets[name] = load(d)
        log(f"{name}: {n} images, seed {seed}, {IMAGE_SIZE}x{IMAGE_SIZE}, {time.time() - t:.1f} s")
    xtr, ytr, classes, _ = sets["train"]
    xva, yva, _, _ = sets["val"]
    xte, yte, _, _ = sets["test"]

    # The batched pipeline must equal torchvision's transforms exactly.
    ref = reference_transform()
    vdir = os.path.join(data, "val")
    files = sets["val"][3]
    for i in range(8):
        want = ref(Image.open(os.path.join(vdir, files[i])).convert("RGB"))
        got = center(xva[i:i + 1])[0]
        assert torch.equal(want, got), f"preprocessing differs from torchvision on {files[i]}"
    if tmp is not None:
        tmp.cleanup()

    model = torchvision.models.mobilenet_v3_small(width_mult=WIDTH, num_classes=len(classes))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1  # torchvision's V3 uses 0.01: too slow for a short run
    nparams = sum(p.numel() for p in model.state_dict().values())
    log(f"mobilenet_v3_small width {WIDTH}, {len(classes)} classes, {RES}x{RES}: {nparams} parameters and buffers")

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    steps_per_epoch = math.ceil(len(xtr) / args.batch)
    total = args.epochs * steps_per_epoch
    warm = steps_per_epoch

    def lr_at(step):
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(0)
    step = 0
    for epoch in range(args.epochs):
        t = time.time()
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        correct = 0
        loss_sum = 0.0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = augment(xtr[idx], rng), ytr[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        va = evaluate(model, xva, yva)
        log(f"epoch {epoch + 1:2d}/{args.epochs}  loss {loss_sum / len(xtr):.4f}  "
            f"train {100.0 * correct / len(xtr):6.2f}%  val {va:6.2f}%  {time.time() - t:.0f} s")

    recalibrate_bn(model, xtr)
    tr, va, te = evaluate(model, xtr, ytr), evaluate(model, xva, yva), evaluate(model, xte, yte)
    log(f"final (BN statistics recomputed): train {tr:.2f}%  val {va:.2f}%  test {te:.2f}%")

    # Per-class test accuracy, to spot a weak class.
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(center(xte[i:i + 500])).argmax(1) for i in range(0, len(xte), 500)])
    per = ["%s %.1f" % (c, 100.0 * ((pred == k) & (yte == k)).sum().item() / max(1, (yte == k).sum().item()))
           for k, c in enumerate(classes)]
    log("test per class: " + ", ".join(per))

    ranges, logit_max = activation_ranges(model, xva)
    by_type = {}
    for name, m in model.named_modules():
        if name in ranges:
            k = type(m).__name__
            by_type[k] = max(by_type.get(k, 0.0), ranges[name])
    log("max |output| by module type (val set): " +
        ", ".join(f"{k} {v:.2f}" for k, v in sorted(by_type.items())))
    top = sorted(ranges.items(), key=lambda kv: -kv[1])[:5]
    log("largest: " + ", ".join(f"{k} {v:.2f}" for k, v in top))
    log(f"max |logit| (val set): {logit_max:.2f}")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.save(model.state_dict(), args.out)
    log(f"wrote {args.out} ({os.path.getsize(args.out)} bytes); total time {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
