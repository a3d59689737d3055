/**
 * What `physode classify` writes to RUN/eval.json (src/tasks/classification-run.ts), as the
 * Fashion-MNIST report reads it: the report runs the classifier as a child process and reads its
 * file, so it depends on this format, not on the code that trains.
 */
export interface ClassificationEvalDoc {
  readonly format: 'physode-classification-eval';
  readonly settings: { readonly norm: string; readonly method: string; readonly solverSteps: number; readonly rtol: number; readonly batchSize: number; readonly seed: number; readonly lr: number; readonly epochs: number; readonly maxSteps: number | null; readonly gridIntervals: number };
  readonly dataset: { readonly name: string; readonly train: number; readonly val: number; readonly test: number; readonly height: number; readonly width: number; readonly classes: readonly string[] };
  readonly fit: { readonly steps: number; readonly epochs: number; readonly completed: boolean; readonly best: Record<string, number>; readonly bestStep: number; readonly recoveries: number; readonly nfePerStep: number; readonly wallSeconds: number };
  readonly test: Record<string, { readonly accuracy: number; readonly loss: number; readonly nfePerBatch: number; readonly scored: number }>;
  readonly outliers: { readonly batchSize: number; readonly scale: number; readonly accuracy: number; readonly scored: number } | null;
  readonly predictionsChanged: number;
  readonly misclassified: readonly { readonly index: number; readonly label: number; readonly predicted: number; readonly pixels: readonly number[] }[];
  readonly tabn: readonly {
    readonly layer: string;
    readonly times: readonly number[];
    readonly meanOfMeans: readonly number[];
    readonly meanOfVariances: readonly number[];
    readonly features: readonly { readonly index: number; readonly mean: readonly number[]; readonly variance: readonly number[] }[];
    readonly coverage: number;
  }[];
  readonly seconds: { readonly train: number; readonly eval: number };
}
