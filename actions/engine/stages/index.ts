export * from './ladder.ts';
export * from './gates.ts';
export * from './vocabulary.ts';
