// chainrule playground: draws what the server computes; all training happens in chainrule.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const FIELDS = ["learning_rate", "activation", "optimizer", "l2", "batch_size", "seed", "samples", "noise",
  "test_fraction", "hidden"];
const ORANGE = [245, 147, 34], BLUE = [8, 119, 189], WHITE = [232, 234, 235];

const app = {
  state: null,        // the last /api/state answer
  history: {},        // loss curves, grown by the websocket's updates
  frame: null,        // the last frame (boundary, neuron maps, weights)
  epoch: 0,
  playing: false,
  sample: 0,          // the sample the chain rule is worked for
  target: null,       // the weight, bias or neuron whose chain rule is shown
  chain: null,        // the last chain-rule answer
  spec: null,         // the loaded spec's steps
  specStep: 0,
  socket: null,
};

// ---- talking to the server ----------------------------------------------------------------
// Opened with the address `chainrule playground` printed (?token=...), the page got a cookie
// holding the token, which the browser sends with every request and the websocket from now on;
// the token leaves the address bar (and the history) at once.
if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", location.pathname);

async function call(path, body) {
  // the server takes JSON bodies as application/json only, from this page's own origin
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    return {errors: {server: "the playground server is not answering; is it still running?"}};
  }
  let data;
  try {
    data = await response.json();
  } catch (error) {
    return {errors: {server: `the server answered ${response.status} without data`}};
  }
  return data;
}

function showErrors(errors, fields) {
  // clear the messages of `fields`, then show the new ones beside their fields
  for (const name of fields) {
    for (const span of document.querySelectorAll(`.error[data-for="${name}"]`)) span.textContent = "";
  }
  let shown = false;
  for (const [name, message] of Object.entries(errors || {})) {
    const spans = document.querySelectorAll(`.error[data-for="${name}"]`);
    for (const span of spans) { span.textContent = message; shown = true; }
    if (!spans.length) $("message").textContent = message;
  }
  if (!errors || !errors.server) { if (!shown) $("message").textContent = ""; }
  return shown || Boolean(errors && Object.keys(errors).length);
}

function connect() {
  const socket = new WebSocket(`ws://${location.host}/ws`);
  app.socket = socket;
  socket.onmessage = (event) => update(JSON.parse(event.data));
  socket.onclose = () => { if (app.socket === socket) setTimeout(connect, 1000); };
}

async function load() {
  const state = await call("/api/state");
  if (state.errors) { showErrors(state.errors, []); return; }
  applyState(state);
}

function applyState(state) {
  app.state = state;
  app.history = {};
  app.sample = Math.min(app.sample, state.points.y.length - 1);
  if (state.run !== (app.chain && app.chain.run)) { app.target = null; $("chain-panel").hidden = true; }
  const s = state.settings;
  for (const name of FIELDS) {
    const value = name === "hidden" ? s.hidden.join(", ") : String(s[name]);
    $(name).value = value;
  }
  $("speed").value = state.speed;
  $("csv-button").disabled = !state.csv_loaded;
  for (const button of document.querySelectorAll("#datasets button")) {
    button.classList.toggle("active", button.dataset.dataset === s.dataset);
  }
  $("python").textContent = "";
  update(state);
}

function update(message) {
  if (!app.state) return;
  if (message.run !== app.state.run) { load(); return; }
  for (const [key, values] of Object.entries(message.history)) {
    const have = app.history[key] || [];
    app.history[key] = have.slice(0, message.history_from).concat(values);
  }
  app.frame = message.frame;
  app.epoch = message.epoch;
  app.playing = message.playing;
  $("epoch").textContent = String(message.epoch);
  $("play").innerHTML = message.playing ? "&#10073;&#10073; pause" : "&#9654; play";
  $("play").classList.toggle("active", message.playing);
  if (message.message) $("message").textContent = message.message;
  drawLosses();
  drawBoundary();
  drawNetwork();
}

// ---- settings -----------------------------------------------------------------------------
function fieldValues() {
  const values = {};
  for (const name of FIELDS) values[name] = $(name).value;
  return values;
}

async function submitSettings(extra) {
  const body = Object.assign(fieldValues(), extra || {});
  const answer = await call("/api/settings", body);
  if (showErrors(answer.errors, FIELDS.concat(["dataset", "settings"]))) return;
  applyState(answer);
}

