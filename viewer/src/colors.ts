/** Colours: one per body, and a colour map for error magnitudes. */
import * as THREE from 'three';

/** Distinct hues by the golden-angle rule (hue step 0.618...), fixed saturation and lightness. */
export function bodyColor(i: number): THREE.Color {
  return new THREE.Color().setHSL((0.08 + i * 0.618033988749895) % 1, 0.75, 0.58);
}

/**
 * Viridis, sampled at 5 stops (matplotlib's `viridis`, van der Walt and Smith, 2015), linearly
 * interpolated. `x` in [0, 1].
 */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [0.267, 0.005, 0.329],
  [0.229, 0.322, 0.546],
  [0.128, 0.567, 0.551],
  [0.369, 0.789, 0.383],
  [0.993, 0.906, 0.144],
];

export function viridis(x: number, out: THREE.Color = new THREE.Color()): THREE.Color {
  const v = Math.min(1, Math.max(0, Number.isFinite(x) ? x : 1)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(v));
  const f = v - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return out.setRGB(a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f, THREE.SRGBColorSpace);
}

/** Lowest point of the map used for errors: viridis' darkest purple vanishes on the dark background. */
const ERROR_FLOOR = 0.15;

/** Colour of an error `x` in [0, 1] (0: none, 1: the largest of the rollout). */
export function errorColor(x: number, out: THREE.Color = new THREE.Color()): THREE.Color {
  return viridis(ERROR_FLOOR + (1 - ERROR_FLOOR) * Math.min(1, Math.max(0, Number.isFinite(x) ? x : 1)), out);
}

/** CSS gradient of `errorColor` over [0, 1], for the legend. */
export function errorColorCss(): string {
  const color = new THREE.Color();
  const stops = Array.from({ length: 9 }, (_, i) => `#${errorColor(i / 8, color).getHexString(THREE.SRGBColorSpace)} ${(i / 8) * 100}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
