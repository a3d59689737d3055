/**
 * physode viewer: the true trajectory of a dataset and a trained model's prediction, in 3D.
 *
 * Read top to bottom: (1) the UI state, one object edited by the panel; (2) renderer, scene,
 * camera, controls; (3) where data arrives (`load`); (4) where the scene is built for the system
 * (`buildScene`); (5) where each frame is drawn (`drawFrame`, `animate`); (6) the panel,
 * keyboard, URL and screenshot wiring.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import 'uplot/dist/uPlot.min.css';
import '../style.css';
import { api, type Rollout, type RunInfo, type Trajectory } from './api.js';
import { Figure, figureKind, movingPoints, radiiFor } from './figure.js';
import { TrailSet, TRAIL_SEGMENT_BUDGET } from './trail.js';
import { Plots } from './plots.js';
import { bodyColor, errorColor, errorColorCss } from './colors.js';
import { readUrlState, writeUrlState } from './url-state.js';
import { defaultRun } from './default-run.js';
import { runBench, type BenchOptions, type BenchResult } from './bench.js';

// ---------------------------------------------------------------------------------------------
// (1) UI state: everything the panel edits, in one object.
const initial = readUrlState();
const state = {
  dataset: initial.dataset ?? '',
  traj: initial.traj ?? 0,
  run: initial.run ?? '',
  time: initial.t ?? 0,
  view: initial.view ?? ('overlay' as 'overlay' | 'side'),
  trail: 400,
  colorByError: false,
  follow: 'none',
  playing: false,
  loop: true,
  speed: 1,
};

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  dataset: $<HTMLSelectElement>('dataset'),
  traj: $<HTMLInputElement>('traj'),
  trajInfo: $<HTMLSpanElement>('traj-info'),
  run: $<HTMLSelectElement>('run'),
  view: $<HTMLSelectElement>('view'),
  trail: $<HTMLInputElement>('trail'),
  trailLabel: $<HTMLSpanElement>('trail-label'),
  colorByError: $<HTMLInputElement>('color-error'),
  follow: $<HTMLSelectElement>('follow'),
  fit: $<HTMLButtonElement>('fit'),
  screenshot: $<HTMLButtonElement>('screenshot'),
  status: $<HTMLSpanElement>('status'),
  quality: $<HTMLDivElement>('quality'),
  skipped: $<HTMLDivElement>('skipped'),
  bodies: $<HTMLDivElement>('bodies'),
  stage: $<HTMLDivElement>('stage'),
  canvas: $<HTMLCanvasElement>('canvas'),
  labelLeft: $<HTMLSpanElement>('label-left'),
  labelRight: $<HTMLSpanElement>('label-right'),
  legend: $<HTMLDivElement>('legend'),
  legendBar: $<HTMLDivElement>('legend-bar'),
  legendMax: $<HTMLSpanElement>('legend-max'),
  play: $<HTMLButtonElement>('play'),
  loop: $<HTMLInputElement>('loop'),
  speed: $<HTMLSelectElement>('speed'),
  scrubber: $<HTMLInputElement>('scrubber'),
  timeLabel: $<HTMLSpanElement>('time-label'),
};

/** True when WebGL is drawn by a CPU rasteriser (Chromium's SwiftShader, Mesa's llvmpipe). */
function isSoftwareGl(): boolean {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return true;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
}

const setStatus = (text: string, isError = false): void => {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', isError);
};

/** Runs from /api/runs, kept for the quality note of the selected run. */
let runsById = new Map<string, RunInfo>();

const fmt = (x: number): string => (x < 0.01 ? x.toExponential(1) : x.toPrecision(2));

/**
 * Says plainly how the selected model compares with predicting the mean: from the run's
 * validation records, and from this rollout against this trajectory's truth.
 */
