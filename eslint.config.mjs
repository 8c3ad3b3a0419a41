import tseslint from 'typescript-eslint';

const constructLibraries = ['aws-cdk-lib', 'aws-cdk-lib/*', 'cdktf', 'cdktf/*', '@cdktf/*', 'constructs', 'esbuild'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'cdk.out/**', 'cdktf.out/**', 'coverage/**', '.gen/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The runtime boundary: code that runs at request time never pulls in construct libraries.
    files: ['lib/verify/**', 'lib/client/**', 'lib/handlers/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: constructLibraries, message: 'runtime code (lib/verify, lib/client, lib/handlers) must not import construct libraries or bundlers' }],
        paths: [
          { name: '../validation', message: 'ValidationError is for construct props; runtime code throws AuthError' },
          { name: '../bundling', message: 'bundling is construct-time only' },
        ],
      }],
    },
  },
  {
    // The GCP half stays portable to a CDKTF successor: no aws-cdk-lib there, no cdktf elsewhere.
    files: ['lib/gcp/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['aws-cdk-lib', 'aws-cdk-lib/*'], message: 'lib/gcp is CDKTF-only' }] }] },
  },
  {
    files: ['lib/aws/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['cdktf', 'cdktf/*', '@cdktf/*'], message: 'CDKTF code lives in lib/gcp only' }] }] },
  },
);
