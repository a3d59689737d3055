/**
 * Thick trails behind moving points: for each point, the last `length` samples of its path, as a
 * ribbon of constant screen width (WebGL ignores line width, so each segment is a quad expanded
 * in the vertex shader, the technique of three's Line2/LineMaterial).
 *
 * Drawn for Chromium's software renderer (SwiftShader behind ANGLE), where measurements on this
 * machine showed:
 * - instanced quads (LineSegments2) about 40 times slower than plain indexed triangles
 *   (20 x 1,000 segments: 800 ms per frame against about 20 ms), so the quads are not instanced;
 * - one draw call per trail costing more than the segments themselves (1 trail of 4,000
 *   segments: 52 fps; 20 trails of 200: 24 fps), so all trails of a set share one geometry and
 *   one draw call;
 * - cost growing with the number of segments, so long trails are drawn with every `stride`-th
 *   sample (level of detail) within a budget of segments per frame for the whole set.
 * The paths are uploaded once per level of detail; a frame only rewrites the index buffer of the
 * visible segments.
 */
import * as THREE from 'three';

const vertexShader = /* glsl */ `
uniform vec2 resolution;
uniform float linewidth;
uniform bool useErrorColor;
attribute vec3 start;
attribute vec3 end;
attribute vec2 corner; // x: 0 at start, 1 at end; y: -1 or +1 side
attribute vec3 color;
attribute vec3 errorColor;
varying vec3 vColor;
void main() {
  vColor = useErrorColor ? errorColor : color;
  vec4 a = projectionMatrix * modelViewMatrix * vec4(start, 1.0);
  vec4 b = projectionMatrix * modelViewMatrix * vec4(end, 1.0);
  // Screen-space direction of the segment (in pixels), then a perpendicular offset of half the width.
  vec2 dir = (b.xy / b.w - a.xy / a.w) * resolution;
  dir = length(dir) > 0.0 ? normalize(dir) : vec2(1.0, 0.0);
  vec2 normal = vec2(-dir.y, dir.x);
  vec4 p = corner.x < 0.5 ? a : b;
  p.xy += normal * corner.y * linewidth / resolution * p.w; // NDC spans 2 per resolution pixels
  gl_Position = p;
}`;

const fragmentShader = /* glsl */ `
uniform float opacity;
varying vec3 vColor;
void main() {
  gl_FragColor = vec4(vColor, opacity);
  #include <colorspace_fragment>
}`;

/** Segments drawn per frame by all the trails of the viewer together, at most. */
export const TRAIL_SEGMENT_BUDGET = 4000;

export interface TrailSpec {
  /** The point's path, [samples, 3] row-major. */
  readonly path: Float32Array;
  readonly color: THREE.Color;
  /** Per-sample colours [samples, 3] for colouring by error, optional. */
  readonly errorColors?: Float32Array;
}

export class TrailSet {
  readonly object: THREE.Mesh;
  readonly material: THREE.ShaderMaterial;
  /** Segments this set may draw per frame (its share of TRAIL_SEGMENT_BUDGET). */
  budget = TRAIL_SEGMENT_BUDGET;
  private geometry = new THREE.BufferGeometry();
  private stride = 0;
  /** First vertex of each trail in the geometry, and its number of segments, at `stride`. */
  private layout: { base: number; segments: number }[] = [];
  private shown = { from: -1, to: -1, stride: -1 };

  /** Trails of equal sample counts; `width` in pixels. */
  constructor(
    private readonly trails: readonly TrailSpec[],
    width: number,
    opacity = 1,
  ) {
    this.material = new THREE.ShaderMaterial({
      uniforms: {
        opacity: { value: opacity },
        linewidth: { value: width },
        resolution: { value: new THREE.Vector2(1, 1) },
        useErrorColor: { value: false },
      },
      vertexShader,
      fragmentShader,
      transparent: opacity < 1,
      depthWrite: opacity >= 1,
      side: THREE.DoubleSide,
    });
    this.object = new THREE.Mesh(this.geometry, this.material);
    this.object.frustumCulled = false; // the drawn part changes every frame
  }

  private get samples(): number {
    return this.trails.length > 0 ? this.trails[0].path.length / 3 : 0;
  }

