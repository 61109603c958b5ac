// Module hooks for source-worker.mjs: `./x.js` imported from a .ts module resolves to `./x.ts`, and
// .ts modules are transpiled (types dropped, nothing checked: tsc does that). Each worker start runs
// these hooks afresh, so the output is cached on disk by file, size and time, and typescript is only
// loaded on a miss.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { getuid, pid } from 'node:process';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

const CACHE = join(tmpdir(), `shouwang-ts-worker-cache-${getuid?.() ?? 0}`);
let ts;
let cacheUsable;

/** Only a folder that is ours alone: code read from a cache others can write would run as us. */
function usable() {
  if (cacheUsable === undefined) {
    try {
      mkdirSync(CACHE, { recursive: true, mode: 0o700 });
      const { uid, mode } = statSync(CACHE);
      cacheUsable = (getuid === undefined || uid === getuid()) && (mode & 0o077) === 0;
    } catch {
      cacheUsable = false;
    }
  }
  return cacheUsable;
}

export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL?.endsWith('.ts') && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(candidate)) return { url: candidate.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const { size, mtimeMs } = statSync(fileName);
  const cached = join(CACHE, `${createHash('sha256').update(`v1\0${fileName}\0${size}\0${mtimeMs}`).digest('hex')}.js`);
  if (usable() && existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
  ts ??= (await import('typescript')).default;
  const { outputText } = ts.transpileModule(readFileSync(fileName, 'utf8'), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  });
  if (!usable()) return { format: 'module', source: outputText, shortCircuit: true };
  const temporary = `${cached}.${pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, outputText);
  renameSync(temporary, cached); // whole or not at all, when two workers write the same file
  return { format: 'module', source: outputText, shortCircuit: true };
}