function showQuality(rollout: Rollout | null): void {
  const run = state.run ? runsById.get(state.run) : undefined;
  const parts: string[] = [];
  let bad = false;
  if (run) {
    parts.push(run.quality.message);
    bad = run.quality.verdict === 'no-better-than-mean' || run.quality.verdict === 'barely-better-than-mean';
  }
  if (rollout && rollout.mse !== null && rollout.meanBaselineMse !== null) {
    const worse = rollout.mse >= rollout.meanBaselineMse;
    parts.push(
      worse
        ? `on this trajectory the prediction (MSE ${fmt(rollout.mse)}) is no better than predicting the mean (${fmt(rollout.meanBaselineMse)})`
        : `on this trajectory: MSE ${fmt(rollout.mse)}, predicting the mean ${fmt(rollout.meanBaselineMse)}`,
    );
    bad ||= worse;
  }
  ui.quality.textContent = parts.join('; ');
  ui.quality.hidden = parts.length === 0;
  ui.quality.classList.toggle('warn', bad);
}

/** The legend of body colours (trails and bodies use bodyColor(k) for the k-th moving point). */
function showBodyLegend(traj: Trajectory | null): void {
  const kind = traj ? figureKind(traj.system.name) : 'chain';
  const moving = traj ? movingPoints(kind, traj.pointCount) : [];
  ui.bodies.replaceChildren();
  ui.bodies.hidden = !traj || kind !== 'bodies' || moving.length < 2;
  if (ui.bodies.hidden || !traj) return;
  const masses = traj.system.paramLabels.flatMap((l, j) => (/^mass\d+$/.test(l) ? [traj.params[j]] : []));
  moving.forEach((_, k) => {
    const item = document.createElement('span');
    item.className = 'body-item';
    const dot = document.createElement('i');
    dot.style.background = `#${bodyColor(k).getHexString()}`;
    item.append(dot, `body ${k + 1}${masses.length === moving.length ? ` (m ${masses[k].toPrecision(3)})` : ''}`);
    ui.bodies.append(item);
  });
}

/** "phase space: components a, b, c" for a dataset of no registered system, else null. */
function phaseSpaceWords(traj: Trajectory): string | null {
  const axes = traj.system.phaseSpace;
  return axes ? `phase space: components ${axes.labels.join(', ')}` : null;
}

/** Sentences for charts with nothing to draw. */
function explainEmptyPlots(traj: Trajectory, rollout: Rollout | null, rolloutError: string): void {
  plots.setEmpty(
    'error',
    rollout ? null
    : rolloutError ? `no prediction error: the rollout failed (${rolloutError})`
    : 'no prediction error to show: choose a run in the panel to compare its prediction with the truth',
  );
  plots.setEmpty('energy', traj.energy ? null : `no energy: ${traj.system.name} is not a physical system of physode (drawn in ${phaseSpaceWords(traj) ?? 'phase space'})`);
}

// ---------------------------------------------------------------------------------------------
// (2) Renderer, scene, camera, controls. Multisampling is left off on software GL (SwiftShader,
// llvmpipe), where it costs a third of the frame; `?aa=1` or `?aa=0` overrides.
const aaParam = new URLSearchParams(location.search).get('aa');
const renderer = new THREE.WebGLRenderer({ canvas: ui.canvas, antialias: aaParam === null ? !isSoftwareGl() : aaParam === '1' });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
const scene = new THREE.Scene();
scene.background = new THREE.Color(0x0e1116);
scene.add(new THREE.HemisphereLight(0xdde8ff, 0x202530, 1.2));
const sun = new THREE.DirectionalLight(0xffffff, 2.0);
sun.position.set(3, 5, 8);
scene.add(sun);
const camera = new THREE.PerspectiveCamera(45, 1, 0.01, 1000);
camera.position.set(0, 0, 5);
const controls = new OrbitControls(camera, ui.canvas);
controls.enableDamping = true;
const truthGroup = new THREE.Group();
const predGroup = new THREE.Group();
const helpers = new THREE.Group();
scene.add(truthGroup, predGroup, helpers);
const plots = new Plots($('plot-error'), $('plot-energy'));

