/**
 * The MLP's weights as the WebAssembly kernels use them, made once per solve from the parameters
 * and pinned in the kernels' memory: per linear layer (the output layer last) the forward map
 * [in, out] and shift [out], and the backward map [out, in] (for the first layer without the time
 * column: the vector–Jacobian product is with respect to y).
 *
 * For tanh, hidden layers carry s = sigmoid(2z) instead of a = tanh(z) = 2s − 1 (one fused kernel
 * instead of an exp-based tanh), and the maps absorb the conversions (with a normalisation, its
 * scale and shift take the 2 instead):
 *   layer 0:  2z = x₀ (2W₀ᵀ) + 2b₀;   layer i > 0:  2z = s (4Wᵢᵀ) + 2(bᵢ − Wᵢ·1);
 *   output:   f = s (2W_oᵀ) + (b_o − W_o·1);
 * backward: tanh' = 1 − a² = 4 s (1 − s), the 4 absorbed in the backward map 4W (W₀ for layer 0).
 * Softplus and SiLU layers carry a itself: plain maps Wᵀ, b and W.
 */
import { pinArrays, type PinnedArray, type PinnedSet } from '../kernels/host-kernels.js';
import type { Mlp } from './mlp.js';

export interface KernelWeights {
  readonly forward: PinnedArray[];
  readonly shift: PinnedArray[];
  readonly backward: PinnedArray[];
  readonly pinned: PinnedSet;
}

/**
 * `sForm`: tanh layers carried as s (see above); `identityNorm[i]`: no normalisation follows hidden
 * linear map i (then the 2 of sigmoid(2z) goes into that map).
 */
export function kernelWeights(mlp: Mlp, sForm: boolean, identityNorm: readonly boolean[]): KernelWeights {
  const dim = mlp.config.dim;
  const layers = [...mlp.hidden.map((l) => l.linear), mlp.output];
  const forward: Float32Array[] = [];
  const shift: Float32Array[] = [];
  const backward: Float32Array[] = [];
  layers.forEach((lin, i) => {
    const [nOut, nIn] = lin.weight.shape as [number, number];
    const w = lin.weight.dataSync() as Float32Array;
    const b = lin.bias.dataSync() as Float32Array;
    const fromS = sForm && i > 0; // the input is s of the previous layer
    const inner = sForm && i < layers.length - 1 && identityNorm[i] ? 2 : 1; // sigmoid(2z), unless a normalisation follows
    const wScale = (fromS ? 2 : 1) * inner;
    const fw = new Float32Array(nIn * nOut);
    const fb = new Float32Array(nOut);
    for (let o = 0; o < nOut; o++) {
      let rowSum = 0;
      for (let k = 0; k < nIn; k++) {
        fw[k * nOut + o] = wScale * w[o * nIn + k];
        rowSum += w[o * nIn + k];
      }
      fb[o] = inner * (b[o] - (fromS ? rowSum : 0));
    }
    forward.push(fw);
    shift.push(fb);
    // The VJP is with respect to y: the first layer's time column (its last) is dropped.
    const nBack = i === 0 ? dim : nIn;
    const bw = new Float32Array(nOut * nBack);
    const bScale = fromS ? 4 : 1;
    for (let o = 0; o < nOut; o++) for (let k = 0; k < nBack; k++) bw[o * nBack + k] = bScale * w[o * nIn + k];
    backward.push(bw);
  });
  const pinned = pinArrays([...forward, ...shift, ...backward]);
  const n = layers.length;
  const at = (j: number) => pinned.arrays.slice(j * n, (j + 1) * n);
  return { forward: at(0), shift: at(1), backward: at(2), pinned };
}
