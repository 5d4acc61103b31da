#!/usr/bin/python3
"""Reference AP@0.5 and mIoU cases for runtime/detect's evaluation helpers.

Writes ../eval/: gt/NNN.txt and det/NNN.txt box files (the format of
boxfile.go) for 24 random images of 3 classes (detections are jittered
ground truths, duplicates and random boxes; scores on a coarse grid, so
there are ties), masks.json (random masks with void 255 regions), and
expected.json with this script's own results: VOC AP@0.5 per class by an
independent port of the VOC devkit's voc_eval/voc_ap (use_07_metric=False,
no difficult flags, continuous coordinates without the devkit's +1, IoU
strictly > 0.5, ties in score kept in image then file order by a stable
sort) and per-class IoU / mIoU from a bincount confusion matrix as
torchvision's references/segmentation/utils.py ConfusionMatrix, mean over
the classes present (np.nanmean).

    /usr/bin/python3 make_eval_golden.py
"""
import json, os
import numpy as np

rng = np.random.default_rng(18)
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "eval")
os.makedirs(os.path.join(out, "gt"), exist_ok=True)
os.makedirs(os.path.join(out, "det"), exist_ok=True)
classes = ["cat", "dog", "7"]


def rbox():
    x0, y0 = rng.uniform(0, 200, 2)
    w, h = rng.uniform(5, 80, 2)
    return [round(float(v), 3) for v in (x0, y0, x0 + w, y0 + h)]


def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


images = []
for i in range(24):
    gts = [(classes[rng.integers(3)], rbox()) for _ in range(rng.integers(0, 5))]
    dets = []
    for c, b in gts:
        for _ in range(rng.integers(0, 3)):  # 0, 1 or 2 (a duplicate) detections
            j = [round(float(v + rng.normal(0, 4)), 3) for v in b]
            j = [min(j[0], j[2]), min(j[1], j[3]), max(j[0], j[2]), max(j[1], j[3])]
            c2 = c if rng.random() < 0.85 else classes[rng.integers(3)]
            dets.append((c2, j, round(float(rng.integers(1, 20)) / 20, 2)))
    for _ in range(rng.integers(0, 3)):
        dets.append((classes[rng.integers(3)], rbox(), round(float(rng.integers(1, 20)) / 20, 2)))
    images.append((gts, dets))
    with open(os.path.join(out, "gt", f"{i:03d}.txt"), "w") as f:
        f.write("# ground truth: class x0 y0 x1 y1\n")
        for c, b in gts:
            f.write(f"{c} {b[0]} {b[1]} {b[2]} {b[3]}\n")
    with open(os.path.join(out, "det", f"{i:03d}.txt"), "w") as f:
        for c, b, s in dets:
            f.write(f"{c}\t{b[0]} {b[1]} {b[2]} {b[3]} {s}\n")


def voc_ap(rec, prec):
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


ap = {}
for c in sorted(classes):
    npos = sum(1 for g, _ in images for gc, _ in g if gc == c)
    if npos == 0:
        continue
    D = [(k, b, s) for k, (_, d) in enumerate(images) for dc, b, s in d if dc == c]
    order = np.argsort(-np.array([s for _, _, s in D], dtype=float), kind="stable")
    used = set()
    tp = np.zeros(len(D))
    fp = np.zeros(len(D))
    for n, o in enumerate(order):
        k, b, _ = D[o]
        R = [(gi, gb) for gi, (gc, gb) in enumerate(images[k][0]) if gc == c]
        best, bi = -1.0, -1
        for gi, gb in R:
            v = iou(b, gb)
            if v > best:
                best, bi = v, gi
        if best > 0.5 and (k, bi) not in used:
            used.add((k, bi))
            tp[n] = 1
        else:
            fp[n] = 1
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec = tp / npos
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    ap[c] = voc_ap(rec, prec)

n = 6
masks = []
conf = np.zeros((n, n), dtype=np.int64)
for _ in range(3):
    t = rng.integers(0, n - 1, (12, 16))  # class 5 never in the truth
    t[rng.random((12, 16)) < 0.15] = 255
    p = np.where(rng.random((12, 16)) < 0.6, np.where(t == 255, 0, t), rng.integers(0, n - 2, (12, 16)))
    masks.append({"truth": t.flatten().tolist(), "pred": p.flatten().tolist()})
    k = (t >= 0) & (t < n)
    conf += np.bincount(n * t[k].astype(int) + p[k], minlength=n * n).reshape(n, n)
with np.errstate(invalid="ignore", divide="ignore"):
    iu = np.diag(conf) / (conf.sum(1) + conf.sum(0) - np.diag(conf))
expected = {"ap": ap, "map": float(np.mean(list(ap.values()))), "classes": n,
            "iou": [None if np.isnan(v) else float(v) for v in iu], "miou": float(np.nanmean(iu))}
with open(os.path.join(out, "masks.json"), "w") as f:
    json.dump(masks, f, separators=(",", ":"))
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(expected)
