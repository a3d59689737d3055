/**
 * What the page's frame-rate benchmark (`physodeBench()`, bench.ts) takes and returns. DOM-free, so
 * the Node-side runner (bench/viewer.ts) reads the same types.
 */
export interface BenchOptions {
  readonly bodies?: number;
  readonly samples?: number;
  readonly seconds?: number;
  /** Keep the trails still (measures drawing alone, without the per-frame uploads). */
  readonly still?: boolean;
  /** Level of detail: segments drawn per trail at most (default: an equal share of TRAIL_SEGMENT_BUDGET). */
  readonly maxSegments?: number;
}

export interface BenchResult {
  readonly fps: number;
  readonly frames: number;
  readonly seconds: number;
  readonly bodies: number;
  readonly trailSamples: number;
  /** Segments the trails hold in all (bodies x (samples - 1)). */
  readonly segmentsPerFrame: number;
  /** Segments actually drawn after the level of detail (at most maxSegments per trail). */
  readonly drawnSegmentsPerFrame: number;
  readonly medianFrameMs: number;
  readonly p95FrameMs: number;
  /** Main-thread time of one frame's work (pose, trail update, render call), median and p95: the
   * part of the frame the page itself spends; the rest is the browser's raster and compositing. */
  readonly medianDrawMs: number;
  readonly p95DrawMs: number;
  readonly canvas: { readonly width: number; readonly height: number };
  readonly glRenderer: string;
}
