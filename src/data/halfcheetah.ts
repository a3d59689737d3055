/**
 * HalfCheetah, the built-in real dataset: 31 MuJoCo HalfCheetah traces (1000 steps × 17
 * observations each) shipped in `data/halfcheetah/` with their Apache-2.0 LICENSE and provenance
 * (its README.md). `physode import halfcheetah` imports them with the split of the literature
 * (Hasani et al. 2021; Xiao et al. 2023; the TA-BN paper's Table 3): sorted files, validation
 * traces 0–4, test 5–14, training 15–24, traces 25–30 unused.
 */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { FileRanges, ImportOptions } from './import.js';

/** OpenAI Gym HalfCheetah's observation: qpos without the root x (8), then qvel (9). */
export const HALFCHEETAH_LABELS = [
  'rootz', 'rooty', 'bthigh', 'bshin', 'bfoot', 'fthigh', 'fshin', 'ffoot',
  'rootx_vel', 'rootz_vel', 'rooty_vel', 'bthigh_vel', 'bshin_vel', 'bfoot_vel', 'fthigh_vel', 'fshin_vel', 'ffoot_vel',
] as const;

export const HALFCHEETAH_RANGES: FileRanges = { val: [0, 5], test: [5, 15], train: [15, 25] };

/** The literature's sequence cut: windows of 32 rows every 10 rows (Hasani et al.'s loader). */
export const HALFCHEETAH_WINDOW = { length: 32, stride: 10 } as const;

/** The shipped traces: `data/halfcheetah/` of the physode package (from src/ under tsx and from dist/src/). */
export function halfCheetahSource(): string {
  for (const rel of ['../../data/halfcheetah', '../../../data/halfcheetah']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/trace_0000.npy`)) return dir;
  }
  return fileURLToPath(new URL('../../data/halfcheetah', import.meta.url));
}

/** Import options of the built-in HalfCheetah dataset into `out`. */
export function halfCheetahImport(out: string, force = false): ImportOptions {
  return {
    source: halfCheetahSource(),
    out,
    name: 'halfcheetah',
    ranges: HALFCHEETAH_RANGES,
    sampleInterval: 1,
    labels: HALFCHEETAH_LABELS,
    provenance: {
      source: 'raminmh/liquid_time_constant_networks commit 4a8a4fa, experiments_with_ltcs/data/cheetah (data/halfcheetah/README.md)',
      license: 'Apache-2.0',
      split: 'sorted files: val 0-4, test 5-14, train 15-24, 25-30 unused',
    },
    force,
  };
}
