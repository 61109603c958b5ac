/**
 * Runnable shell blocks in the guides: a fenced ```sh block right after `<!-- runnable -->` (or
 * `<!-- runnable exit=N -->` for a block that shows a failure) is run as one bash script. Lines
 * `# → text` in it state output the block must print.
 */
export interface RunnableBlock {
  page: string;
  line: number;
  script: string;
  exitCode: number;
  expected: string[];
}

export function runnableBlocks(page: string, text: string): RunnableBlock[] {
  const lines = text.split('\n');
  const blocks: RunnableBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!--\s*runnable(?:\s+exit=(\d+))?\s*-->\s*$/.exec(lines[i]!);
    if (!marker) continue;
    let start = i + 1;
    while (lines[start]?.trim() === '') start++;
    if (lines[start]?.trim() !== '```sh') throw new Error(`${page}:${i + 1}: <!-- runnable --> is not followed by a \`\`\`sh block`);
    const end = lines.findIndex((line, j) => j > start && line.trim() === '```');
    if (end < 0) throw new Error(`${page}:${start + 1}: unclosed \`\`\`sh block`);
    const body = lines.slice(start + 1, end);
    blocks.push({
      page, line: start + 1, script: body.join('\n'), exitCode: Number(marker[1] ?? 0),
      expected: body.flatMap((line) => /^\s*# → (.+)$/.exec(line)?.[1]?.trim() ?? []),
    });
    i = end;
  }
  return blocks;
}
