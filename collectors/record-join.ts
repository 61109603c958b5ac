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

/** Joins lines into records by a rule; records keep their lines as written, joined by `\n`. */
export function* joinRecords(lines: Iterable<string>, rule: JoinRule): Generator<string> {
  let record: string[] | undefined;
  let inQuotes = false;
  for (const line of lines) {
    if (record !== undefined && rule.continues(line, inQuotes, record.length)) record.push(line);
    else {
      if (record !== undefined) yield record.join('\n');
      record = [line];
      inQuotes = false;
    }
    if (rule.csv) {
      inQuotes = quotesOpenAfter(line, inQuotes);
      if (!inQuotes) {
        yield record.join('\n');
        record = undefined;
      }
    }
  }
  if (record !== undefined) yield record.join('\n');
}
