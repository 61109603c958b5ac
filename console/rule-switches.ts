import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFileAtomically } from '../core/index.js';
import { ConsoleErrors } from './errors.js';

/** Where the console keeps the rules switched off: `<dataDir>/rules-disabled.json`, for every command that runs rules. */
export const ruleSwitchesFile = (dataDir: string) => join(dataDir, 'rules-disabled.json');

/**
 * Which rules are switched off in the console, kept in a small JSON file (`{"disabled": [ids]}`)
 * so the choice survives restarts. The running analysis asks `isEnabled` on every signal and alert.
 */
export class RuleSwitches {
  readonly #file: string | undefined;
  readonly #disabled: Set<string>;
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string | undefined, disabled: Iterable<string>) {
    this.#file = file;
    this.#disabled = new Set(disabled);
  }

  /** Without a file the switches live in memory only (tests, one-off runs). */
  static async open(file?: string): Promise<RuleSwitches> {
    if (!file) return new RuleSwitches(undefined, []);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new RuleSwitches(file, []);
      throw error;
    }
    const parsed = JSON.parse(text) as { disabled?: unknown };
    if (!Array.isArray(parsed.disabled) || parsed.disabled.some((id) => typeof id !== 'string')) {
      throw ConsoleErrors.requestInvalid(`${file}: 应为 {"disabled": [规则 id]} / expected {"disabled": [rule ids]}`);
    }
    return new RuleSwitches(file, parsed.disabled as string[]);
  }

  isEnabled = (ruleId: string): boolean => !this.#disabled.has(ruleId);

  disabled(): string[] {
    return [...this.#disabled].sort();
  }

  /** Switches a rule on or off and writes the file (whole, then renamed: never half-written). */
  async set(ruleId: string, enabled: boolean): Promise<void> {
    if (enabled) this.#disabled.delete(ruleId);
    else this.#disabled.add(ruleId);
    const file = this.#file;
    if (!file) return;
    const text = `${JSON.stringify({ disabled: this.disabled() }, null, 2)}\n`;
    this.#writing = this.#writing.catch(() => undefined).then(async () => {
      await writePrivateFileAtomically(file, text);
    });
    await this.#writing;
  }
}
