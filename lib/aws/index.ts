export * from './iam-function-url';
export * from './invoker-role';
