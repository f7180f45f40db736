// Every workflow the worker runs. Workflow code is deterministic: no I/O, no Node built-ins, no zod.
export * from './submission';
export * from './obligation';
export * from './publication';
export * from './objection';
export * from './query';
export * from './calendar';
export * from './seal';
