#!/usr/bin/python3
"""Preprocess images (tf preset: whole image to 224x224 bilinear, x/127.5 - 1) into one N*3*224*224 float32 file,
the calibration input of ../shared/peers/ort_minmax.js.  Usage: calib_f32.py IMAGE_DIR OUT.f32 [SIZE]"""
import sys, glob, numpy as np
from PIL import Image
d, out = sys.argv[1], sys.argv[2]; size = int(sys.argv[3]) if len(sys.argv) > 3 else 224
xs = []
for f in sorted(glob.glob(d + '/*')):
    im = Image.open(f).convert('RGB').resize((size, size), Image.BILINEAR)
    xs.append((np.asarray(im, dtype=np.float32) / 127.5 - 1).transpose(2, 0, 1))
np.stack(xs).astype(np.float32).tofile(out)
print(f'{len(xs)} images -> {out}')