function hiddenSizes() {
  return $("hidden").value.replace(/,/g, " ").split(/\s+/).filter((part) => part !== "");
}

function setHidden(sizes) {
  $("hidden").value = sizes.join(", ");
  submitSettings();
}

// ---- drawing ------------------------------------------------------------------------------
function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function colour(v, strength = 1) {
  // v in [-1, 1]: blue through white to orange, as TensorFlow Playground
  const [end, t] = v < 0 ? [BLUE, -v] : [ORANGE, v];
  return WHITE.map((w, i) => Math.round(w + (end[i] - w) * Math.min(t, 1) * strength));
}

function mapCanvas(bytes, grid, size, scale, strength = 1) {
  const small = document.createElement("canvas");
  small.width = small.height = grid;
  const context = small.getContext("2d");
  const image = context.createImageData(grid, grid);
  for (let i = 0; i < grid * grid; i++) {
    const [r, g, b] = colour(scale(bytes[i]), strength);
    image.data.set([r, g, b, 255], 4 * i);
  }
  context.putImageData(image, 0, 0);
  const big = document.createElement("canvas");
  big.width = big.height = size;
  const bigContext = big.getContext("2d");
  bigContext.imageSmoothingEnabled = true;
  bigContext.drawImage(small, 0, 0, size, size);
  return big;
}

function toPixel(x, y, size) {
  const [x0, x1, y0, y1] = app.state.domain;
  return [(x - x0) / (x1 - x0) * size, (y1 - y) / (y1 - y0) * size];
}

function drawBoundary() {
  const canvas = $("boundary"), size = canvas.width, context = canvas.getContext("2d");
  const frame = app.frame, points = app.state.points;
  // a paler map, so that the points in their class colours stand out on it
  const map = mapCanvas(decode(frame.boundary), frame.boundary_grid, size, (b) => 2 * b / 255 - 1, 0.55);
  context.drawImage(map, 0, 0);
  const test = new Set(points.test);
  points.X.forEach(([x, y], i) => {
    const [px, py] = toPixel(x, y, size);
    context.beginPath();
    context.arc(px, py, i === app.sample ? 6 : 3.5, 0, 2 * Math.PI);
    context.fillStyle = `rgb(${(points.y[i] ? ORANGE : BLUE).join(",")})`;
    context.fill();
    context.lineWidth = i === app.sample ? 2.5 : 1;
    context.strokeStyle = test.has(i) ? "#222" : "#fff";
    context.stroke();
  });
  canvas.dataset.epoch = String(app.epoch);
}

function drawLosses() {
  const train = app.history.loss || [], test = app.history.val_loss || [];
  const shown = (v) => v < 0.001 ? v.toExponential(2) : v.toFixed(3);
  const last = (values) => values.length ? shown(values[values.length - 1]) : "–";
  $("train-loss").textContent = last(train);
  $("test-loss").textContent = last(test);
  const svg = $("curve"), width = svg.width.baseVal.value, height = svg.height.baseVal.value;
  svg.replaceChildren();
  const top = Math.max(1e-9, ...train, ...test);
  const n = Math.max(train.length, 2);
  for (const [values, colourName] of [[test, "#999"], [train, "#222"]]) {
    if (!values.length) continue;
    const line = document.createElementNS(SVG, "polyline");
    const step = Math.max(1, Math.floor(values.length / 600));
    const coordinates = [];
    for (let i = 0; i < values.length; i += step) {
      coordinates.push(`${(i / (n - 1)) * width},${height - (values[i] / top) * (height - 4) - 2}`);
    }
    line.setAttribute("points", coordinates.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colourName);
    line.setAttribute("stroke-width", "1.5");
    svg.appendChild(line);
  }
}

function add(parent, name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  parent.appendChild(element);
  return element;
}

