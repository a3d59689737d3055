/**
 * The vector field's activations: names and validation. They are evaluated in the WebAssembly
 * kernels (src/kernels/assembly/activation.ts); tanh runs there as 2·sigmoid(2x) − 1.
 */
import { InvalidArgumentError } from '../util/errors.js';

export type ActivationName = 'tanh' | 'softplus' | 'silu';
export const ACTIVATIONS: readonly ActivationName[] = ['tanh', 'softplus', 'silu'];

export function checkActivation(name: string): ActivationName {
  if ((ACTIVATIONS as readonly string[]).includes(name)) return name as ActivationName;
  throw new InvalidArgumentError(`unknown activation '${name}'`, `use one of: ${ACTIVATIONS.join(', ')}`);
}
