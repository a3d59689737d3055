/**
 * A task: what a continuous-depth model's prediction is scored against. The model
 * (src/model/continuous-depth.ts) maps a batch of inputs to a batch of predictions; the task turns
 * a prediction and its target into a loss with its gradient (hand-written: this project does not
 * register TF.js autodiff) and into metrics. Arrays are on the host, row-major [batch, ...].
 */

/** A loss value and dL/dprediction, same layout as the prediction. */
export interface LossValue {
  readonly value: number;
  readonly gradient: Float32Array;
}

export interface Task<Target> {
  /** Short name recorded in run folders (e.g. 'next-state', 'classification'). */
  readonly name: string;
  /** Width of one prediction row (the model's output dimension). */
  readonly outputDim: number;
  /** The training loss of `batch` predictions against their targets. */
  loss(prediction: Float32Array, target: Target, batch: number): LossValue;
  /** Metrics by name (lower or higher is better as the name says: mae, mse, accuracy...). */
  metrics(prediction: Float32Array, target: Target, batch: number): Record<string, number>;
}
