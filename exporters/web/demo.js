// The demo page of a Layerloom TF.js export. model-data.js (loaded before this) embeds model.json,
// the weights (base64) and a sample input, so the page also works when opened from disk: browsers
// refuse fetch() of local files, which tf.loadLayersModel('model.json') needs.
'use strict';

const DATA = window.LAYERLOOM_MODEL;
const state = { model: null, values: {} };

function $(id) { return document.getElementById(id); }

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function shapeText(shape) {
  const text = shape.map((d) => (d == null ? '?' : d)).join(', ');
  return shape.length === 1 ? `(${text},)` : `(${text})`;
}

function size(shape) { return shape.reduce((a, b) => a * b, 1); }

function isImage(input) {
  const s = input.shape;
  return s.length === 3 && s.every((d) => d != null) && [1, 3, 4].includes(s[2]);
}

function decodeBase64(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

function showSignature() {
  const body = $('signature').querySelector('tbody');
  for (const [kind, items] of [['input', DATA.inputs], ['output', DATA.outputs]]) {
    for (const item of items) {
      body.append(el('tr', {}, el('td', { textContent: kind }), el('td', {}, el('code', { textContent: item.name })),
        el('td', { textContent: shapeText(item.shape) }), el('td', { textContent: item.dtype || 'float32' })));
    }
  }
}

function buildForm() {
  const form = $('inputs');
  form.textContent = '';
  for (const input of DATA.inputs) {
    const box = el('div', { className: 'input' }, el('label', { textContent: `${input.name} ${shapeText(input.shape)}` }));
    if (isImage(input)) {
      const [h, w, c] = input.shape;
      box.append(el('p', { className: 'hint', textContent:
        `Choose an image: it is resized to ${h}×${w} and read as ${c === 1 ? 'grayscale' : c === 3 ? 'RGB' : 'RGBA'} values 0–255 (the model rescales them itself). Until then the sample below is used.` }));
      const file = el('input', { type: 'file', accept: 'image/*' });
      const canvas = el('canvas', { width: w, height: h });
      file.addEventListener('change', () => loadImage(input, file.files[0], canvas));
      box.append(file, canvas);
      drawValues(canvas, input, state.values[input.name]);
    } else {
      box.append(el('p', { className: 'hint', textContent:
        `${size(input.shape)} numbers separated by commas (a CSV row; flattened in row-major order for more than one axis).` }));
      const area = el('textarea', { id: `values-${input.name}`, value: state.values[input.name].join(', ') });
      box.append(area);
    }
    form.append(box);
  }
}

// Shows the image the model sees (the sample, or the uploaded picture after resizing).
function drawValues(canvas, input, values) {
  const [h, w, c] = input.shape;
  let lo = Infinity, hi = -Infinity; // (a loop: spreading 150k pixels into Math.min overflows)
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  const pixels = new ImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) {
      const v = values[i * c + (c === 1 ? 0 : k)];
      pixels.data[i * 4 + k] = hi <= 255 && lo >= 0 ? v : ((v - lo) / span) * 255;
    }
    pixels.data[i * 4 + 3] = 255;
  }
  canvas.getContext('2d').putImageData(pixels, 0, 0);
}

function loadImage(input, file, canvas) {
  if (!file) return;
  const [h, w, c] = input.shape;
  const image = new Image();
  image.onload = () => {
    const scratch = el('canvas', { width: w, height: h });
    const context = scratch.getContext('2d');
    context.drawImage(image, 0, 0, w, h);
    const rgba = context.getImageData(0, 0, w, h).data;
    const values = new Array(h * w * c);
    for (let i = 0; i < h * w; i++) {
      const [r, g, b, a] = rgba.slice(i * 4, i * 4 + 4);
      if (c === 1) values[i] = 0.299 * r + 0.587 * g + 0.114 * b; // as PIL's convert('L')
      else for (let k = 0; k < c; k++) values[i * c + k] = [r, g, b, a][k];
    }
    state.values[input.name] = values;
    drawValues(canvas, input, values);
    URL.revokeObjectURL(image.src);
    predict();
  };
  image.src = URL.createObjectURL(file);
}

