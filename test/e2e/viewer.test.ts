/**
 * End to end in a real browser: Debian's Chromium (headless, software GL) driven by
 * playwright-core opens the viewer served by the real app (rollouts by tiny TA-BN runs trained
 * here, through the worker thread), chooses a dataset and a run, plays,
 * and checks that the 3D view moves, the plots hold data, keyboard stepping and the URL state
 * work, and the PNG button saves the canvas. Screenshots go to test-output/ for a human to look at.
 * Skipped, saying so, when /usr/bin/chromium is absent (CI installs it with apt in .ci/run).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_PATH, hasChromium, launchChromium } from '../../viewer/headless-chromium.js';
import { createApp } from '../../src/server/app.js';
import { workerPredictor } from '../../src/server/predictor.js';
import { trainTinyNextStateRun, trainTinyRun, writeFixtureDataset, writeImportedFixture, type FixtureDataset } from '../server/fixtures.js';

const OUT = join(process.cwd(), 'test-output');
const skip = hasChromium() ? false : `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) to run the browser test`;
if (skip) console.log(`# e2e viewer test SKIPPED: ${skip}`);

let root: string;
let server: Server;
let url: string;
let browser: Browser;
const fixtures: FixtureDataset[] = [];
const worker = workerPredictor();

before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'physode-e2e-'));
  fixtures.push(await writeFixtureDataset(join(root, 'datasets', 'pendulum-small'), { system: 'pendulum', perSplit: [2, 1, 1], samples: 201, tEnd: 10 }));
  fixtures.push(await writeFixtureDataset(join(root, 'datasets', 'figure-eight'), { system: 'nbody', options: { preset: 'figure-eight' }, perSplit: [1, 1, 1], samples: 201, tEnd: 6.32591398 }));
  // Real (tiny, barely trained) TA-BN runs: the page's rollouts go through the worker and tfjs.
  await trainTinyRun(fixtures[0], join(root, 'runs', 'pendulum-tabn'));
  await trainTinyRun(fixtures[1], join(root, 'runs', 'figure-eight-tabn'));
  // A dataset of no registered system (imported traces) and a next-state run on it.
  const imported = await writeImportedFixture(join(root, 'traces'), join(root, 'datasets', 'traces-imported'));
  await trainTinyNextStateRun(imported.dir, join(root, 'runs', 'traces-next-state'));
  const app = createApp({ datasetsDir: join(root, 'datasets'), runsDir: join(root, 'runs'), predictor: worker.predict });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await mkdir(OUT, { recursive: true });
  browser = await launchChromium();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await worker.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await rm(root, { recursive: true, force: true });
});

type PageGlobals = {
  physode: {
    state: { time: number; playing: boolean };
    frames: () => number;
    plotCounts: () => { error: number; energy: number };
    plotNotes: () => { error: string | null; energy: string | null };
  };
};

async function ready(page: Page): Promise<void> {
  // data-ready: '0' while loading (also in the served HTML), '1' when shown, 'error' on failure.
  await page.waitForFunction(() => ['1', 'error'].includes((globalThis as unknown as { document: { body: { dataset: { ready?: string } } } }).document.body.dataset.ready ?? ''), undefined, { timeout: 30_000 });
  const state = await page.evaluate(() => (globalThis as unknown as { document: { body: { dataset: { ready?: string } } } }).document.body.dataset.ready);
  assert.equal(state, '1', `page did not load: ${await page.textContent('#status')}`);
}

async function stageShot(page: Page, path?: string): Promise<Buffer> {
  return page.locator('#stage').screenshot({ path });
}

test('the viewer plays a dataset and a run in Chromium', { skip, timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });

  await page.goto(url);
  await page.waitForSelector('#dataset option', { state: 'attached' });
  await page.selectOption('#dataset', 'pendulum-small');
  await ready(page);
  await page.selectOption('#run', 'pendulum-tabn');
  await ready(page);
  assert.match((await page.textContent('#status')) ?? '', /rollout of pendulum-tabn/);

  // Plots hold data: error (with a run) and energy (true and predicted).
  const counts = await page.evaluate(() => (globalThis as unknown as PageGlobals).physode.plotCounts());
  assert.ok(counts.error > 0, `error points plotted: ${counts.error}`);
  assert.ok(counts.energy > 201, `energy points plotted (201 true + predicted): ${counts.energy}`);

  // Play: the scene moves between frames.
  const still = await stageShot(page);
  await page.click('#play');
  await page.waitForTimeout(800);
  const moved = await stageShot(page, join(OUT, 'e2e-viewer-playing.png'));
  assert.notDeepEqual(moved, still, 'the 3D view changed while playing');
  const time = await page.evaluate(() => (globalThis as unknown as PageGlobals).physode.state.time);
  assert.ok(time > 0, `time advanced (t = ${time})`);

  // Keyboard: space pauses, the right arrow steps one sample.
  await page.locator('#stage').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press(' ');
  assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).physode.state.playing), false);
  const t0 = await page.evaluate(() => (globalThis as unknown as PageGlobals).physode.state.time);
  await page.keyboard.press('ArrowRight');
  const t1 = await page.evaluate(() => (globalThis as unknown as PageGlobals).physode.state.time);
  assert.ok(t1 > t0 && t1 - t0 <= 0.05 + 1e-9, `one step of at most dt = 0.05 (from ${t0} to ${t1})`);

  // The URL holds the view.
  await page.waitForTimeout(500);
  const shared = new URL(page.url());
  assert.equal(shared.searchParams.get('dataset'), 'pendulum-small');
  assert.equal(shared.searchParams.get('run'), 'pendulum-tabn');
  assert.ok(Math.abs(Number(shared.searchParams.get('t')) - t1) < 1e-3);

  // PNG button: a real PNG of the canvas.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#screenshot')]);
  const png = join(OUT, 'e2e-viewer-canvas.png');
  await download.saveAs(png);
  const bytes = await readFile(png);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(bytes.length > 2000);
  await page.screenshot({ path: join(OUT, 'e2e-viewer-page.png') });

  // Side by side, coloured by error.
  await page.selectOption('#view', 'side');
  await page.check('#color-error');
  await page.waitForTimeout(300);
  assert.equal(await page.isVisible('#legend'), true);
  await page.screenshot({ path: join(OUT, 'e2e-viewer-side.png') });

  // An n-body dataset with its run: one sphere per body.
  await page.selectOption('#dataset', 'figure-eight');
  await ready(page);
  await page.selectOption('#run', 'figure-eight-tabn');
  await ready(page);
  await page.selectOption('#view', 'overlay');
  await page.click('#play');
  await page.waitForTimeout(1200);
  await page.screenshot({ path: join(OUT, 'e2e-viewer-nbody.png') });

  // A shared URL restores dataset, trajectory, run and time.
  const link = `${url}?dataset=pendulum-small&traj=2&run=pendulum-tabn&t=2.5`;
  await page.goto(link);
  await ready(page);
  await page.waitForTimeout(200);
  assert.equal(await page.inputValue('#dataset'), 'pendulum-small');
  assert.equal(await page.inputValue('#traj'), '2');
  assert.equal(await page.inputValue('#run'), 'pendulum-tabn');
  assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).physode.state.time), 2.5);

  assert.deepEqual(problems, []);
  await context.close();
});

test('the viewer opens on the comparison: a trained run selected, empty plots explained, body colours named', { skip, timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const globals = () => page.evaluate(() => {
    const p = (globalThis as unknown as PageGlobals).physode;
    return { counts: p.plotCounts(), notes: p.plotNotes() };
  });

  // No URL state: the first dataset with a trained run, and that run.
  await page.goto(url);
  await ready(page);
  assert.equal(await page.inputValue('#dataset'), 'figure-eight');
  assert.equal(await page.inputValue('#run'), 'figure-eight-tabn');
  assert.match((await page.textContent('#status')) ?? '', /rollout of figure-eight-tabn/);
  let g = await globals();
  assert.ok(g.counts.error > 0, 'the error plot has the prediction error');
  assert.deepEqual(g.notes, { error: null, energy: null });

  // The run's standing against predicting the mean is said in words.
  assert.equal(await page.isVisible('#quality'), true);
  assert.match((await page.textContent('#quality')) ?? '', /predicting the mean/);

  // n-body: a legend names each body's colour, in the colours drawn.
  assert.equal(await page.isVisible('#bodies'), true);
  const items = await page.locator('#bodies .body-item').allTextContents();
  assert.deepEqual(items.map((t) => t.replace(/ \(m .*\)$/, '')), ['body 1', 'body 2', 'body 3']);
  const colours = await page.locator('#bodies .body-item i').evaluateAll((els) => els.map((e) => (e as unknown as { style: { background: string } }).style.background));
  assert.equal(new Set(colours).size, 3, `distinct colours: ${colours.join(', ')}`);
  await page.screenshot({ path: join(OUT, 'e2e-viewer-default.png') });

  // Switching dataset selects that dataset's run; a pendulum has no body legend.
  await page.selectOption('#dataset', 'pendulum-small');
  await ready(page);
  assert.equal(await page.inputValue('#run'), 'pendulum-tabn');
  assert.equal(await page.isVisible('#bodies'), false);

  // The URL still overrides: `run=` (none) leaves the error plot empty, with a sentence.
  await page.goto(`${url}?dataset=pendulum-small&run=`);
  await ready(page);
  assert.equal(await page.inputValue('#run'), '');
  g = await globals();
  assert.equal(g.counts.error, 0);
  assert.match(g.notes.error ?? '', /choose a run/);
  assert.equal(await page.isVisible('#plot-error .plot-empty'), true);
  assert.equal(await page.isVisible('#quality'), false);
  assert.deepEqual(problems, []);
  await context.close();
});

test('with no dataset, the page says what to do instead of showing bare grids, and names what it skipped', { skip, timeout: 60_000 }, async () => {
  const empty = await mkdtemp(join(tmpdir(), 'physode-e2e-empty-'));
  await mkdir(join(empty, 'datasets', 'broken'), { recursive: true });
  await writeFile(join(empty, 'datasets', 'broken', 'manifest.json'), '{"format": "physode-dataset"');
  const app = createApp({ datasetsDir: join(empty, 'datasets'), runsDir: join(empty, 'runs'), predictor: worker.predict });
  const other = app.listen(0, '127.0.0.1');
  await new Promise((r) => other.once('listening', r));
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: { ready?: string } } } }).document.body.dataset.ready === 'empty', undefined, { timeout: 30_000 });
    const notes = await page.evaluate(() => (globalThis as unknown as PageGlobals).physode.plotNotes());
    assert.match(notes.error ?? '', /no dataset to show: the datasets found are damaged or unfinished/);
    assert.match(notes.energy ?? '', /no dataset to show/);
    assert.match((await page.textContent('#skipped')) ?? '', /not shown: broken \(broken\/manifest\.json: not valid JSON\)/);
  } finally {
    await context.close();
    other.closeAllConnections();
    await new Promise((r) => other.close(r));
    await rm(empty, { recursive: true, force: true });
  }
});

test('an imported dataset is drawn in phase space, its components named, the energy plot explained, its next-state run rolled out', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  try {
    await page.goto(`${url}?dataset=traces-imported&run=traces-next-state`);
    await ready(page);
    assert.match((await page.textContent('#traj-info')) ?? '', /phase space: components b, d, c/);
    assert.match((await page.textContent('#status')) ?? '', /rollout of traces-next-state/);
    const g = await page.evaluate(() => {
      const p = (globalThis as unknown as PageGlobals).physode;
      return { counts: p.plotCounts(), notes: p.plotNotes() };
    });
    assert.ok(g.counts.error > 0, 'the error plot has the prediction error');
    assert.equal(g.counts.energy, 0);
    assert.match(g.notes.energy ?? '', /no energy: toy-traces is not a physical system of physode \(drawn in phase space: components b, d, c\)/);
    assert.equal(g.notes.error, null);
    await page.screenshot({ path: join(OUT, 'e2e-viewer-phase-space.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