// ---------------------------------------------------------------------------------------------
// (3) Data: one trajectory and, with a run, its rollout, as float arrays indexed by sample.
interface Loaded {
  readonly traj: Trajectory;
  readonly t: Float64Array;
  /** True points [samples, P, 3]. */
  readonly truePts: Float32Array;
  readonly rollout: Rollout | null;
  /** Predicted points [samples', P, 3] (samples' <= samples). */
  readonly predPts: Float32Array | null;
  /** Distance between predicted and true point [samples', P]. */
  readonly pointError: Float32Array | null;
  readonly errorMax: number;
  /** Mass of each point, for the centre of mass (1 when the system has no masses). */
  readonly masses: number[];
}
let data: Loaded | null = null;
let loadSeq = 0;

async function load(): Promise<void> {
  const seq = ++loadSeq;
  if (!state.dataset) return;
  setStatus(`loading ${state.dataset} #${state.traj}...`);
  document.body.dataset.ready = '0';
  try {
    const trajPromise = api.trajectory(state.dataset, state.traj);
    const rolloutPromise = state.run ? api.rollout(state.run, state.dataset, state.traj) : Promise.resolve(null);
    const traj = await trajPromise;
    let rollout: Rollout | null = null;
    let rolloutError = '';
    try {
      rollout = await rolloutPromise;
    } catch (err) {
      rolloutError = (err as Error).message;
    }
    if (seq !== loadSeq) return;
    const P = traj.pointCount;
    const samplesPred = rollout ? Math.min(rollout.samples, traj.samples) : 0;
    const pointError = rollout ? Float32Array.from(rollout.pointError.slice(0, samplesPred * P)) : null;
    let errorMax = 0;
    if (pointError) for (const e of pointError) if (Number.isFinite(e)) errorMax = Math.max(errorMax, e);
    const masses = new Array<number>(P).fill(1);
    const massValues = traj.system.paramLabels.flatMap((l, j) => (/^mass\d+$/.test(l) ? [traj.params[j]] : []));
    const moving = movingPoints(figureKind(traj.system.name), P);
    if (massValues.length === moving.length) moving.forEach((p, k) => (masses[p] = massValues[k]));
    data = {
      traj,
      t: Float64Array.from(traj.t),
      truePts: Float32Array.from(traj.positions),
      rollout,
      predPts: rollout ? Float32Array.from(rollout.predictedPositions.slice(0, samplesPred * P * 3)) : null,
      pointError,
      errorMax,
      masses,
    };
    state.time = Math.min(Math.max(state.time, traj.t[0]), traj.t[traj.t.length - 1]);
    buildScene(data);
    plots.setData({
      t: traj.t,
      error: rollout ? rollout.error.slice(0, samplesPred) : null,
      trueEnergy: traj.energy,
      predictedEnergy: rollout?.predictedEnergy ? rollout.predictedEnergy.slice(0, samplesPred) : null,
    });
    explainEmptyPlots(traj, rollout, rolloutError);
    showQuality(rollout);
    showBodyLegend(traj);
    ui.trajInfo.textContent = [traj.split, traj.system.name, phaseSpaceWords(traj)].filter((w) => w !== null).join(', ');
    setStatus(
      rolloutError
        ? `rollout failed: ${rolloutError}`
        : rollout
          ? `${traj.samples} samples; rollout of ${rollout.run} ${rollout.cached ? '(cached)' : `computed in ${rollout.computeMs} ms`}`
          : `${traj.samples} samples; no run selected`,
      rolloutError !== '',
    );
    document.body.dataset.ready = '1';
  } catch (err) {
    if (seq !== loadSeq) return;
    setStatus((err as Error).message, true);
    plots.setEmpty('error', `nothing to plot: ${(err as Error).message}`);
    plots.setEmpty('energy', `nothing to plot: ${(err as Error).message}`);
    document.body.dataset.ready = 'error';
  }
}

