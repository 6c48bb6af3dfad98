import type * as ts from 'typescript';

/** Adds each log call's `source` (file, line, function) at compile time; see log-callsite-transformer.js. */
export declare function transformerFactory(): ts.TransformerFactory<ts.SourceFile>;
export declare const before: (options: unknown, program: ts.Program) => ts.TransformerFactory<ts.SourceFile>;
export declare const factory: (tsCompiler: unknown, opts: unknown) => ts.TransformerFactory<ts.SourceFile>;
export declare const name: string;
export declare const version: string;
