/** Minimal SVG text building: escaping and element strings. The plots are plain SVG 1.1 text. */

/** Escapes text for XML character data and attribute values (XML 1.0, section 2.4). */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export type Attributes = Readonly<Record<string, string | number | undefined>>;

function renderAttributes(attrs: Attributes): string {
  return Object.entries(attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? formatCoordinate(v) : v)}"`)
    .join('');
}

/** Coordinates with two decimals: small files, sub-pixel precision. */
export function formatCoordinate(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, '');
}

/** An element with children (already rendered strings) or text content. */
export function element(name: string, attrs: Attributes, ...children: string[]): string {
  if (children.length === 0) return `<${name}${renderAttributes(attrs)}/>`;
  return `<${name}${renderAttributes(attrs)}>${children.join('')}</${name}>`;
}

/** A text element whose content is escaped. */
export function textElement(attrs: Attributes, text: string): string {
  return `<text${renderAttributes(attrs)}>${escapeXml(text)}</text>`;
}
