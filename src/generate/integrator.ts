/** What the ground-truth integrators (./odex.ts, ./dop853.ts) share: the right-hand side they take and the error they throw. */
import { PhysodeError } from '../util/errors.js';

/** Writes dy/dt at (t, y) into `dydt`. */
export type RightHandSide = (t: number, y: ArrayLike<number>, dydt: Float64Array) => void;

/** A ground-truth solve that failed (step limit, step-size underflow, non-finite state); the generator adds the trajectory and seed. */
export class IntegrationError extends PhysodeError {}
