import { SluiceError } from '../../lambda/sluice';

/**
 * A command line one of the project's CLIs cannot run (`npm start`, `npm run enqueue`,
 * `npm run bench`, the vendor simulator's `local/simulator/cli.ts`): the message says what is
 * wrong and how to ask for the options. Each CLI prints the message alone, without a stack
 * trace, and exits with code 2.
 */
export class CliUsageError extends SluiceError {
  override readonly name: string = 'CliUsageError';
}
