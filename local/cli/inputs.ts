import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../../lambda/sluice';
import { parseStackConfig, type StackConfig } from '../../lib/config';
import type { Profile } from './options';

/**
 * Reading the user's files before any server starts: a problem names the file, the line and
 * what is wrong, so a typo costs seconds, not a Java start-up.
 */
export class InputFileError extends SluiceError {
  override readonly name: string = 'InputFileError';
}

/** The configuration each simulator profile runs with when no `--config` is given. */
export function defaultConfigFile(profile: Profile, root = join(__dirname, '..', '..')): string {
  const file = profile === 'waitwhile' ? 'sluice.config.json' : `local-${profile}.json`;
  return join(root, 'config', file);
}

/**
 * Reads and validates a stack configuration file. `overrides` replace top-level fields before
 * validation, so a changed field is checked with the rest as the user wrote it (shares, pool
 * choices and `vendorLimit` buckets derive again from the file, not from a parsed copy).
 */
export function loadConfigFile(path: string, overrides: Record<string, unknown> = {}): StackConfig {
  const text = readText(path, '--config');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputFileError(
      `${path}:${jsonErrorLine(text, error)}: not valid JSON (${jsonProblem(error)})`,
      {
        cause: error,
      },
    );
  }
  try {
    const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
    return parseStackConfig(isObject ? { ...(json as Record<string, unknown>), ...overrides } : json, path);
  } catch (error) {
    throw new InputFileError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** One message of a JSONL file, with the line it came from. */
export interface MessageLine {
  readonly line: number;
  readonly id: string;
  readonly message: Record<string, unknown>;
}

/**
 * Reads JSONL: one JSON object per non-blank line, each with a unique string `id` (the
 * idempotency key the report is keyed by). `validate` applies the producer contract and
 * returns a problem or undefined. Every bad line is reported together (the first 20).
 */
export function loadMessagesFile(
  path: string,
  validate: (message: unknown) => string | undefined = () => undefined,
): MessageLine[] {
  const text = readText(path, '--messages');
  const problems: string[] = [];
  const messages: MessageLine[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push(`${path}:${line}: not valid JSON (${jsonProblem(error)})`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${path}:${line}: a message must be a JSON object`);
      return;
    }
    const id = (value as { id?: unknown }).id;
    if (typeof id !== 'string' || id === '') {
      problems.push(`${path}:${line}: id must be a non-empty string`);
      return;
    }
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      problems.push(`${path}:${line}: id "${id}" is already used on line ${earlier}`);
      return;
    }
    seen.set(id, line);
    const problem = validate(value);
    if (problem) problems.push(`${path}:${line}: ${problem}`);
    else messages.push({ line, id, message: value as Record<string, unknown> });
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    throw new InputFileError(
      `Invalid messages file (${plural(problems.length, 'problem')}):\n  ${shown.join('\n  ')}${more}`,
    );
  }
  if (messages.length === 0)
    throw new InputFileError(`${path}: no messages (the file has no non-blank line)`);
  return messages;
}

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(error);
    throw new InputFileError(`${option} ${path}: cannot read the file (${why})`, { cause: error });
  }
}

/** JSON.parse names a character position; people look for a line. */
function jsonErrorLine(text: string, error: unknown): string {
  const position = /position (\d+)/.exec(String(error))?.[1];
  // "Unexpected end of JSON input" names no position: the problem is at the end.
  if (position === undefined) return String(text.trimEnd().split('\n').length);
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return `${line}:${column}`;
}

function jsonProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
