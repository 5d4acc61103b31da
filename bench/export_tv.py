#!/usr/bin/python3
"""Export torchvision MobileNets (random init, seed 0: for speed, not accuracy) to ONNX (opset 17) and .pth.
Usage: /usr/bin/python3 bench/export_tv.py OUTDIR [NAME ...]   NAME: a torchvision model, default mobilenet_v3_large
Writes OUTDIR/NAME.onnx and OUTDIR/NAME.pth; never commit them.

Classifiers (mobilenet_v2, mobilenet_v3_large, ...) at 224x224, output "logits". The segmentation and detection
models at full width with torchvision 0.14's defaults (weights=None, weights_backbone=None):
  lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large  21 classes, 520x520 (the resize of torchvision's own
      evaluation transform for their VOC weights), output "out" = model(x)["out"] [1,21,520,520] (DeepLabV3 without
      the aux head, as the builder makes it with weights=None)
  ssdlite320_mobilenet_v3_large  91 classes (COCO), reduced tail, 320x320: the raw head outputs "cls_logits"
      [1,3234,91] and "bbox_regression" [1,3234,4] of backbone + head, as testdata/gen/make_ssd_model_golden.py
      exports them (not SSD.forward's post-processed detections).
Their BatchNorm statistics are then recomputed on the images of CALIB (default ../shared/images/calib; train-mode
BatchNorm, momentum=None: a cumulative average, batches of 8), preprocessed as mnc compiles them (stretched to the
input size; SSDLite x/127.5 - 1, the segmenters ImageNet's mean and std): at torchvision's random init the
activations shrink layer by layer to 1e-9 (SSDLite's 1e-17), which no trained model has, and float32 timings
would then depend on how the CPU treats tiny numbers."""
import glob, os, sys, numpy as np, torch, torchvision
from PIL import Image
from torchvision.models import segmentation, detection

SEG = ('lraspp_mobilenet_v3_large', 'deeplabv3_mobilenet_v3_large')
DET = ('ssdlite320_mobilenet_v3_large',)
SIZE = dict.fromkeys(SEG, 520) | dict.fromkeys(DET, 320)


class SegOut(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)['out']


class DetHead(torch.nn.Module):
    """SSD.forward's network part on the transformed image: the backbone's feature maps, then the head."""

    def __init__(self, m):
        super().__init__()
        self.backbone, self.head = m.backbone, m.head

    def forward(self, x):
        out = self.head(list(self.backbone(x).values()))
        return out['cls_logits'], out['bbox_regression']


def calibrate_bn(net, size, tf):
    xs = []
    for f in sorted(glob.glob(os.environ.get('CALIB', '../shared/images/calib') + '/*')):
        x = np.asarray(Image.open(f).convert('RGB').resize((size, size), Image.BILINEAR), dtype=np.float32) / 255
        x = x * 2 - 1 if tf else (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        xs.append(torch.from_numpy(x.transpose(2, 0, 1).astype(np.float32)))
    assert xs, 'no calibration images (CALIB)'
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    with torch.no_grad():
        for i in range(0, len(xs), 8):
            net(torch.stack(xs[i:i + 8]))
    net.eval()


out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/bench'
for name in sys.argv[2:] or ['mobilenet_v3_large']:
    torch.manual_seed(0)
    size, outputs = SIZE.get(name, 224), ['logits']
    if name in SEG:
        m = getattr(segmentation, name)(weights=None, weights_backbone=None).eval()
        net, outputs = SegOut(m), ['out']
    elif name in DET:
        m = getattr(detection, name)(weights=None, weights_backbone=None).eval()
        net, outputs = DetHead(m), ['cls_logits', 'bbox_regression']
    else:
        m = net = getattr(torchvision.models, name)().eval()
    if name in SEG or name in DET:
        calibrate_bn(net, size, name in DET)
    torch.save(m.state_dict(), f'{out}/{name}.pth')
    torch.onnx.export(net, torch.randn(1, 3, size, size), f'{out}/{name}.onnx', opset_version=17,
                      input_names=['input'], output_names=outputs)
    print(f'wrote {out}/{name}.onnx and .pth ({size}x{size})')
