// node ort_run.js model.onnx in.f32 C H W out.f32
// Runs every image of in.f32 (N preprocessed NCHW float32 images) through ONNX Runtime (CPU, one thread, batch 1)
// and writes the N outputs, float32, one after the other, to out.f32. ORT_NODE overrides the onnxruntime-node path.
const ort = require(process.env.ORT_NODE || '/tmp/ortnode/node_modules/onnxruntime-node'); const fs = require('fs');
(async () => {
  const [model, data, C, H, W, out] = process.argv.slice(2); const per = C * H * W;
  const b = fs.readFileSync(data); const all = new Float32Array(b.buffer, b.byteOffset, b.length / 4); const n = all.length / per;
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const chunks = [];
  for (let k = 0; k < n; k++) {
    const x = new ort.Tensor('float32', all.slice(k * per, (k + 1) * per), [1, +C, +H, +W]);
    const r = await s.run({ [s.inputNames[0]]: x });
    chunks.push(Buffer.from(Float32Array.from(r[s.outputNames[0]].data).buffer));
  }
  fs.writeFileSync(out, Buffer.concat(chunks));
})();
