#!/usr/bin/python3
"""Preprocess images into one N*3*SIZE*SIZE float32 file (NCHW), the calibration input of
../shared/peers/ort_minmax.js: each whole image resized to SIZE x SIZE (bilinear), then by PRESET
tf (default): x/127.5 - 1, as mnc's --preprocess tf; torchvision: (x/255 - ImageNet mean) / std, as mnc's
--preprocess torchvision --resize stretch.  Usage: calib_f32.py IMAGE_DIR OUT.f32 [SIZE [PRESET]]"""
import sys, glob, numpy as np
from PIL import Image
d, out = sys.argv[1], sys.argv[2]; size = int(sys.argv[3]) if len(sys.argv) > 3 else 224
preset = sys.argv[4] if len(sys.argv) > 4 else 'tf'
assert preset in ('tf', 'torchvision'), preset
xs = []
for f in sorted(glob.glob(d + '/*')):
    im = Image.open(f).convert('RGB').resize((size, size), Image.BILINEAR)
    x = np.asarray(im, dtype=np.float32)
    x = x / 127.5 - 1 if preset == 'tf' else (x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    xs.append(x.astype(np.float32).transpose(2, 0, 1))
np.stack(xs).astype(np.float32).tofile(out)
print(f'{len(xs)} images -> {out}')
