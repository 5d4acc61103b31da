#!/usr/bin/python3
"""ONNX Runtime's int8 QDQ (the peer) on a torchvision MobileNet checkpoint: logits SQNR and top-1 agreement
of ORT int8 against ORT float on held-out images.

Steps (everything under --work):
  1. build the torchvision model, load the state dict, export it to ONNX (opset --opset, batch 1, input `input`,
     output `logits`);
  2. preprocess --calib and --eval images as mnc's "tf" preset does (PIL bilinear resize of the whole image to
     RESxRES, RGB, x/127.5 - 1) into calib.f32 and eval.f32;
  3. ../shared/peers: ort_qdq.py expose, ort_minmax.js on calib.f32 (min/max ranges), ort_qdq.py build (ORT's static
     QDQ recipe: per-channel int8 weights, per-tensor uint8 activations);
  4. testdata/gen/ort_run.js runs ORT float and ORT int8 on eval.f32 (and calib.f32);
  5. prints pooled logits SQNR 10*log10(sum f^2 / sum (f-q)^2) over all images, the median per-image SQNR, top-1
     agreement, and PyTorch-vs-ORT float agreement as a sanity check.

    /usr/bin/python3 testdata/gen/ort_compare.py testdata/trained/v3s_1.0_160.pth --arch mobilenet_v3_small \
        --width 1.0 --res 160 --work /tmp/ort_v3s
Needs python3-onnx, node and onnxruntime-node in /tmp/ortnode (see ../shared/peers/README.md)."""
import argparse, json, os, subprocess, sys
import numpy as np, torch, torchvision
from PIL import Image

EXTS = ('.jpg', '.jpeg', '.png', '.bmp')
HERE = os.path.dirname(os.path.abspath(__file__))


def images(d):
    return sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.lower().endswith(EXTS))


def prep(paths, res, out):
    xs = []
    for p in paths:
        with Image.open(p) as im:
            a = np.asarray(im.convert('RGB').resize((res, res), Image.BILINEAR), dtype=np.float32)
        xs.append((a / 127.5 - 1.0).transpose(2, 0, 1))
    x = np.ascontiguousarray(np.stack(xs), dtype=np.float32)
    x.tofile(out)
    return x


def sqnr(f, q):
    return 10 * np.log10((f.astype(np.float64) ** 2).sum() / ((f.astype(np.float64) - q) ** 2).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('pth')
    ap.add_argument('--arch', required=True)
    ap.add_argument('--width', type=float, default=1.0)
    ap.add_argument('--classes', type=int, default=1001)
    ap.add_argument('--res', type=int, default=224)
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--calib', default='/work/shared/images/calib')
    ap.add_argument('--eval', default='/work/shared/images/eval')
    ap.add_argument('--peers', default='/work/shared/peers')
    ap.add_argument('--work', required=True)
    ap.add_argument('--json', help='also write the figures to this JSON file')
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    w = lambda n: os.path.join(a.work, n)

    m = getattr(torchvision.models, a.arch)(width_mult=a.width, num_classes=a.classes)
    m.load_state_dict(torch.load(a.pth)); m.eval()
    torch.onnx.export(m, torch.zeros(1, 3, a.res, a.res), w('model.onnx'), opset_version=a.opset,
                      input_names=['input'], output_names=['logits'], do_constant_folding=True)
    xc = prep(images(a.calib), a.res, w('calib.f32'))
    xe = prep(images(a.eval), a.res, w('eval.f32'))
    py, shape = sys.executable, ['3', str(a.res), str(a.res)]
    subprocess.run([py, os.path.join(a.peers, 'ort_qdq.py'), 'expose', w('model.onnx'), w('dbg.onnx')], check=True)
    with open(w('mm.json'), 'w') as f:
        subprocess.run(['node', os.path.join(a.peers, 'ort_minmax.js'), w('dbg.onnx'), w('calib.f32')] + shape,
                       check=True, stdout=f)
    subprocess.run([py, os.path.join(a.peers, 'ort_qdq.py'), 'build', w('model.onnx'), w('mm.json'), w('qdq.onnx')],
                   check=True)
    res = {'pth': a.pth, 'arch': a.arch, 'width': a.width, 'res': a.res, 'opset': a.opset}
    for split, x in (('calib', xc), ('eval', xe)):
        out = {}
        for kind, model in (('float', 'model.onnx'), ('int8', 'qdq.onnx')):
            o = w(f'{split}.{kind}.out.f32')
            subprocess.run(['node', os.path.join(HERE, 'ort_run.js'), w(model), w(f'{split}.f32')] + shape + [o],
                           check=True)
            out[kind] = np.fromfile(o, np.float32).reshape(len(x), -1)
        with torch.no_grad():
            tf = m(torch.from_numpy(x)).numpy()
        f, q = out['float'], out['int8']
        res[split] = {
            'images': len(x),
            'ort_int8_sqnr_pooled_db': round(float(sqnr(f, q)), 2),
            'ort_int8_sqnr_median_db': round(float(np.median([sqnr(f[i], q[i]) for i in range(len(x))])), 2),
            'ort_int8_agree': f'{int((f.argmax(1) == q.argmax(1)).sum())}/{len(x)}',
            'ort_float_vs_torch_max_abs': float(np.abs(f - tf).max()),
            'ort_float_vs_torch_agree': f'{int((f.argmax(1) == tf.argmax(1)).sum())}/{len(x)}',
        }
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(res, fh, indent=1); fh.write('\n')


if __name__ == '__main__':
    main()
