import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/backend.js';
import { odeint, rmsNorm, SolverError } from '../../src/ode/index.js';
import { InvalidArgumentError } from '../../src/util/errors.js';
import { oscillator, LinearField } from './_fields.js';

await initBackend();

test('reaching maxSteps throws a SolverError with t, h, NFE, a hint and the partial solution', () => {
  const f = oscillator();
  const y0 = tf.tensor2d([[1, 0]]);
  const ts = [0, 0.5, 1, 5, 10];
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    odeint(f, y0, ts, { method: 'dopri5', rtol: 1e-7, atol: 1e-7, maxSteps: 20, returnPartial: true });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SolverError);
  assert.equal(caught.reason, 'max-steps');
  assert.ok(caught.t > 0 && caught.t < 10 && caught.h > 0 && caught.nfe > 20);
  assert.match(caught.hint ?? '', /maxSteps/);
  assert.ok(caught.partial);
  assert.deepEqual(caught.partial.ts, ts.slice(0, caught.partial.ys.shape[0]));
  assert.ok(caught.partial.ys.shape[0] >= 2);
  const v = caught.partial.ys.dataSync();
  assert.ok(Math.abs(v[2] - Math.cos(0.5)) < 1e-5);
  caught.partial.ys.dispose();
  assert.equal(tf.memory().numTensors, before);
  f.dispose();
});

test('a step size below minStep throws a SolverError naming the underflow', () => {
  // y' = 50 y blows up: a tight tolerance with a large minStep stops the solver.
  const f = new LinearField([[50]]);
  const y0 = tf.tensor2d([[1]]);
  assert.throws(
    () => odeint(f, y0, [0, 1], { method: 'bosh3', rtol: 1e-7, atol: 1e-7, minStep: 1e-2 }),
    (err: unknown) => err instanceof SolverError && err.reason === 'step-underflow' && /minStep/.test(err.hint ?? ''),
  );
  f.dispose();
});

test('bad options and times are InvalidArgumentErrors', () => {
  const f = oscillator();
  const y0 = tf.tensor2d([[1, 0]]);
  assert.throws(() => odeint(f, y0, [0, 1], { method: 'rk5' as never }), InvalidArgumentError);
  assert.throws(() => odeint(f, y0, [0, 1, 0.5]), /strictly increasing/);
  assert.throws(() => odeint(f, y0, [0, 1], { rtol: -1 }), /rtol/);
  assert.throws(() => odeint(f, tf.tensor2d([[1, 0, 0]]), [0, 1]), /shape/);
  f.dispose();
});

test('the whole batch steps together: one evaluation time per call, all samples at the same t', () => {
  const f = oscillator();
  const y0 = tf.tensor2d([[1, 0], [0, 3], [0.1, 0.1]]);
  const r = odeint(f, y0, [0, 2], { method: 'dopri5' });
  assert.equal(f.evaluations.length, r.stats.nfe);
  assert.ok(r.stats.accepted > 0);
  r.ys.dispose();
  f.dispose();
});

test('a NaN state stops a fixed-step solve with reason non-finite, and leaks no tensor', () => {
  const f = new LinearField([[1]]);
  const y0 = tf.tensor2d([[Number.NaN]]);
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    odeint(f, y0, [0, 1], { method: 'rk4', steps: 4 });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SolverError);
  assert.equal(caught.reason, 'non-finite');
  assert.match(caught.message, /non-finite state/);
  assert.equal(tf.memory().numTensors, before);
  y0.dispose();
  f.dispose();
});

test('the PID controller measures the error with the norm it is given (diffrax norm=...)', () => {
  const f = oscillator();
  const y0 = tf.tensor2d([[1, 0], [0.5, 0.2]]);
  const solve = (options: Parameters<typeof odeint>[3]) => {
    const r = odeint(f, y0, [0, 10], { method: 'dopri5', rtol: 1e-6, atol: 1e-6, ...options });
    r.ys.dispose();
    return r.stats.accepted;
  };
  const rms = solve({});
  assert.equal(solve({ norm: rmsNorm }), rms, 'the default is the RMS norm');
  // The max norm is never below the RMS: at least as many steps; a norm that halves every error: fewer.
  const max = solve({ norm: (v) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0) });
  const lax = solve({ norm: (v) => 0.5 * rmsNorm(v) });
  assert.ok(max >= rms && max > lax, `steps: rms ${rms}, max ${max}, half ${lax}`);
  assert.ok(lax < rms, `steps: rms ${rms}, half ${lax}`);
  y0.dispose();
  f.dispose();
});
