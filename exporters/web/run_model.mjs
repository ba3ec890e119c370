// Runs a Layerloom TF.js export in Node with @tensorflow/tfjs (the pure JavaScript CPU backend):
// the parity check's runtime. Python writes the inputs; this writes the outputs back.
//
//   node run_model.mjs <node_modules> <model_dir> <request.json>
//
// request.json: {"data": "inputs.bin", "inputs": [{"name", "dtype", "shape", "offset", "bytes"}],
//                "outputs": "outputs.bin", "result": "result.json", "repeat": N (optional)};
//                paths relative to it.
// result.json: {"outputs": [{"name", "shape"}], "tfjs", "node", "backend"} or {"error": "..."};
// outputs.bin holds every output as float32 little-endian, one after the other.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [nodeModules, modelDir, requestFile] = process.argv.slice(2);
const here = dirname(requestFile);
const request = JSON.parse(readFileSync(requestFile, 'utf8'));

function asArrayBuffer(buffer) {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

async function main() {
  // An absolute require, so LAYERLOOM_NODE_MODULES may point anywhere.
  const require = createRequire(import.meta.url);
  const tf = require(join(nodeModules, '@tensorflow', 'tfjs'));
  await tf.setBackend('cpu');

  // The same in-memory route as the demo page: model.json plus its shards, concatenated.
  const document = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const shards = [];
  for (const group of document.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) shards.push(readFileSync(join(modelDir, path)));
  }
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: document.modelTopology,
    weightSpecs,
    weightData: asArrayBuffer(Buffer.concat(shards)),
  }));

  const data = readFileSync(join(here, request.data));
  const byName = {};
  for (const item of request.inputs) {
    const bytes = asArrayBuffer(data.subarray(item.offset, item.offset + item.bytes));
    const values = item.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
    byName[item.name] = tf.tensor(values, item.shape, item.dtype);
  }
  const feed = model.inputNames.map((name) => {
    if (!(name in byName)) throw new Error(`no data for the model input '${name}'`);
    return byName[name];
  });
  let outputs = model.predict(feed.length === 1 ? feed[0] : feed, { batchSize: 32 });
  if (!Array.isArray(outputs)) outputs = [outputs];

  const parts = [];
  const described = [];
  for (const [index, tensor] of outputs.entries()) {
    const values = await tensor.data();
    parts.push(Buffer.from(Float32Array.from(values).buffer));
    described.push({ name: model.outputNames[index], shape: tensor.shape });
  }
  writeFileSync(join(here, request.outputs), Buffer.concat(parts));
  // Benchmarks ask for a timing: the median of `repeat` more predictions, model already warm.
  let secondsPerPredict = null;
  if (request.repeat) {
    const times = [];
    for (let i = 0; i < request.repeat; i += 1) {
      const started = performance.now();
      let again = model.predict(feed.length === 1 ? feed[0] : feed, { batchSize: 32 });
      if (!Array.isArray(again)) again = [again];
      for (const tensor of again) tensor.dataSync();
      times.push(performance.now() - started);
      tf.dispose(again);
    }
    times.sort((a, b) => a - b);
    secondsPerPredict = times[Math.floor(times.length / 2)] / 1000;
  }
  return {
    outputs: described,
    seconds_per_predict: secondsPerPredict,
    tfjs: tf.version.tfjs,
    node: process.versions.node,
    backend: tf.getBackend(),
  };
}

let result;
try {
  result = await main();
} catch (error) {
  result = { error: String((error && error.message) || error) };
}
writeFileSync(join(here, request.result), JSON.stringify(result));
process.exitCode = result.error ? 1 : 0;
