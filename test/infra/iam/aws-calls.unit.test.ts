import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importsOf, ROOT, sourceFiles } from '../../structure/imports';
import { ADAPTER_COMMANDS, ROLE_CALLS } from './aws-calls';

/**
 * The tables the IAM evaluation reads (aws-calls.ts) against the code: every AWS SDK command
 * imported under lambda/ is listed with its actions, a transaction's actions are those of the
 * items it holds, and every command a role's code can reach is either sent or said not to be.
 */

const IMPORT = /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g;

/** The `…Command` classes a file imports from the AWS SDK (type-only names excluded). */
function importedCommands(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].flatMap(([line, names]) =>
    line!.startsWith('import type')
      ? []
      : names!
          .split(',')
          .map((name) => name.trim())
          .filter((name) => !name.startsWith('type ') && /^[A-Z]\w*Command$/.test(name)),
  );
}

/** Every repository file reached from `entries` through relative imports. */
function reachable(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const line of importsOf(file)) if (line.target?.endsWith('.ts')) stack.push(line.target);
  }
  return seen;
}

const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
};

describe('the AWS calls table', () => {
  it('lists exactly the AWS SDK commands each file of lambda/ imports', () => {
    const found = Object.fromEntries(
      sourceFiles('lambda')
        .map((file) => [file, importedCommands(file).sort()] as const)
        .filter(([, commands]) => commands.length > 0),
    );
    const listed = Object.fromEntries(
      Object.entries(ADAPTER_COMMANDS).map(([file, commands]) => [file, Object.keys(commands).sort()]),
    );
    expect(listed).toEqual(found);
  });

  it('gives a transaction the actions of every kind of item its file puts in one', () => {
    for (const [file, commands] of Object.entries(ADAPTER_COMMANDS)) {
      const actions = commands.TransactWriteItemsCommand;
      if (!actions) continue;
      const text = readFileSync(join(ROOT, file), 'utf8');
      const kinds = new Set(
        [...text.matchAll(/\b(ConditionCheck|Put|Update|Delete):\s*\{/g)].map(([, kind]) => kind!),
      );
      // `Update` also appears as a type (`as Update`): count only item keys, as matched above.
      expect({ file, actions: [...actions].sort() }).toEqual({
        file,
        actions: [...kinds].map((kind) => TRANSACT_ITEM_ACTIONS[kind]!).sort(),
      });
    }
  });

  describe.each(Object.entries(ROLE_CALLS))('%s', (_role, calls) => {
    const reached = reachable(calls.entries);

    it('classifies every command its code can reach as sent or not, and nothing it cannot reach', () => {
      const reachableCommands = Object.entries(ADAPTER_COMMANDS)
        .filter(([file]) => reached.has(file))
        .flatMap(([file, commands]) => Object.keys(commands).map((command) => `${file}:${command}`))
        .sort();
      const classified = [...Object.keys(calls.sends), ...Object.keys(calls.notSent)].sort();
      expect(classified).toEqual(reachableCommands);
    });

    it('makes, for every command it sends, the requests of all of its actions', () => {
      for (const [sent, requests] of Object.entries(calls.sends)) {
        const [file, command] = sent.split(':') as [string, string];
        const actions = [...new Set(requests.map((r) => r.action))].sort();
        expect({ sent, actions }).toEqual({ sent, actions: [...ADAPTER_COMMANDS[file]![command]!].sort() });
      }
    });
  });
});