function drawNetwork() {
  const svg = $("network"), frame = app.frame;
  const width = svg.width.baseVal.value, height = svg.height.baseVal.value;
  const sizes = [2].concat(frame.layers.map((layer) => layer.W[0].length));
  const columns = sizes.length, gap = 12;
  // the widest layer fills the height at most: smaller maps for wider layers
  const node = Math.min(40, Math.floor((height - gap) / Math.max(...sizes) - gap));
  const xOf = (k) => 30 + k * (width - 60 - node) / (columns - 1);
  const yOf = (k, j) => (height - sizes[k] * (node + gap)) / 2 + j * (node + gap) + gap / 2;
  svg.replaceChildren();
  // edges first, under the nodes
  frame.layers.forEach((layer, k) => {
    layer.W.forEach((row, i) => row.forEach((w, j) => {
      const x1 = xOf(k) + node, y1 = yOf(k, i) + node / 2, x2 = xOf(k + 1), y2 = yOf(k + 1, j) + node / 2;
      const hit = add(svg, "line", {x1, y1, x2, y2, class: "edge-hit",
        "data-layer": k + 1, "data-from": i, "data-to": j});
      hit.addEventListener("click", () => choose({kind: "weight", layer: k + 1, from: i, to: j}));
      const selected = isTarget({kind: "weight", layer: k + 1, from: i, to: j});
      add(svg, "line", {x1, y1, x2, y2, class: "edge" + (selected ? " selected" : ""),
        stroke: `rgb(${(w > 0 ? ORANGE : BLUE).join(",")})`,
        "stroke-width": Math.min(8, 0.4 + 2 * Math.abs(w)).toFixed(2),
        "data-weight": w});
      const title = add(hit, "title", {});
      title.textContent = `w = ${w.toPrecision(4)}`;
    }));
  });
  // nodes: inputs show x1 and x2 themselves, the others their own output over the plane
  sizes.forEach((count, k) => {
    for (let j = 0; j < count; j++) {
      const x = xOf(k), y = yOf(k, j);
      let canvas;
      if (k === 0) {
        const grid = frame.neuron_grid, bytes = new Uint8Array(grid * grid);
        for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) {
          bytes[r * grid + c] = Math.round(255 * (j === 0 ? c : grid - 1 - r) / (grid - 1));
        }
        canvas = mapCanvas(bytes, grid, node, (b) => 2 * b / 255 - 1);
      } else {
        const neuron = frame.neurons[k - 1][j];
        const scale = neuron.probability ? (b) => 2 * b / 255 - 1 : (b) => b / 127.5 - 1;
        canvas = mapCanvas(decode(neuron.map), frame.neuron_grid, node, scale);
      }
      const image = add(svg, "image", {x, y, width: node, height: node, href: canvas.toDataURL(),
        class: "node", "data-layer": k, "data-index": j});
      const selected = isTarget({kind: "neuron", layer: k, index: j});
      add(svg, "rect", {x, y, width: node, height: node,
        class: "node-frame" + (selected ? " selected" : "")});
      if (k === 0) {
        const label = add(svg, "text", {x: x - 18, y: y + node / 2 + 4});
        label.textContent = app.state.points.feature_names[j];
        image.addEventListener("click", () => showInput(j));
      } else {
        image.addEventListener("click", () => choose({kind: "neuron", layer: k, index: j}));
        const b = frame.layers[k - 1].b[j];
        const bias = add(svg, "circle", {cx: x - 5, cy: y + node - 3, r: 4,
          class: "bias" + (isTarget({kind: "bias", layer: k, to: j}) ? " selected" : ""),
          fill: `rgb(${(b > 0 ? ORANGE : BLUE).join(",")})`, "data-layer": k, "data-to": j});
        bias.addEventListener("click", () => choose({kind: "bias", layer: k, to: j}));
        add(bias, "title", {}).textContent = `b = ${b.toPrecision(4)}`;
      }
    }
  });
  drawNeuronButtons(sizes, xOf, node);
}

function drawNeuronButtons(sizes, xOf, node) {
  const box = $("neuron-buttons");
  box.replaceChildren();
  const hidden = sizes.slice(1, -1);
  hidden.forEach((count, k) => {
    for (const [text, change] of [["+", 1], ["−", -1]]) {
      const button = document.createElement("button");
      button.textContent = text;
      button.title = `${change > 0 ? "add a neuron to" : "remove a neuron from"} hidden layer ${k + 1}`;
      button.className = change > 0 ? "add-neuron" : "remove-neuron";
      button.dataset.layer = String(k + 1);
      button.style.left = `${xOf(k + 1) + (change > 0 ? -4 : 22)}px`;
      button.addEventListener("click", () => {
        const next = hidden.slice();
        next[k] += change;
        setHidden(next);
      });
      box.appendChild(button);
    }
  });
}

