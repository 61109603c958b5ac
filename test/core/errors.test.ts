import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CoreErrors } from '../../core/index.js';
import { StoreErrors } from '../../store/index.js';

const ALL = { ...CoreErrors, ...StoreErrors };

describe('error codes', () => {
  it('are unique and each is documented in the README', () => {
    const codes = Object.values(ALL).map((factory) => factory.code);
    expect(new Set(codes).size).toBe(codes.length);
    const readme = readFileSync('README.md', 'utf8');
    expect(codes.filter((code) => !readme.includes(code))).toEqual([]);
  });
});