  /** Canvas (or viewport) size in pixels: line widths are in pixels. */
  setResolution(width: number, height: number): void {
    (this.material.uniforms.resolution.value as THREE.Vector2).set(width, height);
  }

  /** Builds the quads of all trails' segments (k*stride -> (k+1)*stride), once per stride. */
  private build(stride: number): void {
    const n = this.samples;
    const perTrail = Math.max(0, Math.ceil((n - 1) / stride));
    const quads = perTrail * this.trails.length;
    const start = new Float32Array(quads * 12);
    const end = new Float32Array(quads * 12);
    const corner = new Float32Array(quads * 8);
    const color = new Float32Array(quads * 12);
    const errorColor = new Float32Array(quads * 12);
    this.layout = [];
    let q = 0;
    for (const trail of this.trails) {
      this.layout.push({ base: q * 4, segments: perTrail });
      const rgb = [trail.color.r, trail.color.g, trail.color.b];
      for (let k = 0; k < perTrail; k++, q++) {
        const i = k * stride;
        const j = Math.min(n - 1, i + stride);
        for (let v = 0; v < 4; v++) {
          const o = (q * 4 + v) * 3;
          const atEnd = v >= 2;
          start.set(trail.path.subarray(i * 3, i * 3 + 3), o);
          end.set(trail.path.subarray(j * 3, j * 3 + 3), o);
          corner[(q * 4 + v) * 2] = atEnd ? 1 : 0;
          corner[(q * 4 + v) * 2 + 1] = v % 2 === 0 ? -1 : 1;
          color.set(rgb, o);
          const s = atEnd ? j : i;
          if (trail.errorColors) errorColor.set(trail.errorColors.subarray(s * 3, s * 3 + 3), o);
        }
      }
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('start', new THREE.BufferAttribute(start, 3));
    geometry.setAttribute('end', new THREE.BufferAttribute(end, 3));
    geometry.setAttribute('corner', new THREE.BufferAttribute(corner, 2));
    geometry.setAttribute('color', new THREE.BufferAttribute(color, 3));
    geometry.setAttribute('errorColor', new THREE.BufferAttribute(errorColor, 3));
    geometry.setAttribute('position', geometry.getAttribute('start')); // three counts vertices by `position`
    const index = new THREE.BufferAttribute(new Uint32Array(Math.max(1, quads * 6)), 1);
    index.setUsage(THREE.DynamicDrawUsage);
    geometry.setIndex(index);
    this.geometry.dispose();
    this.geometry = geometry;
    this.object.geometry = geometry;
    this.stride = stride;
  }

  /** Shows each trail over samples (head - length, head]; colours by error when `colored`. */
  update(head: number, length: number, colored: boolean): void {
    this.material.uniforms.useErrorColor.value = colored;
    const n = this.samples;
    if (n < 2 || this.trails.length === 0) return;
    const len = Math.max(0, Math.min(Math.floor(length), n - 1));
    const perTrail = Math.max(1, Math.floor(this.budget / this.trails.length));
    const stride = Math.max(1, Math.ceil(len / perTrail));
    if (stride !== this.stride) this.build(stride);
    const h = Math.max(0, Math.min(head, n - 1));
    const to = Math.floor(h / stride);
    const from = Math.max(0, Math.floor((h - len) / stride));
    // The drawn segments change only when the head crosses a stride boundary: most frames upload nothing.
    if (from === this.shown.from && to === this.shown.to && stride === this.shown.stride) return;
    this.shown = { from, to, stride };
    const index = this.geometry.getIndex()!;
    const out = index.array as Uint32Array;
    let w = 0;
    for (const { base, segments } of this.layout) {
      for (let k = from; k < Math.min(to, segments); k++) {
        const b = base + k * 4;
        out[w++] = b;
        out[w++] = b + 1;
        out[w++] = b + 2;
        out[w++] = b + 1;
        out[w++] = b + 3;
        out[w++] = b + 2;
      }
    }
    index.clearUpdateRanges();
    index.addUpdateRange(0, w);
    index.needsUpdate = true;
    this.geometry.setDrawRange(0, w);
  }

  dispose(): void {
    this.geometry.dispose();
    this.material.dispose();
  }
}
