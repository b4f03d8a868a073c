/**
 * Decoding and parsing one SBOM file. SBOMs are JSON only (packages.md §9.1): UTF-8, an
 * optional byte-order mark tolerated. A syntax error is reported with its line and column.
 */
export type ParsedDocument =
  | { ok: true; value: unknown }
  | { ok: false; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function lineAndColumn(text: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${position - lineStart + 1}`;
}

export function parseJsonDocument(bytes: Uint8Array): ParsedDocument {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, message: 'The file is not valid JSON: it is not UTF-8 encoded text.' };
  }
  if (!/\S/.test(text)) return { ok: false, message: 'The file is not valid JSON: it is empty.' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const reason = (err as Error).message;
    const m = /at position (\d+)/.exec(reason);
    const position = m ? Number(m[1]) : undefined;
    const atEnd = /end of JSON input/.test(reason) || (position !== undefined && position >= text.length);
    const where = atEnd ? ' (at the end of the file: it looks truncated)' : position !== undefined ? ` (${lineAndColumn(text, position)})` : '';
    return { ok: false, message: `The file is not valid JSON: ${reason}${where}.` };
  }
}
