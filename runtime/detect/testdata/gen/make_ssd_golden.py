#!/usr/bin/python3
"""Golden cases for runtime/detect from torchvision's own SSD code.

Writes ../ssd_golden.json: the default boxes of ssdlite320_mobilenet_v3_large
for its six 320x320 feature maps, and post-processing cases, each
pseudo-random class logits and box regressions run through torchvision's
SSD.postprocess_detections (softmax, BoxCoder decoding, clipping, per-class
threshold and topk, batched_nms, detections_per_img) with the SSDLite320
settings or the case's own, and the boxes as GeneralizedRCNNTransform's
resize_boxes scales them to a 480x641 original image (for the "-0" and
"coco" cases). Float arrays are base64 of little-endian float32.

The inputs are not stored: they come from splitmix64 (seeded per case) with
exact dyadic float64 arithmetic (see rand_inputs), which golden_test.go
repeats bit for bit, so the file holds only torchvision's outputs.

Cases: "random" (normal logits and regressions), "ties" (integer logits, so
many exactly equal scores, and zero regressions on every other anchor, so
boxes equal to heavily overlapping anchors), "wide" (large regressions that
hit bbox_xform_clip and the image border). "exp" holds torch.exp
of 4009 float32 values (SLEEF's, not a correctly rounded exp); "softmax" holds
F.softmax(dim=-1) of 64 random rows for several class counts (the lane
structure of PyTorch's kernel depends on it). Small ones take batched_nms's
coordinate-trick route (<= 1000 candidates), large ones its per-class route.

Run with torch 1.13 / torchvision 0.14 on an x86-64 CPU with AVX2 (the
golden exp and softmax bits are those of PyTorch's AVX2 kernels):
    /usr/bin/python3 make_ssd_golden.py
"""
import base64, json, os, types
import numpy as np
import torch
import torchvision
from torchvision.models.detection import ssd as ssdmod
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList

torch.set_num_threads(1)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


def anchors_for(fmaps, size=(320, 320)):
    gen = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    images = ImageList(torch.zeros(1, 3, *size), [size])
    feats = [torch.zeros(1, 1, h, w) for h, w in fmaps]
    return gen(images, feats)[0]


def fake_ssd():
    return types.SimpleNamespace(
        box_coder=det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0)),
        score_thresh=0.001, nms_thresh=0.55, detections_per_img=300, topk_candidates=300)


M64 = (1 << 64) - 1


class SplitMix:
    def __init__(self, seed):
        self.x = seed & M64

    def next(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & M64
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(self):  # k / 2^24, exact
        return (self.next() >> 40) / 16777216.0

    def normal(self):  # Irwin-Hall(4) - 2, times sqrt(3): mean 0, sd 1; exact until the float32 rounding
        return (self.uniform() + self.uniform() + self.uniform() + self.uniform() - 2.0) * 1.7320508075688772


def rand_inputs(kind, n, classes, seed):
    """Logits [n, classes] and regressions [n, 4], float32, in this order."""
    r = SplitMix(seed)
    logits = np.zeros((n, classes), np.float32)
    rel = np.zeros((n, 4), np.float32)
    for i in range(n):
        for c in range(classes):
            if kind == "ties":
                logits[i, c] = np.float32(float(r.next() % 7) - 3.0)
            else:
                logits[i, c] = np.float32(r.normal() * (3.0 if kind == "wide" else 2.0))
        for k in range(4):
            v = r.normal() * (30.0 if kind == "wide" else 1.0)
            rel[i, k] = np.float32(0.0 if kind == "ties" and i % 2 == 0 else v)
    return torch.from_numpy(logits), torch.from_numpy(rel)


def case(name, fmaps, classes, seed, kind, params=None):
    anchors = anchors_for(fmaps)
    n = anchors.shape[0]
    logits, rel = rand_inputs(kind, n, classes, seed)
    ssd = fake_ssd()
    if params:
        ssd.score_thresh, ssd.nms_thresh, ssd.detections_per_img, ssd.topk_candidates = params
    out = ssdmod.SSD.postprocess_detections(
        ssd, {"bbox_regression": rel[None], "cls_logits": logits[None]}, [anchors], [(320, 320)])[0]
    ncand = int((torch.softmax(logits, -1)[:, 1:] > ssd.score_thresh).sum(0).clamp(max=ssd.topk_candidates).sum())
    from torchvision.models.detection.transform import resize_boxes
    rescaled = resize_boxes(out["boxes"], (320, 320), (480, 641))
    return {
        "rescaled_480x641": b64(rescaled.numpy()) if name.endswith("-0") or name.startswith("coco") else "",
        "name": name, "kind": kind, "seed": seed, "feature_maps": fmaps, "classes": classes,
        "params": [ssd.score_thresh, ssd.nms_thresh, ssd.detections_per_img, ssd.topk_candidates],
        "candidates": ncand, "logits_check": b64(logits[-1].numpy()),
        "boxes": b64(out["boxes"].numpy()), "scores": b64(out["scores"].numpy()),
        "labels": out["labels"].tolist(),
    }


def main():
    full = [[20, 20], [10, 10], [5, 5], [3, 3], [2, 2], [1, 1]]
    small = [[5, 5], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]]
    mid = [[10, 10], [5, 5], [3, 3], [2, 2], [1, 1], [1, 1]]
    cases = []
    for s in range(3):
        cases.append(case(f"random-small-{s}", small, 5, 100 + s, "random"))
        cases.append(case(f"ties-small-{s}", small, 5, 200 + s, "ties"))
        cases.append(case(f"wide-small-{s}", small, 5, 300 + s, "wide"))
        cases.append(case(f"random-mid-{s}", mid, 8, 400 + s, "random"))
        cases.append(case(f"ties-mid-{s}", mid, 8, 500 + s, "ties"))
        cases.append(case(f"strict-small-{s}", small, 5, 600 + s, "ties", (0.3, 0.3, 50, 20)))
    cases.append(case("coco-full", full, 91, 700, "random"))
    cases.append(case("coco-full-ties", full, 91, 701, "ties"))
    sm = []
    g = torch.Generator().manual_seed(7)
    for c in (1, 3, 8, 13, 21, 91):
        x = torch.randn(64, c, generator=g) * 4
        sm.append({"classes": c, "logits": b64(x.numpy()), "softmax": b64(torch.softmax(x, -1).numpy())})
    ex = torch.cat([torch.rand(3000, generator=g) * 30 - 20, torch.randn(1000, generator=g) * 0.01,
                    torch.tensor([0.0, -0.0, 88.0, 100.0, 100.5, -103.9, -104.5, float("inf"), float("-inf")])])
    out = {
        "exp": {"x": b64(ex.numpy()), "exp": b64(torch.exp(ex).numpy())},
        "softmax": sm,
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "anchors": {"feature_maps": full, "image": [320, 320], "boxes": b64(anchors_for(full).numpy())},
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ssd_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(path, len(cases), "cases", [(c["name"], c["candidates"], len(c["labels"])) for c in cases])


if __name__ == "__main__":
    main()
