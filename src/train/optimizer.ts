/**
 * Optimizers written out on tfjs ops, with their whole state explicit (a step counter kept as a
 * JavaScript integer, and moment tensors), so that a checkpoint restores them bit for bit. (tfjs's
 * own AdamOptimizer rebuilds beta^t with `pow` on setWeights where training had multiplied it step
 * by step, so a resumed run drifts in the last bits; hence our own.)
 *
 * - adam:    Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1;
 *            `weightDecay` adds lambda * theta to the gradient (L2, as torch.optim.Adam).
 * - adamw:   Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019:
 *            theta <- theta - lr * lambda * theta, then the Adam step (as torch.optim.AdamW).
 * - rmsprop: Tieleman & Hinton, Coursera NN lecture 6e (2012), in torch.optim.RMSprop's form:
 *            v <- alpha v + (1 - alpha) g^2, theta <- theta - lr g / (sqrt(v) + eps), alpha = 0.99.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from './checkpoint.js';
import { InvalidArgumentError } from '../util/errors.js';

export type OptimizerName = 'adam' | 'adamw' | 'rmsprop';
export const OPTIMIZERS: readonly OptimizerName[] = ['adam', 'adamw', 'rmsprop'];

export interface OptimizerOptions {
  readonly name: OptimizerName;
  readonly weightDecay: number;
  /** Adam betas (0.9, 0.999) and epsilon 1e-8, the paper's and PyTorch's defaults. */
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** RMSProp smoothing constant (PyTorch default 0.99). */
  readonly alpha?: number;
}

export interface TrainableVariable {
  readonly name: string;
  readonly variable: tf.Variable;
}

export class Optimizer {
  private steps = 0;
  private readonly first: tf.Variable[] = [];
  private readonly second: tf.Variable[] = [];
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly alpha: number;

  constructor(readonly options: OptimizerOptions, private readonly vars: readonly TrainableVariable[]) {
    if (!OPTIMIZERS.includes(options.name)) {
      throw new InvalidArgumentError(`unknown optimizer '${options.name}'`, `use one of: ${OPTIMIZERS.join(', ')}`);
    }
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.alpha = options.alpha ?? 0.99;
    for (const v of vars) {
      if (options.name !== 'rmsprop') this.first.push(tf.tidy(() => tf.variable(tf.zerosLike(v.variable), false)));
      this.second.push(tf.tidy(() => tf.variable(tf.zerosLike(v.variable), false)));
    }
  }

  /** Number of updates applied so far. */
  get iterations(): number {
    return this.steps;
  }

  /** Applies one update with learning rate `lr`. `grads` are keyed by variable name. */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.steps += 1;
    const t = this.steps;
    const { name, weightDecay } = this.options;
    tf.tidy(() => {
      this.vars.forEach((v, i) => {
        let g = grads.get(v.name);
        if (g === undefined) throw new RangeError(`no gradient for variable ${v.name}`);
        const theta = v.variable;
        if (name === 'rmsprop') {
          if (weightDecay > 0) g = tf.add(g, tf.mul(theta, weightDecay));
          const s = tf.add(tf.mul(this.second[i], this.alpha), tf.mul(tf.square(g), 1 - this.alpha));
          this.second[i].assign(s);
          theta.assign(tf.sub(theta, tf.mul(tf.div(g, tf.add(tf.sqrt(s), this.eps)), lr)));
          return;
        }
        let base: tf.Tensor = theta;
        if (name === 'adam' && weightDecay > 0) g = tf.add(g, tf.mul(theta, weightDecay));
        if (name === 'adamw' && weightDecay > 0) base = tf.mul(theta, 1 - lr * weightDecay);
        const m = tf.add(tf.mul(this.first[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const s = tf.add(tf.mul(this.second[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.first[i].assign(m);
        this.second[i].assign(s);
        // Bias corrections in float64 from the integer step count (Kingma & Ba 2015, Algorithm 1).
        const c1 = 1 - this.beta1 ** t;
        const c2 = 1 - this.beta2 ** t;
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(s, c2)), this.eps));
        theta.assign(tf.sub(base, tf.mul(update, lr)));
      });
    });
  }

  /** The moments as named float32 arrays (for checkpoints). */
  state(): { iterations: number; tensors: NamedTensor[] } {
    const tensors: NamedTensor[] = [];
    this.vars.forEach((v, i) => {
      if (this.first[i]) tensors.push({ name: `optimizer/m/${v.name}`, dtype: 'float32', shape: v.variable.shape, data: this.first[i].dataSync() as Float32Array });
      tensors.push({ name: `optimizer/v/${v.name}`, dtype: 'float32', shape: v.variable.shape, data: this.second[i].dataSync() as Float32Array });
    });
    return { iterations: this.steps, tensors };
  }

  /** Restores what `state()` returned. */
  setState(iterations: number, tensors: readonly NamedTensor[]): void {
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const load = (target: tf.Variable, key: string): void => {
      const t = byName.get(key);
      if (!t) throw new RangeError(`optimizer state lacks ${key}`);
      if (t.shape.join(',') !== target.shape.join(',')) throw new RangeError(`optimizer state ${key} has shape [${t.shape}], expected [${target.shape}]`);
      tf.tidy(() => target.assign(tf.tensor(t.data as Float32Array, target.shape, 'float32')));
    };
    this.vars.forEach((v, i) => {
      if (this.first[i]) load(this.first[i], `optimizer/m/${v.name}`);
      load(this.second[i], `optimizer/v/${v.name}`);
    });
    this.steps = iterations;
  }

  dispose(): void {
    for (const v of [...this.first, ...this.second]) v.dispose();
  }
}

/**
 * Clips gradients to a global L2 norm (Pascanu, Mikolov & Bengio, "On the difficulty of training
 * recurrent neural networks", ICML 2013). Returns the norm before clipping and the (new) gradients;
 * maxNorm <= 0 leaves them alone. The caller owns (and disposes) the returned tensors.
 */
export function clipByGlobalNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): { norm: number; grads: Map<string, tf.Tensor> } {
  const norm = tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(squares));
  });
  const value = norm.dataSync()[0];
  norm.dispose();
  const out = new Map<string, tf.Tensor>();
  const scale = maxNorm > 0 && value > maxNorm ? maxNorm / value : 1;
  for (const [k, g] of grads) out.set(k, scale === 1 ? tf.clone(g) : tf.mul(g, scale));
  return { norm: value, grads: out };
}
