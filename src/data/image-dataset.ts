/**
 * Image classification data in the IDX format (./idx.ts): Fashion-MNIST (Xiao, Rasul & Vollgraf
 * 2017), which Debian's `dataset-fashion-mnist` installs under /usr/share/datasets/fashion-mnist/,
 * and any folder holding the same four files (`--from DIR`). Nothing is downloaded.
 *
 * The discipline of the physical datasets: every file is checked (header, shapes, labels in
 * range, and for Fashion-MNIST the SHA-256 of each decompressed file against the standard
 * dataset's), the validation split is a fixed seeded draw from the training file, and the
 * normalisation statistics come from the training split alone.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptFileError, PhysodeError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { decodeIdx, gunzip, isGzip, type IdxArray } from './idx.js';
import { sha256Hex } from './shard.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

/** The four files of the MNIST family, by role. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type Role = keyof typeof IDX_FILES;

/**
 * SHA-256 of the standard Fashion-MNIST files after decompression (the gzip bytes differ
 * between copies: Debian recompressed them; the IDX bytes do not). Measured on Debian's
 * dataset-fashion-mnist 2020 files, whose sizes and header counts are the published ones.
 */
export const FASHION_MNIST_SHA256: Record<Role, string> = {
  trainImages: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  trainLabels: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  testImages: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  testLabels: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
};

/** Images of one split, normalised, flattened: row i of `images` is image i ([count, pixels]). */
export interface ImageSplit {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface ImageDataset {
  readonly name: string;
  readonly dir: string;
  readonly height: number;
  readonly width: number;
  /** height × width: the state dimension of a classifier on raw pixels. */
  readonly pixels: number;
  readonly classes: readonly string[];
  readonly train: ImageSplit;
  readonly val: ImageSplit;
  readonly test: ImageSplit;
  /** x ↦ (x / 255 − mean) / std, with mean and std over every pixel of the training split. */
  readonly normalisation: { readonly mean: number; readonly std: number };
}

export interface ImageLoadOptions {
  /** The folder with the four IDX files, gzip-compressed or not (default: Debian's path). */
  readonly from?: string;
  /** Check the decompressed files against the standard Fashion-MNIST SHA-256 (default true). */
  readonly verify?: boolean;
  /** Training images held out for validation, drawn with `splitSeed` (default 5000). */
  readonly valCount?: number;
  readonly splitSeed?: number;
  /** Keep only the first n training (after the split) / validation / test images (for quick runs). */
  readonly trainLimit?: number;
  readonly valLimit?: number;
  readonly testLimit?: number;
}

/** Fashion-MNIST absent: says where it looked and how to get it. */
export class DatasetNotFoundError extends PhysodeError {}

/** The path of one of the four files, gzip-compressed (`name.gz`) or not (`name`). */
async function locateRole(dir: string, role: Role): Promise<string> {
  for (const file of [`${IDX_FILES[role]}.gz`, IDX_FILES[role]]) {
    const path = join(dir, file);
    const exists = await stat(path).then((s) => s.isFile(), () => false);
    if (exists) return path;
  }
  const isDefault = dir === FASHION_MNIST_DIR;
  throw new DatasetNotFoundError(
    `no ${IDX_FILES[role]}.gz (or ${IDX_FILES[role]}) in ${dir}${isDefault ? ': Fashion-MNIST is not installed' : ''}`,
    isDefault
      ? 'install Debian\'s package: apt-get install dataset-fashion-mnist (or pass --from DIR with the four files of https://github.com/zalandoresearch/fashion-mnist)'
      : `put the four Fashion-MNIST files (${Object.values(IDX_FILES).join(', ')}, .gz or not) in ${dir}, or leave out --from to use ${FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)`,
  );
}

/** One file decoded and, when asked, checked against the standard dataset's SHA-256. */
async function loadRole(file: string, role: Role, verify: boolean): Promise<IdxArray> {
  const bytes = new Uint8Array(await readFile(file));
  const raw = isGzip(bytes) ? gunzip(bytes, file) : bytes;
  if (verify) {
    const actual = sha256Hex(raw);
    if (actual !== FASHION_MNIST_SHA256[role]) {
      throw new CorruptFileError(
        file,
        `not the standard Fashion-MNIST ${IDX_FILES[role]} (SHA-256 of the decompressed file ${actual.slice(0, 12)}..., expected ${FASHION_MNIST_SHA256[role].slice(0, 12)}...)`,
        'restore the file (apt-get install --reinstall dataset-fashion-mnist); for other IDX data, turn the check off (--no-verify)',
      );
    }
  }
  return decodeIdx(raw, file);
}

function checkImages(a: IdxArray, file: string): { count: number; height: number; width: number } {
  if (a.type !== 'uint8' || a.shape.length !== 3) {
    throw new CorruptFileError(file, `images must be uint8 of shape [count, height, width], got ${a.type} [${a.shape.join(', ')}]`, 'the image and label files may be swapped');
  }
  return { count: a.shape[0], height: a.shape[1], width: a.shape[2] };
}

function checkLabels(a: IdxArray, file: string, count: number, classes: number): Uint8Array {
  if (a.type !== 'uint8' || a.shape.length !== 1) {
    throw new CorruptFileError(file, `labels must be uint8 of shape [count], got ${a.type} [${a.shape.join(', ')}]`, 'the image and label files may be swapped');
  }
  if (a.shape[0] !== count) throw new CorruptFileError(file, `${a.shape[0]} labels for ${count} images`, 'the label file belongs to another image file');
  const labels = a.data as Uint8Array;
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) throw new CorruptFileError(file, `label ${labels[bad]} at index ${bad} is outside 0..${classes - 1}`);
  return labels;
}