// ---------------------------------------------------------------------------------------------
// (4) The scene for the system: figures (truth solid, prediction ghosted), trails, a grid.
let truthFigure: Figure | null = null;
let predFigure: Figure | null = null;
let trueTrails: TrailSet | null = null;
let predTrails: TrailSet | null = null;
let extent = { center: new THREE.Vector3(), radius: 1 };

function pointPath(pts: Float32Array, P: number, p: number): Float32Array {
  const n = pts.length / (P * 3);
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) out.set(pts.subarray((i * P + p) * 3, (i * P + p) * 3 + 3), i * 3);
  return out;
}

function clearScene(): void {
  for (const obj of [truthFigure, predFigure]) obj?.dispose();
  trueTrails?.dispose();
  predTrails?.dispose();
  truthGroup.clear();
  predGroup.clear();
  helpers.clear();
  trueTrails = predTrails = null;
  truthFigure = predFigure = null;
}

function buildScene(d: Loaded): void {
  clearScene();
  const { traj } = d;
  const P = traj.pointCount;
  const kind = figureKind(traj.system.name);
  // The scene is sized by the truth (a diverging prediction must not shrink it out of sight).
  const box = new THREE.Box3();
  const pts = d.truePts;
  for (let i = 0; i < pts.length; i += 3) {
    if (Number.isFinite(pts[i]) && Number.isFinite(pts[i + 1]) && Number.isFinite(pts[i + 2])) {
      box.expandByPoint(new THREE.Vector3(pts[i], pts[i + 1], pts[i + 2]));
    }
  }
  const sphere = box.getBoundingSphere(new THREE.Sphere());
  extent = { center: sphere.center, radius: Math.max(sphere.radius, 1e-3) };
  const base = extent.radius * 0.06;
  const hint = traj.pointRadius;
  const radii = hint && hint.length === P && Math.max(...hint) > 0
    ? hint.map((r) => Math.max(base / 3, (base * r) / Math.max(...hint)))
    : radiiFor(kind, P, traj.system.paramLabels, traj.params, base);

  truePose = new Float32Array(P * 3);
  predPose = new Float32Array(P * 3);
  truthFigure = new Figure({ kind, pointCount: P, radii, ghost: false });
  truthGroup.add(truthFigure.group);
  const moving = movingPoints(kind, P);
  trueTrails = new TrailSet(moving.map((p, k) => ({ path: pointPath(d.truePts, P, p), color: bodyColor(k) })), 3);
  truthGroup.add(trueTrails.object);
  if (d.predPts) {
    predFigure = new Figure({ kind, pointCount: P, radii, ghost: true });
    predGroup.add(predFigure.group);
    const color = new THREE.Color();
    const n = d.predPts.length / (P * 3);
    predTrails = new TrailSet(
      moving.map((p, k) => {
        const errorColors = new Float32Array(n * 3);
        for (let i = 0; i < n; i++) errorColor(d.pointError![i * P + p] / (d.errorMax || 1), color).toArray(errorColors, i * 3);
        return { path: pointPath(d.predPts!, P, p), color: bodyColor(k).lerp(new THREE.Color(0xffffff), 0.35), errorColors };
      }),
      2,
      0.55,
    );
    predGroup.add(predTrails.object);
  }
  // Level of detail: the trail sets share one budget of segments per frame.
  trueTrails.budget = predTrails ? TRAIL_SEGMENT_BUDGET / 2 : TRAIL_SEGMENT_BUDGET;
  if (predTrails) predTrails.budget = TRAIL_SEGMENT_BUDGET / 2;

  // A faint grid in the plane of the motion's two widest axes, below the data.
  const size = box.getSize(new THREE.Vector3());
  const grid = new THREE.GridHelper(extent.radius * 4, 20, 0x3a4453, 0x232a35);
  const thinnest = size.x <= size.y && size.x <= size.z ? 'x' : size.y <= size.z ? 'y' : 'z';
  if (thinnest === 'z') {
    grid.rotation.x = Math.PI / 2;
    grid.position.set(extent.center.x, extent.center.y, box.min.z - extent.radius * 0.05);
  } else if (thinnest === 'x') {
    grid.rotation.z = Math.PI / 2;
    grid.position.set(box.min.x - extent.radius * 0.05, extent.center.y, extent.center.z);
  } else {
    grid.position.set(extent.center.x, box.min.y - extent.radius * 0.05, extent.center.z);
  }
  helpers.add(grid);

  // Panel parts that depend on the system.
  const followed = ui.follow.value;
  ui.follow.replaceChildren(new Option('nothing', 'none'), new Option('centre of mass', 'com'));
  movingPoints(kind, P).forEach((p, k) => ui.follow.append(new Option(`${kind === 'chain' ? 'bob' : 'body'} ${k + 1}`, String(p))));
  ui.follow.value = [...ui.follow.options].some((o) => o.value === followed) ? followed : 'none';
  state.follow = ui.follow.value;
  const samples = d.t.length;
  ui.trail.max = String(samples);
  if (state.trail > samples) state.trail = samples;
  ui.trail.value = String(state.trail);
  ui.trailLabel.textContent = String(state.trail);
  ui.legendMax.textContent = d.errorMax.toPrecision(3);
  // Look at planar motion face on (from +y slightly tilted, as OrbitControls keeps y up), at
  // motion in 3D from above and aside.
  const flat = Math.min(size.x, size.y, size.z) < 0.05 * Math.max(size.x, size.y, size.z, 1e-9);
  const direction = (
    thinnest === 'z' ? (flat ? new THREE.Vector3(0, 0, 1) : new THREE.Vector3(0.3, 0.5, 1))
    : thinnest === 'y' ? (flat ? new THREE.Vector3(0, 1, 0.05) : new THREE.Vector3(0.3, 0.8, 1))
    : (flat ? new THREE.Vector3(1, 0, 0) : new THREE.Vector3(1, 0.5, 0.3))
  ).normalize();
  camera.position.copy(extent.center).add(direction);
  controls.target.copy(extent.center);
  fitCamera();
}

