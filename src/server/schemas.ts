/**
 * Query-string schemas of the API (zod). Each parse failure becomes a 400 whose message names the
 * parameter and what was wrong with it.
 */
import { z } from 'zod';
import { badRequest } from './http-error.js';

/** Most samples a response may carry per series (after downsampling). */
export const MAX_SAMPLES = 100_000;
/** Longest rollout horizon in samples. */
export const MAX_HORIZON = 100_000;

const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

/** `?every=k` (keep every k-th sample) or `?max=n` (at most n samples), not both. */
export const downsampleQuery = z
  .strictObject({
    every: positiveInt(MAX_SAMPLES).optional(),
    max: positiveInt(MAX_SAMPLES).pipe(z.number().min(2)).optional(),
  })
  .refine((q) => q.every === undefined || q.max === undefined, { message: "give either 'every' or 'max', not both" });

export const trajectoryIndex = z.string().regex(/^\d{1,9}$/, 'must be a whole number (a global trajectory index)').transform(Number);

export const rolloutQuery = z
  .strictObject({
    dataset: z.string().min(1).max(200).optional(),
    index: z.string().regex(/^\d{1,9}$/, 'must be a whole number (a global trajectory index)').transform(Number),
    horizon: positiveInt(MAX_HORIZON).pipe(z.number().min(2, 'must be at least 2 samples')).optional(),
    every: positiveInt(MAX_SAMPLES).optional(),
    max: positiveInt(MAX_SAMPLES).pipe(z.number().min(2)).optional(),
  })
  .refine((q) => q.every === undefined || q.max === undefined, { message: "give either 'every' or 'max', not both" });

/** Parses `input` with `schema`, turning the first issue into a 400 naming the parameter. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? `${what} parameter '${issue.path.join('.').slice(0, 40)}'` : what;
  if (issue.code === 'unrecognized_keys') {
    // Name a few of the unknown parameters, not all of them (a query may carry a thousand).
    const keys = issue.keys.slice(0, 5).map((k) => `'${k.slice(0, 40)}'`).join(', ');
    const more = issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : '';
    throw badRequest(`${where}: unknown parameter${issue.keys.length > 1 ? 's' : ''} ${keys}${more}`);
  }
  throw badRequest(`${where}: ${issue.message.slice(0, 200)}`);
}
