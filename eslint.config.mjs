// ESLint 9 flat config: typescript-eslint's recommended type-checked rules (type information from
// tsconfig.json through the project service), promise rules as errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const tests = ['**/*.spec.ts', 'test/**/*.ts', '**/testing/**/*.ts'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', '.cache/', 'bench/results/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its error: both are errors; `void` marks the deliberate ones.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Turned off: the no-unsafe-* family flags every use of an `any` value (about a thousand hits,
      // nearly all parsed JSON in tests); `require-await` flags async methods that implement an
      // async interface without awaiting; `unbound-method` flags deciders' `evolve`, plain functions
      // declared with method syntax that never use `this`.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // `_`-prefixed names are the ones left out on purpose (`const { id: _, ...rest } = doc`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Rethrowing or rejecting with a caught `unknown` is passing an error on, not making one.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowAny: true, allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true, allowArray: true },
      ],
    },
  },
  {
    // Tests and test support read JSON answers as `any` and load CommonJS
    // helpers and package.json files with require().
    files: tests,
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The plain JavaScript files (jest.config.js, test/support/servers/*.{js,cjs}) are CommonJS
    // scripts outside tsconfig.json: no type information.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        exports: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
  {
    // The dashboard's client: an ES module run by the browser (ECharts is its one global, declared in the file).
    files: ['apps/api/src/dashboard/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        window: 'readonly',
        document: 'readonly',
        sessionStorage: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        Option: 'readonly',
        setTimeout: 'readonly',
      },
    },
  },
);
