/**
 * The viewer's frame-rate benchmark: 20 bodies with 5,000-sample trails (the target),
 * drawn with the viewer's own Figure and TrailSet classes and renderer, trails advancing every
 * frame. Frames are counted with requestAnimationFrame
 * over a few seconds. Run it from the page with `?bench=1` or `await physodeBench()`.
 */
import * as THREE from 'three';
import { Figure } from './figure.js';
import { TrailSet, TRAIL_SEGMENT_BUDGET } from './trail.js';
import { bodyColor } from './colors.js';
import type { BenchOptions, BenchResult } from './bench-result.js';

export type { BenchOptions, BenchResult } from './bench-result.js';

/** Name of the GL implementation (e.g. SwiftShader for Chromium's software rendering). */
export function glRendererName(renderer: THREE.WebGLRenderer): string {
  const gl = renderer.getContext();
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

/** Body k's path: a precessing ellipse with its own radius and phase (any smooth 3D curve will do). */
function path(k: number, samples: number, totalSamples: number): Float32Array {
  const out = new Float32Array(totalSamples * 3);
  const r = 1 + 0.25 * k;
  const w = 0.004 * (1 + (k % 5) * 0.3);
  for (let i = 0; i < totalSamples; i++) {
    const a = i * w + k;
    out[i * 3] = r * Math.cos(a) + 0.2 * Math.cos(7 * a + k);
    out[i * 3 + 1] = r * 0.7 * Math.sin(a) + 0.2 * Math.sin(5 * a);
    out[i * 3 + 2] = 0.4 * Math.sin(3 * a + k) * (samples > 0 ? 1 : 0);
  }
  return out;
}

export async function runBench(renderer: THREE.WebGLRenderer, opts: BenchOptions = {}): Promise<BenchResult> {
  const bodies = opts.bodies ?? 20;
  const samples = opts.samples ?? 5000;
  const seconds = opts.seconds ?? 4;
  const maxSegments = opts.maxSegments ?? Math.floor(TRAIL_SEGMENT_BUDGET / bodies);
  const total = samples + 4000; // room for the trail window to advance during the run
  const size = renderer.getDrawingBufferSize(new THREE.Vector2());
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x0e1116);
  scene.add(new THREE.AmbientLight(0xffffff, 0.6));
  const sun = new THREE.DirectionalLight(0xffffff, 1.8);
  sun.position.set(3, 5, 8);
  scene.add(sun);
  const camera = new THREE.PerspectiveCamera(45, size.x / size.y, 0.1, 100);
  camera.position.set(0, -4, 12);
  camera.lookAt(0, 0, 0);
  const paths = Array.from({ length: bodies }, (_, k) => path(k, samples, total));
  const figure = new Figure({ kind: 'bodies', pointCount: bodies, radii: new Array(bodies).fill(0.12), ghost: false });
  scene.add(figure.group);
  const trails = new TrailSet(paths.map((path, k) => ({ path, color: bodyColor(k) })), 2.5);
  trails.budget = opts.maxSegments ? opts.maxSegments * bodies : TRAIL_SEGMENT_BUDGET;
  trails.setResolution(size.x, size.y);
  scene.add(trails.object);
  const points = new Float32Array(bodies * 3);
  const frameMs: number[] = [];
  const drawMs: number[] = [];
  let head = samples;
  const draw = (): void => {
    if (!opts.still) head = Math.min(total - 1, head + 1);
    for (let k = 0; k < bodies; k++) points.set(paths[k].subarray(head * 3, head * 3 + 3), k * 3);
    figure.setPose(points);
    trails.update(head, samples, false);
    renderer.render(scene, camera);
  };
  // Warm up (shader compilation, first uploads) for a few frames or up to 2 s before timing.
  await new Promise<void>((done) => {
    let n = 0;
    const first = performance.now();
    const tick = (now: number): void => {
      draw();
      if (++n < 5 && now - first < 2000) requestAnimationFrame(tick);
      else done();
    };
    requestAnimationFrame(tick);
  });
  await new Promise<void>((done) => {
    let start = -1;
    let last = -1;
    const tick = (now: number): void => {
      if (start < 0) start = now;
      else frameMs.push(now - last);
      last = now;
      const before = performance.now();
      draw();
      drawMs.push(performance.now() - before);
      if (now - start < seconds * 1000) requestAnimationFrame(tick);
      else done();
    };
    requestAnimationFrame(tick);
  });
  const elapsed = frameMs.reduce((a, b) => a + b, 0) / 1000;
  const sorted = [...frameMs].sort((a, b) => a - b);
  const sortedDraw = [...drawMs].sort((a, b) => a - b);
  trails.dispose();
  figure.dispose();
  return {
    fps: frameMs.length / elapsed,
    frames: frameMs.length,
    seconds: elapsed,
    bodies,
    trailSamples: samples,
    segmentsPerFrame: bodies * (samples - 1),
    drawnSegmentsPerFrame: bodies * Math.ceil((samples - 1) / Math.max(1, Math.ceil((samples - 1) / maxSegments))),
    medianFrameMs: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    p95FrameMs: sorted[Math.floor(sorted.length * 0.95)] ?? NaN,
    medianDrawMs: sortedDraw[Math.floor(sortedDraw.length / 2)] ?? NaN,
    p95DrawMs: sortedDraw[Math.floor(sortedDraw.length * 0.95)] ?? NaN,
    canvas: { width: size.x, height: size.y },
    glRenderer: glRendererName(renderer),
  };
}
