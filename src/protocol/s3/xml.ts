/**
 * The little XML S3 needs: writing responses (escaped text elements) and reading the few request
 * bodies it takes (versioning configuration, bucket configuration, multipart completion,
 * multi-object delete). The reader accepts plain element trees; it ignores attributes,
 * namespaces, comments and processing instructions, and refuses anything malformed.
 */

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"'\r]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c]!);
}

/** `<name>text</name>`, or '' when the value is undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** An element holding already-written XML. */
export function wrap(name: string, inner: string): string {
  return `<${name}>${inner}</${name}>`;
}

export function xmlDocument(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${inner}</${root}>`;
}

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

export class XmlError extends Error {}

const MAX_DEPTH = 16;

export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (): never => {
    throw new XmlError('malformed XML');
  };

  const skipMisc = () => {
    for (;;) {
      while (pos < source.length && /\s/.test(source[pos])) pos++;
      if (source.startsWith('<?', pos)) {
        const end = source.indexOf('?>', pos);
        if (end < 0) fail();
        pos = end + 2;
      } else if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) fail();
        pos = end + 3;
      } else return;
    }
  };

  const element = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH || source[pos] !== '<') fail();
    const m = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(source.slice(pos, pos + 4096));
    if (!m) fail();
    const node: XmlElement = { name: localName(m![1]), children: [], text: '' };
    pos += m![0].length;
    if (m![3] === '/') return node;
    let text = '';
    for (;;) {
      if (pos >= source.length) fail();
      if (source.startsWith('</', pos)) {
        const close = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(source.slice(pos, pos + 4096));
        if (!close || localName(close[1]) !== node.name) fail();
        pos += close![0].length;
        node.text = decodeEntities(text);
        return node;
      }
      if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) fail();
        pos = end + 3;
      } else if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos);
        if (end < 0) fail();
        text += source.slice(pos + 9, end).replace(/&/g, '&amp;').replace(/</g, '&lt;');
        pos = end + 3;
      } else if (source[pos] === '<') {
        node.children.push(element(depth + 1));
      } else {
        const next = source.indexOf('<', pos);
        if (next < 0) fail();
        text += source.slice(pos, next);
        pos = next;
      }
    }
  };

  skipMisc();
  const root = element(0);
  skipMisc();
  if (pos !== source.length) fail();
  return root;
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff) throw new XmlError('bad character reference');
      return String.fromCodePoint(cp);
    }
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e];
  });
}

export function child(node: XmlElement, name: string): XmlElement | undefined {
  return node.children.find((c) => c.name === name);
}

export function children(node: XmlElement, name: string): XmlElement[] {
  return node.children.filter((c) => c.name === name);
}