/** Points of the trajectory `pts` at time `time`, linearly interpolated between samples. */
function poseAt(pts: Float32Array, P: number, t: Float64Array, time: number, out: Float32Array): number {
  const n = pts.length / (P * 3);
  let lo = 0;
  let hi = Math.min(n, t.length) - 1;
  if (time >= t[hi]) lo = hi;
  else {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (t[mid] <= time) lo = mid;
      else hi = mid;
    }
  }
  const next = Math.min(lo + 1, n - 1);
  const span = t[next] - t[lo];
  const a = span > 0 ? Math.min(1, Math.max(0, (time - t[lo]) / span)) : 0;
  for (let j = 0; j < P * 3; j++) out[j] = pts[lo * P * 3 + j] * (1 - a) + pts[next * P * 3 + j] * a;
  return lo;
}

function fitCamera(): void {
  const fov = THREE.MathUtils.degToRad(camera.fov);
  const distance = (extent.radius / Math.sin(fov / 2)) * 1.15;
  const direction = camera.position.clone().sub(controls.target);
  if (direction.lengthSq() === 0) direction.set(0, 0, 1);
  direction.normalize();
  controls.target.copy(extent.center);
  camera.position.copy(extent.center).addScaledVector(direction, distance);
  camera.near = distance / 100;
  camera.far = distance * 100;
  camera.updateProjectionMatrix();
  controls.update();
}

// ---------------------------------------------------------------------------------------------
// (5) Each frame: advance time, pose the figures, update trails, follow, render (one view or two).
let truePose = new Float32Array(0);
let predPose = new Float32Array(0);
let lastNow = performance.now();
let lastIndex = -1;
let benchRunning = false;
let frames = 0;

