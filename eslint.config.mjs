// Lint: TypeScript rules plus Nx module boundaries. Backend code may import backend and
// shared libraries; the portal and the CLI may import only shared ones (contracts, the
// generated API client). A forbidden import fails `npm run lint`.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Tags and who may import whom; tests may also use the testing library. */
function depConstraints(forTests) {
  const testing = forTests ? ['type:testing'] : [];
  return [
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    { sourceTag: 'scope:backend', onlyDependOnLibsWithTags: ['scope:backend', 'scope:shared'] },
    { sourceTag: 'scope:frontend', onlyDependOnLibsWithTags: ['scope:frontend', 'scope:shared'] },
    { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:client', 'scope:shared'] },
    { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:migrations', ...testing] },
    { sourceTag: 'type:migrations', onlyDependOnLibsWithTags: [] },
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', ...testing] },
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:migrations'] },
  ];
}

const boundaries = (forTests) => ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: depConstraints(forTests) }];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.nuxt/**',
      '**/.output/**',
      'libs/api-client/src/schema.ts',
      '**/*.vue',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
      'bench/out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts', 'apps/*/test/**/*.ts'],
    rules: { 'no-console': 'off', '@nx/enforce-module-boundaries': boundaries(true) },
  },
  prettier,
);
