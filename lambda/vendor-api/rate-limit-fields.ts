/**
 * A small reader for the IETF RateLimit fields, which are HTTP Structured Fields (RFC 8941) in
 * the newer drafts and plain `key=value` lists in the older ones. Only what the pacing headers
 * use is read: items (a token, a quoted string or a number) with `;key=value` parameters, and
 * members separated by commas outside quotes and byte sequences. Pure; never throws.
 */

export type FieldValue = string | number | boolean;

/** One list member: its item (`"burst"`, `3`, or `limit=3` read as key and value) and parameters. */
export interface FieldMember {
  readonly key?: string;
  readonly value: FieldValue;
  readonly params: Readonly<Record<string, FieldValue>>;
}

/** Splits on `separator` outside `"…"` strings and `:…:` byte sequences. */
function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inString = false;
  let inBytes = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] as string;
    if (inString) {
      current += ch;
      if (ch === '\\' && i + 1 < text.length) {
        current += text[i + 1];
        i += 1;
      } else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = !inBytes;
    else if (ch === ':') inBytes = !inBytes;
    if (ch === separator && !inBytes) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function bareValue(text: string): FieldValue {
  const t = text.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === '?1') return true;
  if (t === '?0') return false;
  return t;
}

/** Parses a field value into members; an empty or blank value is no members. */
export function parseFieldList(value: string | null | undefined): FieldMember[] {
  if (value === null || value === undefined || value.trim() === '') return [];
  return splitOutside(value, ',').map((member) => {
    const [head = '', ...paramParts] = splitOutside(member, ';');
    const params: Record<string, FieldValue> = {};
    for (const part of paramParts) {
      const eq = part.indexOf('=');
      const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
      if (name !== '') params[name] = eq < 0 ? true : bareValue(part.slice(eq + 1));
    }
    const eq = head.indexOf('=');
    const startsQuoted = head.trim().startsWith('"');
    if (eq > 0 && !startsQuoted) {
      return { key: head.slice(0, eq).trim().toLowerCase(), value: bareValue(head.slice(eq + 1)), params };
    }
    return { value: bareValue(head), params };
  });
}

/** A non-negative finite number, or undefined. */
export function nonNegative(value: FieldValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
