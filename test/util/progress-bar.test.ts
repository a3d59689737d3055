import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ProgressBar, formatDuration } from '../../src/cli/progress-bar.js';

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

test('off a terminal the bar prints plain lines with counts, rate, ETA and fields', () => {
  const out = capture();
  const bar = new ProgressBar({ label: 'train', stream: out.stream, plainInterval: 0 });
  bar.update({ unit: 'steps', done: 5, total: 10, fields: { loss: 0.0123 } });
  bar.update({ unit: 'steps', done: 10, total: 10 });
  bar.finish();
  const lines = out.text().trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^train: 5\/10 steps \(50%\) .*steps\/s {2}ETA .* loss 0\.01230$/);
  assert.match(lines[1], /10\/10 steps \(100%\)/);
  assert.ok(!out.text().includes('\x1b'), 'no terminal escapes in plain output');
});

test('durations read as seconds, minutes and hours', () => {
  assert.equal(formatDuration(3.21), '3.2s');
  assert.equal(formatDuration(75), '1m15s');
  assert.equal(formatDuration(7260), '2h01m');
  assert.equal(formatDuration(Infinity), '--');
});
