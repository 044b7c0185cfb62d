import { SluiceError } from '../sluice';
import type { VendorSettings } from '../worker-settings';
import { isDotSegment, isUnderPrefix, OutsideBaseError, textProblem, vendorUrl } from './url';

/**
 * Turning a message's vendor request into a method and a path the client may call. The host
 * comes from configuration only: a message never carries a URL, never climbs out of the
 * allow-list with `..`, and a parameter value can never add a path segment. The path is
 * judged twice: as the message wrote it (text that could change meaning on the way is
 * refused, url.ts), and as the URL parser resolves it against the base URL, which is the
 * path the vendor receives.
 */

export type VendorRequestRule =
  | 'missing-request'
  | 'unknown-operation'
  | 'missing-parameter'
  | 'method'
  | 'full-url'
  | 'protocol-relative'
  | 'relative-path'
  | 'dot-segment'
  | 'backslash'
  | 'control-character'
  | 'encoded-character'
  | 'lookalike-character'
  | 'separator'
  | 'outside-base'
  | 'not-allowed';

/** A message asked for a request the configuration does not allow: dead-letter it, never retry. */
export class VendorRequestError extends SluiceError {
  override readonly name: string = 'VendorRequestError';
  constructor(
    message: string,
    readonly rule: VendorRequestRule,
    readonly path?: string,
  ) {
    super(message);
  }
}

export function isVendorRequestError(error: unknown): error is VendorRequestError {
  return error instanceof VendorRequestError;
}

export interface MessageRequest {
  readonly operation?: string;
  readonly method?: string;
  readonly path?: string;
  readonly params?: Readonly<Record<string, string>>;
}

export interface ResolvedRequest {
  /** The configured operation name, or `METHOD path-prefix` for an allow-listed direct call. */
  readonly operation: string;
  readonly method: string;
  /** Relative to the vendor's base URL, placeholders filled, checked. */
  readonly path: string;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

export function resolveRequest(settings: VendorSettings, message: MessageRequest): ResolvedRequest {
  if (message.operation !== undefined) {
    const configured = settings.operations[message.operation];
    if (!configured) {
      const known = Object.keys(settings.operations).join(', ') || 'none';
      throw new VendorRequestError(
        `operation "${message.operation}" is not configured (known: ${known})`,
        'unknown-operation',
      );
    }
    const filled = fillPlaceholders(
      configured.path,
      message.params ?? {},
      `operation "${message.operation}"`,
    );
    const url = resolved(settings, filled);
    // Parameters are encoded and hold no separator, so the parser must leave the path as filled.
    if (url.pathname !== filled.split(/[?#]/, 1)[0]) {
      throw new VendorRequestError(
        `params: make the path ${filled}, which the URL parser reads as ${url.pathname}`,
        'not-allowed',
        filled,
      );
    }
    return { operation: message.operation, method: configured.method, path: url.path };
  }
  if (message.method === undefined || message.path === undefined) {
    throw new VendorRequestError(
      'a vendor request needs an operation, or a method and a path',
      'missing-request',
    );
  }
  const method = message.method.toUpperCase();
  if (!METHODS.includes(method)) {
    throw new VendorRequestError(`method "${message.method}" is not one of ${METHODS.join(', ')}`, 'method');
  }
  checkDirectPath(message.path);
  const filled = fillPlaceholders(message.path, message.params ?? {}, `path "${message.path}"`);
  const url = resolved(settings, filled);
  const operation = matchingOperation(settings, method, url.pathname);
  if (operation) return { operation, method, path: url.path };
  const prefix = settings.allowedPaths.find((allowed) => isUnderPrefix(url.pathname, allowed));
  if (prefix === undefined) {
    const allowed = settings.allowedPaths.join(', ') || 'none';
    throw new VendorRequestError(
      `path: "${url.pathname}" is not under the allowed paths (${allowed}) and is no operation's path`,
      'not-allowed',
      filled,
    );
  }
  return { operation: `${method} ${prefix}`, method, path: url.path };
}

/** The path resolved against the base URL by the URL parser, as `fetch` will send it. */
function resolved(settings: VendorSettings, path: string) {
  try {
    return vendorUrl(settings.baseUrl, path);
  } catch (error) {
    if (error instanceof OutsideBaseError) {
      throw new VendorRequestError(`path: ${error.message}`, 'outside-base', path);
    }
    throw error;
  }
}

/**
 * `{name}` → the URL-encoded parameter, so a value can add neither a segment nor a query. A
 * value that a server could still read as a separator or a dot is refused, naming the field.
 */
function fillPlaceholders(template: string, params: Readonly<Record<string, string>>, what: string): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    const field = `params.${name}`;
    if (value === undefined || value === '') {
      throw new VendorRequestError(
        `${what} needs parameter "${name}" for path ${template}`,
        'missing-parameter',
        template,
      );
    }
    const problem = textProblem(value);
    if (problem)
      throw new VendorRequestError(
        `${field}: ${problem.problem} (got ${quote(value)})`,
        problem.rule,
        template,
      );
    if (value.includes('/')) {
      throw new VendorRequestError(
        `${field}: must not contain / (it would be sent as %2F, which some servers read as a separator) (got ${quote(value)})`,
        'separator',
        template,
      );
    }
    if (isDotSegment(value)) {
      throw new VendorRequestError(
        `${field}: must not be a dot segment (. or ..) (got ${quote(value)})`,
        'dot-segment',
        template,
      );
    }
    return encodeURIComponent(value);
  });
}

function checkDirectPath(path: string): void {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw new VendorRequestError(
      `path "${path}" is a full URL; a message carries a path relative to the vendor's base URL`,
      'full-url',
      path,
    );
  }
  if (path.startsWith('//')) {
    throw new VendorRequestError(
      `path "${path}" is protocol-relative (starts with //); a message carries a path relative to the vendor's base URL`,
      'protocol-relative',
      path,
    );
  }
  if (!path.startsWith('/')) {
    throw new VendorRequestError(`path "${path}" must start with /`, 'relative-path', path);
  }
  const problem = textProblem(path);
  if (problem)
    throw new VendorRequestError(`path: ${problem.problem} (got ${quote(path)})`, problem.rule, path);
  const segments = pathOnly(path).split('/');
  if (segments.some(isDotSegment)) {
    throw new VendorRequestError(
      `path: must not contain a dot segment (. or ..) (got ${quote(path)})`,
      'dot-segment',
      path,
    );
  }
}

/** A value quoted as JSON (control characters visible), cut to a readable length. */
function quote(value: string): string {
  const quoted = JSON.stringify(value);
  return quoted.length > 200 ? `${quoted.slice(0, 199)}…"` : quoted;
}

function pathOnly(path: string): string {
  return path.split(/[?#]/, 1)[0] ?? path;
}

/** A direct method + path that is exactly one configured operation's path is that operation. */
function matchingOperation(settings: VendorSettings, method: string, pathname: string): string | undefined {
  return Object.entries(settings.operations).find(([, operation]) => {
    if (operation.method !== method) return false;
    const pattern = operation.path
      .split(/\{[^}]+\}/)
      .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/?#]+');
    return new RegExp(`^${pattern}$`).test(pathname);
  })?.[0];
}