function duration(): number {
  return data ? data.t[data.t.length - 1] - data.t[0] : 0;
}

function advance(seconds: number): void {
  if (!data) return;
  const t0 = data.t[0];
  const t1 = data.t[data.t.length - 1];
  // At 1x the whole trajectory plays in 12 seconds.
  state.time += seconds * state.speed * (duration() / 12);
  if (state.time > t1) {
    if (state.loop) state.time = t0 + ((state.time - t0) % (t1 - t0 || 1));
    else {
      state.time = t1;
      setPlaying(false);
    }
  }
}

function centreOfMass(pose: Float32Array, d: Loaded): THREE.Vector3 {
  const c = new THREE.Vector3();
  let m = 0;
  for (const p of movingPoints(figureKind(d.traj.system.name), d.traj.pointCount)) {
    c.x += pose[p * 3] * d.masses[p];
    c.y += pose[p * 3 + 1] * d.masses[p];
    c.z += pose[p * 3 + 2] * d.masses[p];
    m += d.masses[p];
  }
  return c.divideScalar(m || 1);
}

function drawFrame(): void {
  const width = ui.stage.clientWidth;
  const height = ui.stage.clientHeight;
  if (ui.canvas.width !== Math.floor(width * renderer.getPixelRatio()) || ui.canvas.height !== Math.floor(height * renderer.getPixelRatio())) {
    renderer.setSize(width, height, false);
  }
  const side = state.view === 'side' && predFigure !== null;
  const viewWidth = side ? width / 2 : width;
  if (data && truthFigure) {
    const P = data.traj.pointCount;
    const index = poseAt(data.truePts, P, data.t, state.time, truePose);
    truthFigure.setPose(truePose);
    trueTrails?.update(index, state.trail, false);
    if (predFigure && data.predPts) {
      const predIndex = poseAt(data.predPts, P, data.t, state.time, predPose);
      predFigure.setPose(predPose);
      const colored = state.colorByError;
      predFigure.setPointColors(colored ? (p, out) => errorColor(data!.pointError![predIndex * P + p] / (data!.errorMax || 1), out) : null);
      predTrails?.update(predIndex, state.trail, colored);
    }
    if (state.follow !== 'none') {
      const target = state.follow === 'com' ? centreOfMass(truePose, data) : new THREE.Vector3().fromArray(truePose, Number(state.follow) * 3);
      camera.position.add(target.clone().sub(controls.target));
      controls.target.copy(target);
    }
    if (index !== lastIndex) {
      lastIndex = index;
      plots.setTime(state.time);
      ui.scrubber.value = String(duration() > 0 ? (state.time - data.t[0]) / duration() : 0);
      ui.timeLabel.textContent = `t = ${state.time.toFixed(3)} (${index + 1}/${data.t.length})`;
    }
  }
  trueTrails?.setResolution(viewWidth, height);
  predTrails?.setResolution(viewWidth, height);
  truthFigure?.setResolution(viewWidth, height);
  predFigure?.setResolution(viewWidth, height);
  controls.update();

  if (side) {
    camera.aspect = viewWidth / height;
    camera.updateProjectionMatrix();
    renderer.setScissorTest(true);
    for (const [x, truth] of [[0, true], [viewWidth, false]] as const) {
      renderer.setViewport(x, 0, viewWidth, height);
      renderer.setScissor(x, 0, viewWidth, height);
      truthGroup.visible = truth;
      predGroup.visible = !truth;
      renderer.render(scene, camera);
    }
    renderer.setScissorTest(false);
    renderer.setViewport(0, 0, width, height);
  } else {
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    truthGroup.visible = predGroup.visible = true;
    renderer.render(scene, camera);
  }
  ui.labelLeft.textContent = side ? 'true' : predFigure ? 'true (solid) and predicted (ghosted)' : 'true';
  ui.labelRight.textContent = side ? 'predicted' : '';
  ui.legend.hidden = !(state.colorByError && predFigure);
  frames++;
}

