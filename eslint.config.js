import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'test/harness/elasticsearch/target/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The console's web pages run in the browser as plain ES modules (no build step).
    files: ['console/web/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries([
        'window', 'document', 'location', 'history', 'localStorage', 'fetch', 'setTimeout', 'URLSearchParams',
        'Node', 'Event', 'HashChangeEvent',
      ].map((name) => [name, 'readonly'])),
    },
  },
);
