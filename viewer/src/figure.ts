/**
 * The 3D figure of one state of a system, built from what the system is:
 * - a chain (pendulums): point 0 is the pivot, the others are bobs joined by rods;
 * - bodies (n-body): one sphere per point, sized by mass, one colour per body.
 * A figure is drawn solid (truth) or ghosted (prediction).
 */
import * as THREE from 'three';
import { LineSegments2 } from 'three/examples/jsm/lines/LineSegments2.js';
import { LineSegmentsGeometry } from 'three/examples/jsm/lines/LineSegmentsGeometry.js';
import { LineMaterial } from 'three/examples/jsm/lines/LineMaterial.js';
import { bodyColor } from './colors.js';

export type FigureKind = 'chain' | 'bodies';

export interface FigureSpec {
  readonly kind: FigureKind;
  readonly pointCount: number;
  /** Sphere radius of each point (the pivot's is ignored for chains). */
  readonly radii: readonly number[];
  readonly ghost: boolean;
}

/** Chains for pendulum systems, bodies otherwise (system names from systems/index.ts). */
export function figureKind(systemName: string): FigureKind {
  return systemName.includes('pendulum') ? 'chain' : 'bodies';
}

/** Indices of the points that move (and get trails): all bodies, or a chain's bobs. */
export function movingPoints(kind: FigureKind, pointCount: number): number[] {
  return Array.from({ length: pointCount }, (_, i) => i).filter((i) => kind === 'bodies' || i > 0);
}

/**
 * Radii from masses: r = base * cbrt(m / max m), so volume is proportional to mass; at least
 * base / 3 so that light bodies stay visible. Masses are the params labelled mass1..massN.
 */
export function radiiFor(kind: FigureKind, pointCount: number, paramLabels: readonly string[], params: readonly number[], base: number): number[] {
  const masses: number[] = [];
  paramLabels.forEach((label, j) => {
    if (/^mass\d+$/.test(label)) masses.push(params[j]);
  });
  const moving = movingPoints(kind, pointCount);
  const radii = new Array<number>(pointCount).fill(base);
  if (masses.length === moving.length) {
    const max = Math.max(...masses.map(Math.abs)) || 1;
    moving.forEach((p, k) => (radii[p] = Math.max(base / 3, base * Math.cbrt(Math.abs(masses[k]) / max))));
  }
  return radii;
}

export class Figure {
  readonly group = new THREE.Group();
  /** One instanced mesh for all bobs or bodies: one draw call (draw calls are costly in SwiftShader). */
  private readonly bodies: THREE.InstancedMesh;
  private readonly moving: number[];
  private readonly baseColors: THREE.Color[] = [];
  private readonly pivot?: THREE.Mesh;
  private readonly rods?: { geometry: LineSegmentsGeometry; positions: Float32Array; material: LineMaterial };
  private readonly matrix = new THREE.Matrix4();
  private readonly scale = new THREE.Vector3();
  private readonly noRotation = new THREE.Quaternion();
  private readonly at = new THREE.Vector3();

  constructor(readonly spec: FigureSpec) {
    const opacity = spec.ghost ? 0.4 : 1;
    this.moving = movingPoints(spec.kind, spec.pointCount);
    const material = new THREE.MeshLambertMaterial({ transparent: spec.ghost, opacity, depthWrite: !spec.ghost });
    this.bodies = new THREE.InstancedMesh(new THREE.SphereGeometry(1, 12, 8), material, this.moving.length);
    this.bodies.frustumCulled = false;
    this.moving.forEach((_, k) => {
      const color = bodyColor(k);
      this.baseColors.push(color);
      this.bodies.setColorAt(k, color);
    });
    this.group.add(this.bodies);
    if (spec.kind === 'chain') {
      this.pivot = new THREE.Mesh(
        new THREE.BoxGeometry(1, 1, 1),
        new THREE.MeshLambertMaterial({ color: 0x9aa4b2, transparent: spec.ghost, opacity }),
      );
      this.pivot.scale.setScalar((spec.radii[1] ?? spec.radii[0]) * 0.8);
      this.group.add(this.pivot);
      const positions = new Float32Array((spec.pointCount - 1) * 6);
      const geometry = new LineSegmentsGeometry();
      geometry.setPositions(positions);
      const rodMaterial = new LineMaterial({ color: spec.ghost ? 0x8fb3ff : 0xdde3ea, linewidth: 4, transparent: spec.ghost, opacity: spec.ghost ? 0.5 : 1 });
      const rods = new LineSegments2(geometry, rodMaterial);
      rods.frustumCulled = false;
      this.group.add(rods);
      this.rods = { geometry, positions, material: rodMaterial };
    }
  }

  /** Places the figure at points [P, 3] (flat). */
  setPose(points: Float32Array): void {
    this.moving.forEach((p, k) => {
      this.at.set(points[p * 3], points[p * 3 + 1], points[p * 3 + 2]);
      this.bodies.setMatrixAt(k, this.matrix.compose(this.at, this.noRotation, this.scale.setScalar(this.spec.radii[p])));
    });
    this.bodies.instanceMatrix.needsUpdate = true;
    this.pivot?.position.set(points[0], points[1], points[2]);
    if (this.rods) {
      const { positions, geometry } = this.rods;
      for (let i = 0; i + 1 < this.spec.pointCount; i++) positions.set(points.subarray(i * 3, i * 3 + 6), i * 6);
      const start = geometry.getAttribute('instanceStart') as THREE.InterleavedBufferAttribute;
      start.data.needsUpdate = true;
    }
  }

  /** Colours the moving points (by error), or restores their own colours when `colors` is null. */
  setPointColors(colors: ((p: number, out: THREE.Color) => THREE.Color) | null): void {
    const tmp = new THREE.Color();
    this.moving.forEach((p, k) => this.bodies.setColorAt(k, colors ? colors(p, tmp) : this.baseColors[k]));
    if (this.bodies.instanceColor) this.bodies.instanceColor.needsUpdate = true;
  }

  /** Line widths need the canvas size in pixels. */
  setResolution(width: number, height: number): void {
    this.rods?.material.resolution.set(width, height);
  }

  dispose(): void {
    this.group.traverse((o) => {
      const mesh = o as THREE.Mesh;
      mesh.geometry?.dispose();
      const m = mesh.material as THREE.Material | undefined;
      m?.dispose();
    });
    this.bodies.dispose();
  }
}