function animate(now: number): void {
  requestAnimationFrame(animate);
  const seconds = Math.min(0.1, (now - lastNow) / 1000);
  lastNow = now;
  if (benchRunning) return;
  if (state.playing) advance(seconds);
  drawFrame();
}

// ---------------------------------------------------------------------------------------------
// (6) Panel, timeline, keyboard, URL state, screenshot.
function setPlaying(playing: boolean): void {
  state.playing = playing;
  ui.play.textContent = playing ? '❚❚ pause' : '▶ play';
  ui.play.setAttribute('aria-pressed', String(playing));
}

function seek(time: number): void {
  if (!data) return;
  state.time = Math.min(Math.max(time, data.t[0]), data.t[data.t.length - 1]);
  lastIndex = -1;
}

/** Moves `steps` samples from the current one. */
function step(steps: number): void {
  if (!data) return;
  setPlaying(false);
  const P = data.traj.pointCount;
  const index = poseAt(data.truePts, P, data.t, state.time, truePose);
  const exact = data.t[index] === state.time;
  const target = steps < 0 && !exact ? index + steps + 1 : index + steps;
  seek(data.t[Math.min(Math.max(target, 0), data.t.length - 1)]);
}

async function populate(): Promise<void> {
  const [{ datasets, skipped }, runs] = await Promise.all([api.datasets(), api.runs()]);
  runsById = new Map(runs.map((r) => [r.id, r]));
  ui.dataset.replaceChildren(...datasets.map((d) => new Option(`${d.name} (${d.system}, ${d.count})`, d.name)));
  // Without a dataset in the URL: the first one that has a run trained on it, else the first.
  if (!datasets.some((d) => d.name === state.dataset)) state.dataset = (datasets.find((d) => defaultRun(runs, d.name) !== '') ?? datasets[0])?.name ?? '';
  ui.dataset.value = state.dataset;
  ui.skipped.hidden = skipped.length === 0;
  ui.skipped.textContent = skipped.length === 0 ? '' : `not shown: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`;
  // The URL's run (even an empty one, `?run=`) wins at load; otherwise the dataset's trained run.
  let urlRun: string | undefined = initial.run;
  const fillRuns = (): void => {
    const forDataset = runs.filter((r) => r.dataset === null || r.dataset === state.dataset);
    ui.run.replaceChildren(new Option('(none)', ''), ...forDataset.map((r) => new Option(r.dataset ? r.id : `${r.id} (dataset unknown)`, r.id)));
    state.run = urlRun !== undefined && (urlRun === '' || forDataset.some((r) => r.id === urlRun)) ? urlRun : defaultRun(runs, state.dataset);
    urlRun = undefined;
    ui.run.value = state.run;
  };
  const fillTraj = (): void => {
    const info = datasets.find((d) => d.name === state.dataset);
    ui.traj.max = String(Math.max(0, (info?.count ?? 1) - 1));
    if (state.traj > Number(ui.traj.max)) state.traj = 0;
    ui.traj.value = String(state.traj);
  };
  fillRuns();
  fillTraj();
  ui.dataset.addEventListener('change', () => {
    state.dataset = ui.dataset.value;
    fillRuns();
    fillTraj();
    void load();
  });
  if (datasets.length === 0) {
    setStatus('no datasets found: generate one with `physode generate`', true);
    const sentence = skipped.length > 0 ? 'no dataset to show: the datasets found are damaged or unfinished (see above)' : 'no dataset to show: generate one with physode generate <system>, or run npm start';
    plots.setEmpty('error', sentence);
    plots.setEmpty('energy', sentence);
    document.body.dataset.ready = 'empty';
  }
}

