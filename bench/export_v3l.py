#!/usr/bin/python3
"""Export a torchvision MobileNetV3-Large (random init, seed 0: for speed, not accuracy) to ONNX and .pth.
Usage: /usr/bin/python3 bench/export_v3l.py OUTDIR   (writes OUTDIR/mobilenet_v3_large.onnx and .pth; never commit them)"""
import sys, torch, torchvision
out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/bench'
torch.manual_seed(0)
m = torchvision.models.mobilenet_v3_large().eval()
torch.save(m.state_dict(), f'{out}/mobilenet_v3_large.pth')
torch.onnx.export(m, torch.randn(1, 3, 224, 224), f'{out}/mobilenet_v3_large.onnx', opset_version=17,
                  input_names=['input'], output_names=['logits'])
print(f'wrote {out}/mobilenet_v3_large.onnx and .pth')
