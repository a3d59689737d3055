/**
 * A small XML well-formedness checker for tests (XML 1.0: one root, balanced and properly nested
 * tags, quoted attributes without duplicates, only predefined or numeric entities). Independent of
 * the SVG writer it checks. Returns the elements found, in document order.
 */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly depth: number;
}

const NAME = /^[A-Za-z_:][\w:.-]*$/;

function checkText(text: string): void {
  const bad = text.match(/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
  if (bad) throw new Error(`bad entity near '${text.slice(bad.index ?? 0, (bad.index ?? 0) + 12)}'`);
  if (text.includes('<')) throw new Error('unescaped < in text');
}

export function parseXml(doc: string): XmlElement[] {
  let s = doc.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const found: XmlElement[] = [];
  let roots = 0;
  while (s.length > 0) {
    const lt = s.indexOf('<');
    if (lt < 0) {
      if (stack.length > 0 || s.trim()) throw new Error('text after the root element');
      break;
    }
    const text = s.slice(0, lt);
    if (stack.length === 0 && text.trim()) throw new Error('text outside the root element');
    checkText(text);
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = s.slice(lt + 1, gt);
    s = s.slice(gt + 1);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) throw new Error(`mismatched closing tag </${name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = body.match(/^([^\s]+)(.*)$/s);
    if (!m || !NAME.test(m[1])) throw new Error(`bad tag <${tag}>`);
    const attrs: Record<string, string> = {};
    let rest = m[2];
    const attrRe = /^\s+([A-Za-z_:][\w:.-]*)="([^"<]*)"/;
    for (;;) {
      const a = rest.match(attrRe);
      if (!a) break;
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      checkText(a[2]);
      attrs[a[1]] = a[2].replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      rest = rest.slice(a[0].length);
    }
    if (rest.trim()) throw new Error(`bad attributes in <${tag}>`);
    if (stack.length === 0) roots++;
    if (roots > 1) throw new Error('more than one root element');
    found.push({ name: m[1], attrs, depth: stack.length });
    if (!selfClosing) stack.push(m[1]);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]}>`);
  if (roots !== 1) throw new Error('no root element');
  return found;
}
