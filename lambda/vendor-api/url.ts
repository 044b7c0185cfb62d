/**
 * The vendor URL, built and checked as the vendor will see it. A check on the text a message
 * gave is not enough: the WHATWG URL parser (which `fetch` uses) drops tabs and line breaks,
 * resolves `.`/`..` (and `%2e`) segments, and many servers decode `%2F` or `\` into a separator
 * before routing. So text that can change meaning on the way is refused, and the URL is parsed
 * here, once, and its normalised path checked segment by segment; the client sends exactly that
 * URL.
 */

/** A refused piece of a message: the rule it broke and the sentence that says so. */
export interface TextProblem {
  readonly rule:
    | 'control-character'
    | 'backslash'
    | 'encoded-character'
    | 'lookalike-character'
    | 'dot-segment'
    | 'separator';
  readonly problem: string;
}

/** C0 controls, DEL and C1 controls: the URL parser strips some of them and servers read others. */
function firstControl(text: string): number | undefined {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return code;
  }
  return undefined;
}
/**
 * Encoded `/`, `\`, `.` and NUL, once or more (`%252f` is `%2f` to a server that decodes twice):
 * a server that decodes before routing reads a separator or a dot.
 */
const ENCODED = /%(?:25)*(2f|5c|2e|00)/i;

const ENCODED_NAMES: Readonly<Record<string, string>> = {
  '2f': 'an encoded /',
  '5c': 'an encoded \\',
  '2e': 'an encoded .',
  '00': 'an encoded NUL',
};

/** Characters that route: a lookalike that folds to one of them is read as it by some servers. */
const ROUTING = /[/\\.%?#;]/;

/** A character that Unicode compatibility folding (NFKC) turns into `/`, `\`, `.`, `%`, `?`, `#` or `;`. */
function firstLookalike(text: string): string | undefined {
  for (const character of text) {
    if (character.charCodeAt(0) < 0x80) continue;
    const folded = character.normalize('NFKC');
    if (folded !== character && ROUTING.test(folded)) return character;
  }
  return undefined;
}

/** What is wrong with a direct path or a parameter value, or undefined when nothing is. */
export function textProblem(text: string): TextProblem | undefined {
  const control = firstControl(text);
  if (control !== undefined) {
    const code = control.toString(16).toUpperCase().padStart(4, '0');
    return { rule: 'control-character', problem: `must not contain control characters (U+${code})` };
  }
  if (text.includes('\\')) return { rule: 'backslash', problem: 'must not contain a backslash' };
  const lookalike = firstLookalike(text);
  if (lookalike !== undefined) {
    const code = (lookalike.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    const folded = JSON.stringify(lookalike.normalize('NFKC'));
    return {
      rule: 'lookalike-character',
      problem: `must not contain U+${code}, which Unicode folding turns into ${folded}`,
    };
  }
  const encoded = ENCODED.exec(text);
  if (encoded) {
    const name = ENCODED_NAMES[(encoded[1] ?? '').toLowerCase()];
    const twice = encoded[0].length > 3 ? ', encoded more than once' : '';
    return { rule: 'encoded-character', problem: `must not contain ${encoded[0]} (${name}${twice})` };
  }
  return undefined;
}

/**
 * A segment a server may read as `.` or `..`: plainly, percent-decoded, after Unicode
 * compatibility folding (a fullwidth `．`, a one-dot leader `․`), or without a `;` path
 * parameter (`..;x`, which some Java servers route as `..`).
 */
export function isDotSegment(segment: string): boolean {
  const withoutParameter = segment.split(';', 1)[0] ?? segment;
  for (const form of [segment, safeDecode(segment), withoutParameter, safeDecode(withoutParameter)]) {
    const folded = form.normalize('NFKC');
    if (folded === '.' || folded === '..' || form === '.' || form === '..') return true;
  }
  return false;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The path's segments after the leading `/` (`/a/b` → `a`, `b`; `/` → one empty segment). */
export function segmentsOf(pathname: string): string[] {
  return pathname.split('/').slice(1);
}

/**
 * Whether `path` is under `prefix`, segment by segment: `/visits` allows `/visits` and
 * `/visits/1`, never `/visitsadmin`; a prefix ending in `/` needs a segment after it. The
 * prefix is compared in the form the URL parser gives it, so both sides are spelled alike.
 */
export function isUnderPrefix(pathname: string, prefix: string): boolean {
  const wanted = segmentsOf(new URL(prefix, 'https://prefix.invalid').pathname);
  const needsMore = wanted.length > 0 && wanted[wanted.length - 1] === '';
  if (needsMore) wanted.pop();
  const segments = segmentsOf(pathname);
  if (segments.length < wanted.length + (needsMore ? 1 : 0)) return false;
  if (needsMore && segments.slice(wanted.length).every((segment) => segment === '')) return false;
  return wanted.every((segment, index) => segments[index] === segment);
}

/** A checked vendor URL: `href` is what is fetched; `path` is its path and query relative to the base URL. */
export interface VendorUrl {
  readonly href: string;
  readonly path: string;
  /** The relative path without the query, as the URL parser normalised it. */
  readonly pathname: string;
}

/** The URL parser moved the request off the base URL (another origin, or above the base path). */
export class OutsideBaseError extends Error {
  override readonly name: string = 'OutsideBaseError';
}

/**
 * `baseUrl` + `path` through the WHATWG URL parser, checked: same origin as the base, no
 * credentials, its path under the base path segment by segment, no dot segment left. Throws
 * `OutsideBaseError` otherwise (or when it does not parse at all).
 */
export function vendorUrl(baseUrl: string, path: string): VendorUrl {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(`${base.origin}${basePath}${path}`);
  } catch {
    throw new OutsideBaseError(`"${path}" does not make a valid URL with the base URL`);
  }
  if (url.origin !== base.origin || url.username !== '' || url.password !== '') {
    throw new OutsideBaseError(`"${path}" leaves the vendor's origin ${base.origin}`);
  }
  const baseSegments = basePath === '' ? [] : segmentsOf(basePath);
  const segments = segmentsOf(url.pathname);
  const underBase = baseSegments.every((segment, index) => segments[index] === segment);
  if (!underBase || segments.length <= baseSegments.length) {
    throw new OutsideBaseError(`"${path}" resolves to ${url.pathname}, outside the base path ${basePath}`);
  }
  const relative = segments.slice(baseSegments.length);
  if (relative.some(isDotSegment)) {
    throw new OutsideBaseError(`"${path}" resolves to ${url.pathname}, which keeps a dot segment`);
  }
  const pathname = `/${relative.join('/')}`;
  // fetch never sends the fragment; dropped here so that the URL checked is the URL sent.
  url.hash = '';
  return { href: url.href, path: pathname + url.search, pathname };
}
