// Runs a Layerloom TF.js export in Node: the parity check's runtime. Python writes the inputs; this
// writes the outputs back.
//
//   node run_model.mjs <node_modules> <model_dir> <request.json>
//
// request.json: {"data": "inputs.bin", "inputs": [{"name", "dtype", "shape", "offset", "bytes"}],
//                "outputs": "outputs.bin", "result": "result.json", "repeat": N (optional)};
//                paths relative to it.
// result.json: {"outputs": [{"name", "shape"}], "seconds_per_predict", "tfjs", "node", "backend",
//               "simd", "fallback"} or {"error": "..."};
// outputs.bin holds every output as float32 little-endian, one after the other.
//
// Backend: @tensorflow/tfjs-backend-wasm (XNNPACK compiled to WebAssembly, SIMD where this Node
// has it): a 32-image batch of a 1.1M-parameter CNN predicts in ~0.11 s there against ~4.2 s on
// the pure JavaScript 'cpu' backend. Should wasm fail on a model (it lacks a few kernels, and some
// options of others), the model runs again from scratch on 'cpu': "backend" says which one
// computed the outputs, "fallback" why wasm did not. Single-threaded: tfjs-backend-wasm turns its
// threads off in Node (its pthread workers are blob: URLs, which worker_threads refuse), and forced
// on anyway it sizes its pool at half the logical cores, so a single thread on a 2-core machine.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

const [nodeModules, modelDir, requestFile] = process.argv.slice(2);
const here = dirname(requestFile);
const request = JSON.parse(readFileSync(requestFile, 'utf8'));
// An absolute require, so LAYERLOOM_NODE_MODULES may point anywhere.
const require = createRequire(import.meta.url);
const tfjsPart = (name) => require(join(nodeModules, '@tensorflow', name));
// The parts of @tensorflow/tfjs this needs, each the very package (and version) the umbrella
// bundles: core (tensors, io, backends), layers and the 'cpu' backend (the fallback). Leaving out
// its webgl backend, graph-model converter and data API saves ~60 ms of start-up per parity run.
const tf = tfjsPart('tfjs-core');
const { loadLayersModel } = tfjsPart('tfjs-layers');
tfjsPart('tfjs-backend-cpu'); // registers 'cpu' with that same core

function asArrayBuffer(buffer) {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

function message(error) {
  return String((error && error.message) || error).split('\n')[0];
}

// Switches tfjs to the wasm backend; null when it runs, else why not.
async function startWasm() {
  const wasmPackage = join(nodeModules, '@tensorflow', 'tfjs-backend-wasm');
  let wasm;
  try {
    wasm = require(wasmPackage); // registers the 'wasm' backend with the same tfjs-core
  } catch (error) {
    return `@tensorflow/tfjs-backend-wasm is not installed (${message(error)})`;
  }
  // The .wasm binaries ship in the package: read them from disk, never fetched.
  wasm.setWasmPaths(join(wasmPackage, 'dist') + sep);
  return (await tf.setBackend('wasm')) ? null : 'the WebAssembly backend did not start';
}

// Loads the model on the current backend, predicts the request's inputs and, when asked, times it.
async function predict(document, weightData) {
  // The same in-memory route as the demo page: model.json plus its shards, concatenated.
  const weightSpecs = document.weightsManifest.flatMap((group) => group.weights);
  const model = await loadLayersModel(tf.io.fromMemory({
    modelTopology: document.modelTopology,
    weightSpecs,
    weightData,
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
  const run = () => {
    const outputs = model.predict(feed.length === 1 ? feed[0] : feed, { batchSize: 32 });
    return Array.isArray(outputs) ? outputs : [outputs];
  };

  const outputs = run();
  const parts = [];
  const described = [];
  for (const [index, tensor] of outputs.entries()) {
    const values = await tensor.data();
    parts.push(Buffer.from(Float32Array.from(values).buffer));
    described.push({ name: model.outputNames[index], shape: tensor.shape });
  }
  // Benchmarks ask for a timing: the median of `repeat` more predictions, model already warm.
  let secondsPerPredict = null;
  if (request.repeat) {
    const times = [];
    for (let i = 0; i < request.repeat; i += 1) {
      const started = performance.now();
      const again = run();
      for (const tensor of again) tensor.dataSync();
      times.push(performance.now() - started);
      tf.dispose(again);
    }
    times.sort((a, b) => a - b);
    secondsPerPredict = times[Math.floor(times.length / 2)] / 1000;
  }
  tf.dispose([...outputs, ...feed]);
  model.dispose();
  return { parts, described, secondsPerPredict };
}

async function main() {
  const document = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const shards = document.weightsManifest.flatMap(
    (group) => group.paths.map((path) => readFileSync(join(modelDir, path))),
  );
  const weightData = asArrayBuffer(Buffer.concat(shards));

  let fallback = await startWasm();
  let done = null;
  if (fallback === null) {
    try {
      done = await predict(document, weightData);
    } catch (error) {
      // A missing kernel ("Kernel 'X' not registered for backend 'wasm'") or an option wasm does
      // not take; a model that is wrong in itself fails on 'cpu' too, with its own message.
      fallback = message(error);
    }
  }
  if (done === null) {
    await tf.setBackend('cpu');
    done = await predict(document, weightData);
  }
  const simd = fallback === null && Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  writeFileSync(join(here, request.outputs), Buffer.concat(done.parts));
  return {
    outputs: done.described,
    seconds_per_predict: done.secondsPerPredict,
    tfjs: tf.version_core,
    node: process.versions.node,
    backend: tf.getBackend(),
    simd,
    fallback,
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
