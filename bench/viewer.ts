/**
 * `npm run bench -- --only viewer [--seconds S] [--bodies N] [--samples K] [--max-segments M] [--width W --height H]`:
 * the viewer's in-page frame-rate benchmark (viewer/src/bench.ts: N bodies with K-sample trails,
 * defaults 20 and 5,000) in headless Debian Chromium with software rendering, driven by
 * playwright-core. Prints frames per second and the GL implementation that drew them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../viewer/headless-chromium.js';
import type { BenchOptions, BenchResult } from '../viewer/src/bench-result.js';
import { startServer } from '../src/server/start.js';
import { cpuDifference, descendantCpu } from './process-cpu.js';


type BenchPage = { physodeBench?: (o: BenchOptions) => Promise<BenchResult> };

export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      seconds: { type: 'string', default: '5' },
      'max-segments': { type: 'string' },
      bodies: { type: 'string', default: '20' },
      samples: { type: 'string', default: '5000' },
      width: { type: 'string', default: '1280' },
      height: { type: 'string', default: '720' },
    },
  });
  if (!hasChromium()) {
    console.log(`viewer: skipped, ${CHROMIUM_PATH} not found (apt-get install chromium)`);
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'physode-bench-viewer-'));
  const server = await startServer({ port: 0, datasetsDir: join(root, 'datasets'), runsDir: join(root, 'runs') });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: Number(values.width), height: Number(values.height) } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => typeof (globalThis as BenchPage).physodeBench === 'function');
    const opts = {
      bodies: Number(values.bodies),
      samples: Number(values.samples),
      seconds: Number(values.seconds),
      ...(values['max-segments'] ? { maxSegments: Number(values['max-segments']) } : {}),
    };
    // A first short run compiles the shaders and fills the caches, so the measured one is steady.
    await page.evaluate((o) => (globalThis as BenchPage).physodeBench!(o), { ...opts, seconds: 1 });
    const cpuBefore = descendantCpu();
    const result = await page.evaluate((o) => (globalThis as BenchPage).physodeBench!(o), opts);
    const cpuAfter = descendantCpu();
    console.log(
      `viewer: ${result.fps.toFixed(1)} fps (${result.frames} frames in ${result.seconds.toFixed(2)} s; median ${result.medianFrameMs.toFixed(1)} ms, p95 ${result.p95FrameMs.toFixed(1)} ms per frame; page's own work ${result.medianDrawMs.toFixed(1)} ms median, ${result.p95DrawMs.toFixed(1)} ms p95)`,
    );
    console.log(
      `  ${result.bodies} bodies x ${result.trailSamples}-sample trails (${result.segmentsPerFrame} segments, ${result.drawnSegmentsPerFrame} drawn per frame after level of detail), canvas ${result.canvas.width}x${result.canvas.height}, GL: ${result.glRenderer}`,
    );
    if (cpuBefore && cpuAfter) {
      // The page's own few warm-up frames fall inside the window: a slight overestimate.
      const perFrame = [...cpuDifference(cpuBefore, cpuAfter)].filter(([, s]) => s > 0.01).sort((a, b) => b[1] - a[1]);
      console.log(`  Chromium CPU per frame: ${perFrame.map(([type, s]) => `${type} ${((1000 * s) / result.frames).toFixed(1)} ms`).join(', ')} (the gpu-process runs SwiftShader)`);
    }
    console.log('  headless Chromium (--disable-gpu: software rendering); requestAnimationFrame is capped at the display rate (60 Hz), so 60 fps is the ceiling');
  } finally {
    await browser.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
}
