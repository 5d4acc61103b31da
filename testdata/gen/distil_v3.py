#!/usr/bin/python3
"""Distil trained-like MobileNetV3 test models from the real ImageNet MobileNetV2.

Random-init V3 networks are not representative for int8 work (their activations
and logits look nothing like a trained network's). This script makes small V3
checkpoints that behave like trained ones by distilling the real ImageNet
MobileNetV2 of ../shared/models (mobilenet_v2_1.0_224_tv.pth, torchvision layout,
1001 classes, TF preprocessing x/127.5 - 1) into torchvision students:

    v3s_1.0_160.pth  mobilenet_v3_small(width_mult=1.0, num_classes=1001), 160x160 input
    v3l_0.5_160.pth  mobilenet_v3_large(width_mult=0.5, num_classes=1001), 160x160 input

Data: only the calibration images (--images/calib, never eval/). A pool of
--pool augmented views is drawn once: RandomResizedCrop parameters
(scale 0.15-1, ratio 3/4-4/3; every 8th view is the whole image), horizontal
flip with p=0.5, ColorJitter(0.3, 0.3, 0.3, 0.03). Each view is resized
(PIL bilinear, the whole view stretched, as the "tf" preset does) to 224 for the
teacher and to 160 for the students; the teacher's logits are computed once.

Training: per student --steps AdamW steps (batch 32, lr 2e-3 with 5% warm-up
then cosine decay, weight decay 0.01) on
    loss = T^2 * KL(softmax(t/T) || softmax(s/T))  with T = 2
         + 0.05 * MSE(s - mean(s), t - mean(t))   (keeps the logits' scale)
then the BatchNorm running statistics are re-estimated on the pool (cumulative
average, train-mode forward passes, no gradient) and the model is saved in eval
mode as a plain torchvision state dict with float16 tensors (--float16 0 keeps
float32; float16 halves the files, and all figures below are measured on the
stored float16 values; num_batches_tracked stays int64).

At the end the script prints, for calib/ (training images) and eval/ (held-out,
only measured), the top-1 agreement of each student with the teacher on the
whole images (tf preprocessing) and the spread of the logits (std, max |logit|).

Deterministic: torch.manual_seed, one thread, deterministic algorithms; the
augmentation uses the seeded torch RNG.

    /usr/bin/python3 testdata/gen/distil_v3.py                 # -> testdata/trained/
    /usr/bin/python3 testdata/gen/distil_v3.py --steps 50 --pool 256 --out /tmp/t
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

STUDENTS = [
    # name, constructor, width, resolution
    ('v3s_1.0_160', 'mobilenet_v3_small', 1.0, 160),
    ('v3l_0.5_160', 'mobilenet_v3_large', 0.5, 160),
]
TEACHER_RES = 224
EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def list_images(d):
    out = []
    for root, _, files in os.walk(d):
        for f in files:
            if f.lower().endswith(EXTS):
                out.append(os.path.join(root, f))
    return sorted(out)


def load_rgb(p):
    with Image.open(p) as im:
        return im.convert('RGB')


def to_u8(img, res):
    a = np.asarray(img.resize((res, res), Image.BILINEAR), dtype=np.uint8)
    return torch.from_numpy(a.copy()).permute(2, 0, 1)  # CHW uint8


def tf_pre(u8):
    return u8.float() / 127.5 - 1.0


def teacher_model(path):
    t = torchvision.models.mobilenet_v2(num_classes=1001)
    t.load_state_dict(torch.load(path))
    return t.eval()


def student_model(arch, width):
    return getattr(torchvision.models, arch)(width_mult=width, num_classes=1001)


def make_pool(images, n, res_s):
    rrc = T.RandomResizedCrop(TEACHER_RES, scale=(0.15, 1.0), ratio=(3 / 4, 4 / 3))
    jit = T.ColorJitter(0.3, 0.3, 0.3, 0.03)
    imgs = [load_rgb(p) for p in images]
    xt = torch.empty(n, 3, TEACHER_RES, TEACHER_RES, dtype=torch.uint8)
    xs = {r: torch.empty(n, 3, r, r, dtype=torch.uint8) for r in res_s}
    for k in range(n):
        img = imgs[k % len(imgs)]
        if k % 8 != 0:
            i, j, h, w = rrc.get_params(img, rrc.scale, rrc.ratio)
            img = img.crop((j, i, j + w, i + h))
        if torch.rand(1).item() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        img = jit(img)
        xt[k] = to_u8(img, TEACHER_RES)
        for r in res_s:
            xs[r][k] = to_u8(img, r)
    return xt, xs


@torch.no_grad()
def run(model, u8, bs=64):
    return torch.cat([model(tf_pre(u8[i:i + bs])) for i in range(0, len(u8), bs)])


def distil(model, xs, tl, steps, bs, lr, log):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))
    Tmp = 2.0
    n = len(xs)
    perm = torch.randperm(n)
    pos = 0
    model.train()
    t0 = time.time()
    for step in range(steps):
        if pos + bs > n:
            perm, pos = torch.randperm(n), 0
        idx = perm[pos:pos + bs]
        pos += bs
        s = model(tf_pre(xs[idx]))
        t = tl[idx]
        kl = F.kl_div(F.log_softmax(s / Tmp, 1), F.log_softmax(t / Tmp, 1), log_target=True,
                      reduction='batchmean') * Tmp * Tmp
        mse = F.mse_loss(s - s.mean(1, keepdim=True), t - t.mean(1, keepdim=True))
        loss = kl + 0.05 * mse
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps - 1:
            agree = (s.argmax(1) == t.argmax(1)).float().mean().item()
            log(f'  step {step:4d} loss {loss.item():.3f} kl {kl.item():.3f} mse {mse.item():.2f} '
                f'batch agree {agree:.2f} lr {sched.get_last_lr()[0]:.2e} {time.time() - t0:.0f}s')


@torch.no_grad()
def recalibrate_bn(model, xs, bs=64):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    model.train()
    for i in range(0, len(xs), bs):
        model(tf_pre(xs[i:i + bs]))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1  # torchvision's default for V3 is 0.01; the value does not matter in eval mode
    model.eval()


def whole(images, res):
    return torch.stack([to_u8(load_rgb(p), res) for p in images])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--teacher', default='/work/shared/models/mobilenet_v2_1.0_224_tv.pth')
    ap.add_argument('--images', default='/work/shared/images')
    ap.add_argument('--out', default='testdata/trained')
    ap.add_argument('--pool', type=int, default=2400)
    ap.add_argument('--steps', type=int, default=500)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--float16', type=int, default=1, help='store the weights as float16 (1, default) or float32 (0)')
    ap.add_argument('--cache', help='keep the pool and the teacher logits in this file (reused when it exists)')
    ap.add_argument('--only', default='', help='comma-separated student names (default: all)')
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)
    log = lambda s: (print(s), sys.stdout.flush())

    calib = list_images(os.path.join(args.images, 'calib'))
    evals = list_images(os.path.join(args.images, 'eval'))
    log(f'{len(calib)} calib images, {len(evals)} eval images')
    teacher = teacher_model(args.teacher)
    students = [s for s in STUDENTS if not args.only or s[0] in args.only.split(',')]

    t0 = time.time()
    if args.cache and os.path.exists(args.cache):
        xs, tl = torch.load(args.cache)
    else:
        xt, xs = make_pool(calib, args.pool, sorted({s[3] for s in STUDENTS}))
        tl = run(teacher, xt)
        del xt
        if args.cache:
            torch.save((xs, tl), args.cache)
    log(f'pool of {args.pool} views, teacher logits in {time.time() - t0:.0f}s; '
        f'teacher logits std {tl.std().item():.2f} max|.| {tl.abs().max().item():.2f}')

    t_whole = {k: run(teacher, whole(v, TEACHER_RES)) for k, v in (('calib', calib), ('eval', evals))}
    summary = {'teacher': {k: {'std': round(v.std().item(), 3), 'max_abs': round(v.abs().max().item(), 3)}
                           for k, v in t_whole.items()}}
    for name, arch, width, res in students:
        torch.manual_seed(1)
        m = student_model(arch, width)
        log(f'{name}: {arch} width {width} at {res}x{res}, {sum(p.numel() for p in m.parameters())} parameters')
        t1 = time.time()
        distil(m, xs[res], tl, args.steps, args.batch, args.lr, log)
        recalibrate_bn(m, xs[res])
        path = os.path.join(args.out, name + '.pth')
        s32 = run(m, whole(evals, res))
        if args.float16:
            # Half the file size; the stored float16 values are the model from here on (evaluated below).
            sd = {k: v.half() if v.is_floating_point() else v for k, v in m.state_dict().items()}
            m.load_state_dict(sd)
        else:
            sd = m.state_dict()
        torch.save(sd, path)
        rec = {'arch': arch, 'width': width, 'resolution': res, 'classes': 1001,
               'train_seconds': round(time.time() - t1), 'bytes': os.path.getsize(path)}
        pool_agree = (run(m, xs[res]).argmax(1) == tl.argmax(1)).float().mean().item()
        rec['pool_agreement'] = round(pool_agree, 4)
        rec['float16_eval_logits_max_abs_change'] = round((run(m, whole(evals, res)) - s32).abs().max().item(), 5)
        for k, v in (('calib', calib), ('eval', evals)):
            s = run(m, whole(v, res))
            a = (s.argmax(1) == t_whole[k].argmax(1))
            rec[k] = {'agree': f'{int(a.sum())}/{len(a)}', 'std': round(s.std().item(), 3),
                      'max_abs': round(s.abs().max().item(), 3),
                      'top1': [int(i) for i in s.argmax(1)], 'teacher_top1': [int(i) for i in t_whole[k].argmax(1)]}
        log(f'{name}: ' + json.dumps(rec))
        summary[name] = rec
    with open(os.path.join(args.out, 'distil_summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
