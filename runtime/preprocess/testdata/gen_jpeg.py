#!/usr/bin/python3
"""Regenerates the JPEG decoding references read by jpeg_test.go.

Run from this directory (runtime/preprocess/testdata) with Debian's Python,
whose PIL is linked to the system libjpeg-turbo, and libjpeg-turbo's tools
(apt-get install python3-pil libjpeg-turbo-progs):
    /usr/bin/python3 gen_jpeg.py [SHARED_DIR]

jpeg/*.jpg      small synthetic JPEGs covering the layouts and codings the
                decoder handles: sampling 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1,
                grayscale, RGB and CMYK (Adobe), baseline, extended sequential with
                16-bit quantization tables, optimized Huffman tables,
                progressive, non-interleaved sequential scans, restart
                intervals, odd and tiny sizes.
jpeg/*.jpg.rgb  PIL's Image.open(f).convert("RGB").tobytes() of each (the
                size is in the file name).
jpeg/*.bad.jpg  files the decoder must refuse (arithmetic coding); no .rgb.
jpeg/*.fallback.jpg
                a file left to image/jpeg (Cb and Cr sampled differently),
                with PIL's .rgb.
jpeg/shared_rgb.sha256
                for each JPEG of SHARED_DIR/images/{calib,eval} (default
                ../../../../shared): "set/name WxH sha256" of PIL's RGB bytes,
                so the tests can check them exactly without Python.

No numpy: the pixels are made with plain Python, deterministically.
"""
import glob
import hashlib
import math
import os
import random
import subprocess
import sys

import PIL
import PIL.features
from PIL import Image


def make_rgb(w, h, seed):
    """A gradient, a saturated disc with sharp edges (chroma edges stress the
    upsampling) and a noisy patch (exercises many AC coefficients)."""
    rng = random.Random(seed)
    px = bytearray()
    for y in range(h):
        for x in range(w):
            r = 255 * x / max(w - 1, 1)
            g = 255 * y / max(h - 1, 1)
            b = 127.5 + 127.5 * math.sin(x / 3.0) * math.cos(y / 4.0)
            if (x - w * 0.35) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.25) ** 2:
                r, g, b = 230, 20, 40
            if h // 2 <= y < h // 2 + 12 and w // 2 <= x < w // 2 + 16:
                r, g, b = rng.randrange(256), rng.randrange(256), rng.randrange(256)
            px += bytes(min(max(int(round(v)), 0), 255) for v in (r, g, b))
    return Image.frombytes("RGB", (w, h), bytes(px))


def cjpeg(src, dst, *args):
    subprocess.run(["cjpeg", *args, "-outfile", dst, src], check=True)


def jpegtran(src, dst, *args):
    subprocess.run(["jpegtran", *args, "-outfile", dst, src], check=True)


SCANS_SEQUENTIAL = "0: 0 63 0 0;\n1: 0 63 0 0;\n2: 0 63 0 0;\n"
# Successive approximation on DC and AC, spectral bands split unevenly.
SCANS_PROGRESSIVE = """0,1,2: 0 0 0 2;
0: 1 9 0 1;
0: 10 63 0 1;
2: 1 63 0 0;
1: 1 63 0 0;
0,1,2: 0 0 2 1;
0,1,2: 0 0 1 0;
0: 1 63 1 0;
"""


