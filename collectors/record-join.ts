/**
 * How the physical lines of a file make records: a PostgreSQL statement spans lines, a Java stack
 * trace follows its log line. One rule per format, used by both the file tailer and `joinRecords`.
 */
export interface JoinRule {
  /** csvlog: a record goes on exactly while a quoted field is open, and is whole once it closes. */
  csv: boolean;
  /** Whether `line` belongs to the pending record (of `lines` lines so far) rather than starting one. */
  continues(line: string, inQuotes: boolean, lines: number): boolean;
}

/** A record never grows past this many lines: a misread file cannot pile up one endless record. */
export const MAX_RECORD_LINES = 1000;

/** csvlog: newlines inside a quoted field are part of it. */
export const CSV_JOIN: JoinRule = { csv: true, continues: (_line, inQuotes, lines) => inQuotes && lines < MAX_RECORD_LINES };

/** A record goes on with each line for which `follows` holds, up to MAX_RECORD_LINES. */
export function lineJoin(follows: (line: string) => boolean): JoinRule {
  return { csv: false, continues: (line, _inQuotes, lines) => lines < MAX_RECORD_LINES && follows(line) };
}

/** Whether a quoted CSV field is open after `line`, given whether one was open before it. */
export function quotesOpenAfter(line: string, inQuotes: boolean): boolean {
  return (line.split('"').length - 1) % 2 === 1 ? !inQuotes : inQuotes;
}

/**
 * Joins lines into records as they come, holding only the record in progress (a streamed file of any
 * size). Lines carry what the reader knows of them (position, encoding flag); a record keeps its lines.
 */
export class RecordJoiner<T extends { text: string }> {
  readonly #rule: JoinRule;
  #record: T[] | undefined;
  #inQuotes = false;

  constructor(rule: JoinRule) {
    this.#rule = rule;
  }

  /** Adds a line; returns the records it completed, in order (none, one, or two with csvlog). */
  push(line: T): T[][] {
    const done: T[][] = [];
    if (this.#record !== undefined && this.#rule.continues(line.text, this.#inQuotes, this.#record.length)) this.#record.push(line);
    else {
      if (this.#record !== undefined) done.push(this.#record);
      this.#record = [line];
      this.#inQuotes = false;
    }
    if (this.#rule.csv) {
      this.#inQuotes = quotesOpenAfter(line.text, this.#inQuotes);
      if (!this.#inQuotes) {
        done.push(this.#record);
        this.#record = undefined;
      }
    }
    return done;
  }

  /** The lines of the record in progress, if any (a reader checkpoints before its first). */
  get pending(): readonly T[] | undefined {
    return this.#record;
  }

  /** The record in progress at the end of the input, if any. */
  end(): T[] | undefined {
    const record = this.#record;
    this.#record = undefined;
    return record;
  }
}

/** Joins lines into records by a rule; records keep their lines as written, joined by `\n`. */
export function* joinRecords(lines: Iterable<string>, rule: JoinRule): Generator<string> {
  const joiner = new RecordJoiner<{ text: string }>(rule);
  const text = (record: { text: string }[]) => record.map((line) => line.text).join('\n');
  for (const line of lines) for (const record of joiner.push({ text: line })) yield text(record);
  const last = joiner.end();
  if (last !== undefined) yield text(last);
}
