/** A small well-formedness check for generated SVG: one root <svg>, every tag closed in order. */
export function checkSvg(text: string): string | undefined {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '').trim();
  if (!body.startsWith('<svg')) return 'does not start with <svg';
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(body)) !== null) {
    const between = body.slice(last, m.index);
    if (/[<>]/.test(between)) return `stray angle bracket before offset ${m.index}`;
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      if (stack.pop() !== name) return `</${name}> closes the wrong element`;
      if (stack.length === 0 && body.slice(last).trim() !== '') return 'content after the root element';
    } else if (!selfClosing) stack.push(name);
  }
  if (/[<>]/.test(body.slice(last))) return 'stray angle bracket at the end';
  return stack.length === 0 ? undefined : `unclosed <${stack[stack.length - 1]}>`;
}