function readForm() {
  for (const input of DATA.inputs) {
    const area = $(`values-${input.name}`);
    if (!area) continue;
    const values = area.value.split(/[\s,;]+/).filter((t) => t !== '').map(Number);
    if (values.length !== size(input.shape) || values.some((v) => Number.isNaN(v))) {
      throw new Error(`${input.name} needs ${size(input.shape)} numbers, got ${values.length}`);
    }
    state.values[input.name] = values;
  }
}

function top1(values) {
  if (values.length === 1) return values[0] > 0.5 ? 1 : 0;
  let best = 0;
  values.forEach((v, i) => { if (v > values[best]) best = i; });
  return best;
}

function showPrediction(outputs) {
  const box = $('prediction');
  box.textContent = '';
  const classifying = DATA.task === 'classification';
  const first = outputs[0];
  const result = { top1: classifying ? top1(first) : null, outputs };
  outputs.forEach((values, index) => {
    const name = DATA.outputs[index].name;
    box.append(el('h3', { textContent: name, style: 'font-size:14px;margin:10px 0 4px' }));
    if (classifying && index === 0) {
      const scores = values.length === 1 ? [1 - values[0], values[0]] : values;
      const order = scores.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
      for (const [v, i] of order) {
        const label = (DATA.labels && DATA.labels[i]) || `class ${i}`;
        box.append(el('div', { className: 'bar' + (i === result.top1 ? ' top' : '') },
          el('span', { className: 'name', textContent: label }),
          el('span', { className: 'track' }, el('span', { className: 'fill', style: `display:block;width:${(Math.max(0, Math.min(1, v)) * 100).toFixed(1)}%` })),
          el('span', { textContent: v.toFixed(3) })));
      }
    } else {
      const shown = values.slice(0, 12).map((v) => v.toFixed(4)).join(', ');
      box.append(el('code', { textContent: values.length > 12 ? `${shown}, … (${values.length} values)` : shown }));
    }
  });
  $('result').textContent = JSON.stringify(result);
}

async function predict() {
  try {
    readForm();
    const feeds = DATA.inputs.map((input) => tf.tensor(state.values[input.name], [1, ...input.shape],
      input.dtype === 'int32' ? 'int32' : 'float32'));
    let outputs = state.model.predict(feeds.length === 1 ? feeds[0] : feeds);
    if (!Array.isArray(outputs)) outputs = [outputs];
    const values = [];
    // dataSync(): a blocking read, but await data() on WebGL waits for a GPU fence that headless
    // Chromium never signalled in testing.
    for (const output of outputs) values.push(Array.from(output.dataSync()));
    tf.dispose([...feeds, ...outputs]);
    showPrediction(values);
    $('status').textContent = `Ready: TensorFlow.js ${tf.version.tfjs}, ${tf.getBackend()} backend.`;
  } catch (error) {
    $('status').className = 'status error';
    $('status').textContent = String(error.message || error);
  }
}

function resetToSample() {
  for (const input of DATA.inputs) state.values[input.name] = DATA.sample[input.name].slice();
  buildForm();
  predict();
}

async function main() {
  showSignature();
  try {
    // ?backend=cpu (or wasm, webgl) picks a backend; by default TF.js takes the fastest it has.
    const wanted = new URLSearchParams(window.location.search).get('backend');
    if (wanted) await tf.setBackend(wanted);
    await tf.ready();
    state.model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: DATA.modelTopology,
      weightSpecs: DATA.weightSpecs,
      weightData: decodeBase64(DATA.weights),
    }));
  } catch (error) {
    $('status').className = 'status error';
    $('status').textContent = `The model did not load: ${error.message || error}`;
    return;
  }
  $('predict').addEventListener('click', predict);
  $('reset').addEventListener('click', resetToSample);
  resetToSample();
}

main();