/** The images `idx` of `pixels` bytes each, as floats (x / 255 − mean) / std. */
function gather(src: Uint8Array, labels: Uint8Array, idx: ArrayLike<number>, pixels: number, mean: number, std: number): ImageSplit {
  const n = idx.length;
  const images = new Float32Array(n * pixels);
  const out = new Uint8Array(n);
  const a = 1 / (255 * std);
  const b = -mean / std;
  for (let i = 0; i < n; i++) {
    const j = idx[i];
    out[i] = labels[j];
    const base = j * pixels;
    const row = i * pixels;
    for (let p = 0; p < pixels; p++) images[row + p] = src[base + p] * a + b;
  }
  return { images, labels: out, count: n };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Loads Fashion-MNIST (or another folder of the same four IDX files with `verify: false`):
 * decoded, checked, split into train / val / test and normalised with the training split's
 * pixel mean and standard deviation.
 */
export async function loadImageDataset(options: ImageLoadOptions = {}): Promise<ImageDataset> {
  const dir = options.from ?? FASHION_MNIST_DIR;
  const verify = options.verify ?? true;
  const dirOk = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!dirOk) {
    throw new DatasetNotFoundError(
      `${dir} is not a folder${dir === FASHION_MNIST_DIR ? ': Fashion-MNIST is not installed' : ''}`,
      'install Debian\'s package: apt-get install dataset-fashion-mnist (it puts the four IDX files in /usr/share/datasets/fashion-mnist/), or pass --from DIR',
    );
  }
  const roles = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const;
  // Found one by one, then read and checked together; a problem is reported for the first file
  // that has one, in this order, whichever check happens to finish first.
  const files: string[] = [];
  for (const role of roles) files.push(await locateRole(dir, role));
  const loaded = await Promise.allSettled(roles.map((r, i) => loadRole(files[i], r, verify)));
  const failed = loaded.find((l) => l.status === 'rejected');
  if (failed) throw failed.reason;
  const [trI, trL, teI, teL] = loaded.map((l) => (l as PromiseFulfilledResult<IdxArray>).value);
  const name = (r: Role) => join(dir, IDX_FILES[r]);
  const train = checkImages(trI, name('trainImages'));
  const test = checkImages(teI, name('testImages'));
  if (test.height !== train.height || test.width !== train.width) {
    throw new CorruptFileError(name('testImages'), `images are ${test.height}×${test.width}, the training images ${train.height}×${train.width}`);
  }
  const classes = FASHION_MNIST_CLASSES.length;
  const trainLabels = checkLabels(trL, name('trainLabels'), train.count, classes);
  const testLabels = checkLabels(teL, name('testLabels'), test.count, classes);

  const valCount = options.valCount ?? Math.min(5000, Math.floor(train.count / 10));
  if (!(Number.isInteger(valCount) && valCount >= 0 && valCount < train.count)) {
    throw new RangeError(`valCount must be an integer in [0, ${train.count}), got ${valCount}`);
  }
  // A fixed seeded permutation of the training file: its first valCount images are the validation split.
  const order = new Rng(options.splitSeed ?? 0).shuffle(range(train.count));
  const valIdx = order.slice(0, valCount).sort((a, b) => a - b);
  const trainIdx = order.slice(valCount).sort((a, b) => a - b);
  const pixels = train.height * train.width;
  const src = trI.data as Uint8Array;
  // Normalisation from the training split only (as the physical datasets' statistics).
  let sum = 0;
  let sumSq = 0;
  for (const j of trainIdx) {
    for (let p = j * pixels, e = p + pixels; p < e; p++) {
      const v = src[p] / 255;
      sum += v;
      sumSq += v * v;
    }
  }
  const n = trainIdx.length * pixels;
  const mean = sum / n;
  const std = Math.sqrt(Math.max(sumSq / n - mean * mean, 0)) || 1;
  const limit = (idx: number[], k: number | undefined) => (k === undefined ? idx : idx.slice(0, k));
  return {
    name: verify ? 'fashion-mnist' : dir,
    dir,
    height: train.height,
    width: train.width,
    pixels,
    classes: [...FASHION_MNIST_CLASSES],
    train: gather(src, trainLabels, limit(trainIdx, options.trainLimit), pixels, mean, std),
    val: gather(src, trainLabels, limit(valIdx, options.valLimit), pixels, mean, std),
    test: gather(teI.data as Uint8Array, testLabels, limit(range(test.count), options.testLimit), pixels, mean, std),
    normalisation: { mean, std },
  };
}