ui.traj.addEventListener('change', () => {
  const value = Math.floor(Number(ui.traj.value));
  state.traj = Number.isFinite(value) ? Math.min(Math.max(value, 0), Number(ui.traj.max)) : 0;
  ui.traj.value = String(state.traj);
  void load();
});
ui.run.addEventListener('change', () => {
  state.run = ui.run.value;
  void load();
});
ui.view.value = state.view;
ui.view.addEventListener('change', () => (state.view = ui.view.value === 'side' ? 'side' : 'overlay'));
ui.trail.addEventListener('input', () => {
  state.trail = Number(ui.trail.value);
  ui.trailLabel.textContent = ui.trail.value;
});
ui.colorByError.addEventListener('change', () => (state.colorByError = ui.colorByError.checked));
ui.follow.addEventListener('change', () => (state.follow = ui.follow.value));
ui.fit.addEventListener('click', () => fitCamera());
ui.play.addEventListener('click', () => setPlaying(!state.playing));
ui.loop.addEventListener('change', () => (state.loop = ui.loop.checked));
ui.speed.addEventListener('change', () => (state.speed = Number(ui.speed.value)));
ui.scrubber.addEventListener('input', () => {
  if (data) seek(data.t[0] + Number(ui.scrubber.value) * duration());
});
plots.onSeek = (t) => seek(t);
ui.legendBar.style.background = errorColorCss();

window.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement;
  if (target instanceof HTMLSelectElement || (target instanceof HTMLInputElement && target.type !== 'range' && target.type !== 'checkbox')) return;
  if (e.key === ' ') setPlaying(!state.playing);
  else if (e.key === 'ArrowRight') step(e.shiftKey ? 10 : 1);
  else if (e.key === 'ArrowLeft') step(e.shiftKey ? -10 : -1);
  else if (e.key === 'Home' && data) seek(data.t[0]);
  else if (e.key === 'End' && data) seek(data.t[data.t.length - 1]);
  else return;
  e.preventDefault();
});

setInterval(() => {
  writeUrlState({ dataset: state.dataset, traj: state.traj, run: state.run, t: state.time, view: state.view });
}, 400);

/** Renders one frame and saves the canvas as a PNG (toBlob in the same task reads that frame). */
ui.screenshot.addEventListener('click', () => {
  drawFrame();
  ui.canvas.toBlob((blob) => {
    if (!blob) return setStatus('screenshot failed: the canvas gave no image', true);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `physode-${state.dataset}-${state.traj}${state.run ? `-${state.run}` : ''}-t${state.time.toFixed(2)}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
});

new ResizeObserver(() => plots.resize()).observe($('plots'));

// The benchmark (bench.ts), reachable from tests and the console; `?bench=1` runs it on load.
async function physodeBench(opts?: BenchOptions): Promise<BenchResult> {
  benchRunning = true;
  try {
    const result = await runBench(renderer, opts);
    setStatus(`benchmark: ${result.fps.toFixed(1)} fps, ${result.bodies} bodies x ${result.trailSamples}-sample trails, ${result.glRenderer}`);
    return result;
  } finally {
    benchRunning = false;
  }
}

declare global {
  interface Window {
    physodeBench: typeof physodeBench;
    physode: {
      state: typeof state;
      frames: () => number;
      plotCounts: () => { error: number; energy: number };
      plotNotes: () => { error: string | null; energy: string | null };
    };
  }
}
window.physodeBench = physodeBench;
window.physode = { state, frames: () => frames, plotCounts: () => plots.counts(), plotNotes: () => plots.emptyNotes() };

// Go: fill the panel, load the URL's selection, start the loop.
setPlaying(false);
requestAnimationFrame(animate);
populate()
  .then(async () => {
    const t = initial.t;
    await load();
    if (t !== undefined) seek(t);
    if (new URLSearchParams(location.search).get('bench') === '1') {
      const result = await physodeBench();
      document.body.dataset.bench = JSON.stringify(result);
    }
  })
  .catch((err: Error) => setStatus(err.message, true));
