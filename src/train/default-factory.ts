/** The model factory used when none is given: the project's NeuralODE (src/model/). */
import type { ModelFactory } from './model-port.js';

export async function defaultModelFactory(): Promise<ModelFactory> {
  const { neuralOdeFactory } = await import('./neural-ode-port.js');
  return neuralOdeFactory;
}