def make_images():
    os.makedirs("jpeg", exist_ok=True)
    for f in glob.glob("jpeg/*.jpg") + glob.glob("jpeg/*.rgb"):
        os.remove(f)
    src = make_rgb(61, 47, 1)
    src.save("/tmp/gen_jpeg_src.ppm")
    src.convert("L").save("/tmp/gen_jpeg_src.pgm")
    ppm, pgm = "/tmp/gen_jpeg_src.ppm", "/tmp/gen_jpeg_src.pgm"
    out = {}
    # PIL's encoder (baseline JFIF).
    src.save("jpeg/pil_444.jpg", quality=90, subsampling=0)
    src.save("jpeg/pil_422.jpg", quality=90, subsampling=1)
    src.save("jpeg/pil_420_q50.jpg", quality=50, subsampling=2)
    src.save("jpeg/pil_420_progressive.jpg", quality=85, progressive=True)
    src.save("jpeg/pil_444_progressive_opt.jpg", quality=95, subsampling=0, progressive=True, optimize=True)
    src.convert("L").save("jpeg/pil_gray.jpg", quality=90)
    src.convert("L").save("jpeg/pil_gray_progressive.jpg", quality=90, progressive=True)
    # libjpeg's encoder: other samplings, restart intervals, codings.
    cjpeg(ppm, "jpeg/cj_440.jpg", "-sample", "1x2")
    cjpeg(ppm, "jpeg/cj_411.jpg", "-sample", "4x1")
    cjpeg(ppm, "jpeg/cj_420_restart1.jpg", "-restart", "1B")
    cjpeg(ppm, "jpeg/cj_422_restart3_progressive.jpg", "-sample", "2x1", "-restart", "3B", "-progressive")
    cjpeg(ppm, "jpeg/cj_420_q5_16bit.jpg", "-quality", "5")  # quant values > 255: SOF1, 16-bit DQT
    cjpeg(ppm, "jpeg/cj_rgb.jpg", "-rgb", "-sample", "1x1")
    cjpeg(pgm, "jpeg/cj_gray_restart2.jpg", "-grayscale", "-restart", "2B")
    cjpeg(ppm, "jpeg/cj_420_optimize.jpg", "-optimize")
    with open("/tmp/gen_jpeg_seq.txt", "w") as f:
        f.write(SCANS_SEQUENTIAL)
    with open("/tmp/gen_jpeg_prog.txt", "w") as f:
        f.write(SCANS_PROGRESSIVE)
    cjpeg(ppm, "jpeg/cj_420_noninterleaved.jpg", "-scans", "/tmp/gen_jpeg_seq.txt")
    cjpeg(ppm, "jpeg/cj_420_progressive_custom.jpg", "-scans", "/tmp/gen_jpeg_prog.txt", "-restart", "2B")
    cjpeg(ppm, "jpeg/cj_arithmetic.bad.jpg", "-arithmetic")
    # Cb and Cr sampled differently: left to image/jpeg.
    cjpeg(ppm, "jpeg/cj_mixed.fallback.jpg", "-sample", "2x2,1x1,2x1")
    # Four components: Adobe CMYK, and the same file with the Adobe
    # transform set to 2, which libjpeg then reads as YCCK.
    src.convert("CMYK").save("jpeg/pil_cmyk.jpg", quality=90)
    src.convert("CMYK").save("jpeg/pil_cmyk_progressive.jpg", quality=90, progressive=True)
    with open("jpeg/pil_cmyk.jpg", "rb") as f:
        data = bytearray(f.read())
    i = data.index(b"Adobe")
    assert data[i + 11] == 0
    data[i + 11] = 2
    with open("jpeg/pil_ycck.jpg", "wb") as f:
        f.write(data)
    # Odd and tiny sizes (narrow chroma planes take libjpeg's replication
    # path; partial MCUs at the right and bottom edges).
    for (w, h, sub) in [(1, 1, 2), (2, 3, 2), (3, 5, 2), (5, 2, 1), (17, 9, 2), (33, 35, 1), (9, 17, 0)]:
        make_rgb(w, h, w * 100 + h).save("jpeg/pil_%dx%d_s%d.jpg" % (w, h, sub), quality=90, subsampling=sub)
    make_rgb(33, 35, 7).save("/tmp/gen_jpeg_odd.ppm")
    cjpeg("/tmp/gen_jpeg_odd.ppm", "jpeg/cj_33x35_440_progressive.jpg", "-sample", "1x2", "-progressive")
    for f in sorted(glob.glob("jpeg/*.jpg")):
        if f.endswith(".bad.jpg"):
            continue
        im = Image.open(f)
        rgb = im.convert("RGB")
        name = "%s.%dx%d.rgb" % (f, rgb.size[0], rgb.size[1])
        with open(name, "wb") as g:
            g.write(rgb.tobytes())
        print(f, im.mode, im.size, im.info.get("progressive", 0))


def hash_shared(shared):
    lines = []
    for set_ in ("calib", "eval"):
        for f in sorted(glob.glob(os.path.join(shared, "images", set_, "*.jpg"))):
            rgb = Image.open(f).convert("RGB")
            h = hashlib.sha256(rgb.tobytes()).hexdigest()
            lines.append("%s/%s %dx%d %s\n" % (set_, os.path.basename(f), rgb.size[0], rgb.size[1], h))
    with open("jpeg/shared_rgb.sha256", "w") as g:
        g.write("# PIL %s, libjpeg-turbo %s: sha256 of Image.open(f).convert('RGB').tobytes()\n"
                % (PIL.__version__, PIL.features.version("libjpeg_turbo")))
        g.writelines(lines)
    print(len(lines), "shared JPEGs hashed")


def main():
    make_images()
    shared = sys.argv[1] if len(sys.argv) > 1 else "../../../../shared"
    hash_shared(shared)


if __name__ == "__main__":
    main()