// ---- the chain rule -----------------------------------------------------------------------
function isTarget(target) {
  const t = app.target;
  return Boolean(t) && ["kind", "layer", "from", "to", "index"].every((key) => t[key] === target[key]);
}

function showInput(j) {
  const points = app.state.points, x = points.X[app.sample];
  $("chain-panel").hidden = false;
  $("chain-title").textContent = `input ${points.feature_names[j]}`;
  $("chain-sample").textContent = `${points.feature_names[j]} is sample #${app.sample}'s feature: ${x[j]}`;
  $("chain-rows").replaceChildren();
  $("chain-note").textContent = "Inputs are given values; click a weight, a bias or a neuron for its chain rule.";
}

async function choose(target) {
  app.target = target;
  const answer = await call("/api/explain", {target, sample: app.sample});
  if (answer.errors) { showErrors(answer.errors, ["explain"]); return; }
  answer.run = app.state.run;
  app.chain = answer;
  drawNetwork();
  showChain(answer);
}

function showChain(chain) {
  $("chain-panel").hidden = false;
  const s = chain.sample, names = app.state.points.feature_names;
  $("chain-title").textContent = `of ${chain.title}`;
  $("chain-sample").textContent = `sample #${s.index} (${s.split}): ` +
    names.map((name, i) => `${name} = ${s.x[i]}`).join(", ") + `, target ${s.t[0]}; ` +
    `weights after epoch ${chain.epoch}. Every number is what chainrule explain prints.`;
  const table = $("chain-rows");
  table.replaceChildren();
  for (const row of chain.rows) {
    const tr = document.createElement("tr");
    tr.dataset.symbol = row.symbol;
    tr.dataset.value = String(row.value);
    if (row.symbol === chain.focus) tr.className = "focus";
    for (const [cls, text] of [["section", row.section], ["line", row.line], ["note", row.note || ""]]) {
      const td = document.createElement("td");
      td.className = cls;
      td.textContent = text;
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  const settings = app.state.settings;
  $("chain-note").textContent = `The update shown is one plain gradient-descent step on this ` +
    `sample alone (eta = learning rate ${settings.learning_rate}); the ${settings.optimizer} step of the run ` +
    `uses the mean gradient over a batch of ${settings.batch_size}` +
    (settings.l2 > 0 ? ` and adds L2's l2 * w (l2 = ${settings.l2})` : "") + ".";
  $("chain-spec").href = "data:text/plain;charset=utf-8," + encodeURIComponent(chain.spec);
  checkBox($("chain-check"), "chain", chain.spec, chain.symbols, chain.focus);
}

function checkBox(box, name, spec, symbols, chosen) {
  box.replaceChildren();
  const label = document.createElement("label");
  label.textContent = "check my number: ";
  const select = document.createElement("select");
  select.id = `${name}-symbol`;
  for (const symbol of symbols) {
    const option = document.createElement("option");
    option.textContent = symbol;
    select.appendChild(option);
  }
  if (chosen) select.value = chosen;
  const input = document.createElement("input");
  input.id = `${name}-value`;
  input.size = 14;
  input.placeholder = "your value";
  const button = document.createElement("button");
  button.id = `${name}-check-button`;
  button.textContent = "check";
  const error = document.createElement("span");
  error.className = "error";
  error.dataset.for = `${name}-check`;
  const verdict = document.createElement("p");
  verdict.id = `${name}-verdict`;
  verdict.className = "verdict";
  const run = async () => {
    verdict.textContent = "";
    error.textContent = "";
    const answer = await call("/api/check", {spec, symbol: select.value, value: input.value});
    if (answer.errors) { error.textContent = Object.values(answer.errors).join("; "); return; }
    verdict.className = "verdict " + (answer.ok ? "ok" : "wrong");
    verdict.dataset.kind = answer.kind;
    verdict.textContent = (answer.ok ? "✔ right: " : "✘ wrong: ") + answer.diagnosis;
  };
  button.addEventListener("click", run);
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") run(); });
  label.append(select, " = ", input, " ", button, error);
  box.append(label, verdict);
}

// ---- stepping through a spec file ---------------------------------------------------------
function showSpec() {
  const spec = app.spec, table = $("spec-rows");
  $("spec-steps").hidden = false;
  $("spec-title").textContent = spec.title;
  $("spec-position").textContent = `value ${app.specStep} of ${spec.rows.length}`;
  table.replaceChildren();
  spec.rows.forEach((row, i) => {
    const tr = document.createElement("tr");
    tr.dataset.symbol = row.symbol;
    const shown = i < app.specStep;
    tr.className = shown ? (i === app.specStep - 1 ? "current" : "") : "hidden-value";
    for (const [cls, text] of [["section", row.section],
      ["line", shown ? row.line : `${row.symbol} = ?`], ["note", shown ? row.note || "" : ""]]) {
      const td = document.createElement("td");
      td.className = cls;
      td.textContent = text;
      tr.appendChild(td);
    }
    table.appendChild(tr);
  });
  const claims = $("spec-claims");
  claims.replaceChildren();
  for (const claim of spec.claims) {
    const p = document.createElement("p");
    p.className = "verdict " + (claim.ok ? "ok" : "wrong");
    p.textContent = `${claim.ok ? "✔" : "✘"} your ${claim.name} = ${claim.claimed}: ${claim.diagnosis}`;
    claims.appendChild(p);
  }
  $("spec-back").disabled = app.specStep === 0;
  $("spec-next").disabled = app.specStep === spec.rows.length;
}

async function readFile(input) {
  const file = input.files[0];
  if (!file) return null;
  return {name: file.name, text: await file.text()};
}

// ---- wiring -------------------------------------------------------------------------------
function wire() {
  for (const name of FIELDS) $(name).addEventListener("change", () => submitSettings());
  for (const button of document.querySelectorAll("#datasets button")) {
    button.addEventListener("click", () => submitSettings({dataset: button.dataset.dataset}));
  }
  $("add-layer").addEventListener("click", () => {
    const sizes = hiddenSizes();
    setHidden(sizes.concat([sizes.length ? sizes[sizes.length - 1] : 2]));
  });
  $("remove-layer").addEventListener("click", () => setHidden(hiddenSizes().slice(0, -1)));
  $("play").addEventListener("click", () => call("/api/control", {action: app.playing ? "pause" : "play"}));
  $("step").addEventListener("click", () => call("/api/control", {action: "step"}));
  $("reset").addEventListener("click", () => call("/api/control", {action: "reset"}));
  $("speed").addEventListener("change", () => call("/api/control", {speed: $("speed").value}));
  $("boundary").addEventListener("click", (event) => {
    const canvas = $("boundary"), box = canvas.getBoundingClientRect();
    const px = (event.clientX - box.left) * canvas.width / box.width;
    const py = (event.clientY - box.top) * canvas.height / box.height;
    let best = -1, distance = 100;
    app.state.points.X.forEach(([x, y], i) => {
      const [qx, qy] = toPixel(x, y, canvas.width);
      const d = (qx - px) ** 2 + (qy - py) ** 2;
      if (d < distance) { best = i; distance = d; }
    });
    if (best < 0) return;
    app.sample = best;
    drawBoundary();
    if (app.target) choose(app.target);
  });
  $("csv").addEventListener("change", async () => {
    const file = await readFile($("csv"));
    if (!file) return;
    const answer = await call("/api/upload", file);
    if (showErrors(answer.errors, ["csv"])) return;
    applyState(answer);
  });
  $("show-python").addEventListener("click", async () => {
    const answer = await call("/api/python");
    if (!answer.errors) $("python").textContent = answer.code;
  });
  $("spec-file").addEventListener("change", async () => {
    const file = await readFile($("spec-file"));
    if (!file) return;
    const answer = await call("/api/spec", file);
    if (showErrors(answer.errors, ["spec"])) { $("spec-steps").hidden = true; return; }
    app.spec = answer;
    app.specStep = 0;
    showSpec();
    checkBox($("spec-check"), "spec", answer.spec, answer.symbols, null);
  });
  $("spec-next").addEventListener("click", () => { app.specStep += 1; showSpec(); });
  $("spec-back").addEventListener("click", () => { app.specStep -= 1; showSpec(); });
  $("spec-all").addEventListener("click", () => { app.specStep = app.spec.rows.length; showSpec(); });
}

wire();
load().then(connect);
