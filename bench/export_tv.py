#!/usr/bin/python3
"""Export torchvision MobileNets (random init, seed 0: for speed, not accuracy) to ONNX (opset 17) and .pth.
Usage: /usr/bin/python3 bench/export_tv.py OUTDIR [NAME ...]   NAME: a torchvision model, default mobilenet_v3_large
Writes OUTDIR/NAME.onnx and OUTDIR/NAME.pth; never commit them."""
import sys, torch, torchvision
out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/bench'
for name in sys.argv[2:] or ['mobilenet_v3_large']:
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)().eval()
    torch.save(m.state_dict(), f'{out}/{name}.pth')
    torch.onnx.export(m, torch.randn(1, 3, 224, 224), f'{out}/{name}.onnx', opset_version=17,
                      input_names=['input'], output_names=['logits'])
    print(f'wrote {out}/{name}.onnx and .pth')
