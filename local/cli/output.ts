/**
 * How the project's commands (`npm start`, `npm run bench`, `npm run enqueue`, the vendor
 * simulator) end, so what they printed reaches its reader whole.
 *
 * On a pipe, Node writes stdout asynchronously: `process.exit()` right after a large write
 * ends the process with the rest still queued (a reader of `npm run bench -- --json | jq`
 * would get the first 64 KiB, the pipe's buffer). Files and terminals are written at once,
 * which is why the cut is only seen on pipes.
 */

/**
 * Exits with `code` once everything already written to stdout and stderr has been handed to
 * the operating system. A write's callback runs after every earlier write of that stream, so
 * an empty write marks the end of what came before. A reader that went away (EPIPE) ends the
 * wait too. Exiting (rather than returning with `process.exitCode`) also ends handles the
 * command leaves open, such as a server's socket or a Ctrl-C listener.
 */
export function exitWhenWritten(code: number): void {
  process.exitCode = code;
  let waiting = 2;
  const written = () => {
    waiting -= 1;
    if (waiting === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.destroyed || stream.writableEnded) written();
    else stream.write('', written);
  }
}

/**
 * Runs a command's `main` and exits with its code once its output is written; an error
 * `main` throws is printed by `describe` (to stderr) and exits with `failureCode`.
 */
export function runCommand(
  main: () => Promise<number>,
  onError: (error: unknown) => { readonly message: string; readonly code: number },
): void {
  main().then(exitWhenWritten, (error: unknown) => {
    const { message, code } = onError(error);
    process.stderr.write(`${message}\n`);
    exitWhenWritten(code);
  });
}

export interface JsonStdout {
  /** Gives stdout back and writes the JSON text of `value` and a newline to it. */
  print(value: unknown): void;
}

/**
 * With `--json`, stdout carries the JSON object only: until `print`, anything written
 * to stdout (a library's notice, a server's line relayed by a dependency, a stray log) goes
 * to stderr instead, where the progress lines go.
 */
export function reserveStdoutForJson(): JsonStdout {
  const original = process.stdout.write;
  const toStderr = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    (process.stderr.write as (...args: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  process.stdout.write = toStderr;
  return {
    print: (value) => {
      // Given back first: the exit waits for stdout's own writes (exitWhenWritten).
      if (process.stdout.write === toStderr) process.stdout.write = original;
      process.stdout.write(`${JSON.stringify(value)}\n`);
    },
  };
}
