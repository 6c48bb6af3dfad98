'use strict';
/**
 * Compile-time call sites for log lines' `source` (a stack capture per line costs ~5× a pino line): rewrites
 *   log.info('Job submitted', { job_id })
 * into
 *   log.info('Job submitted', { job_id }, { file: 'jobs.service.ts', line: 42, function: 'JobsService.submit' })
 * so no stack trace is taken per line. It needs no type checker (ts-jest runs with isolatedModules): it only
 * touches calls on receivers this file initialised with `getLogger(...)` or declared as `StructuredLogger`, so a
 * Nest `Logger` or `console` is never changed. Other calls fall back to a run-time stack capture.
 *
 * Registered as a Nest CLI plugin (nest-cli.json, `before`), a ts-jest AST transformer (jest.config.js,
 * `factory`) and in the benchmark's ts-node hook (tools/ts-register.js).
 */
const path = require('node:path');
const ts = require('typescript');

const METHODS = new Set(['debug', 'info', 'warning', 'error', 'critical']);

function isGetLoggerCall(node) {
  if (!node || !ts.isCallExpression(node)) return false;
  const callee = node.expression;
  if (ts.isIdentifier(callee)) return callee.text === 'getLogger';
  return ts.isPropertyAccessExpression(callee) && callee.name.text === 'getLogger';
}

function isLoggerType(typeNode) {
  return !!typeNode && /\bStructuredLogger\b/.test(typeNode.getText());
}

function propertyName(name) {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isStringLiteral(name)) return name.text;
  return undefined;
}

/** Names of variables and `this.` properties that hold one of our loggers in this file. */
function collectLoggerNames(sourceFile) {
  const vars = new Set();
  const props = new Set();
  const visit = (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      if (isGetLoggerCall(node.initializer) || isLoggerType(node.type)) vars.add(node.name.text);
    } else if (ts.isPropertyDeclaration(node)) {
      const name = propertyName(node.name);
      if (name && (isGetLoggerCall(node.initializer) || isLoggerType(node.type))) props.add(name);
    } else if (ts.isParameter(node) && isLoggerType(node.type)) {
      const name = propertyName(node.name);
      // A constructor parameter property (`private readonly log: StructuredLogger`) is also `this.log`.
      if (name) {
        vars.add(name);
        if (node.modifiers && node.modifiers.length > 0) props.add(name);
      }
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.left) &&
      node.left.expression.kind === ts.SyntaxKind.ThisKeyword &&
      isGetLoggerCall(node.right)
    ) {
      props.add(node.left.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return { vars, props };
}

function isLoggerReceiver(expr, names) {
  if (ts.isIdentifier(expr)) return names.vars.has(expr.text);
  if (ts.isPropertyAccessExpression(expr) && expr.expression.kind === ts.SyntaxKind.ThisKeyword) {
    return names.props.has(expr.name.text);
  }
  return false;
}

function className(node) {
  return node && node.name ? node.name.text : '<class>';
}

/** The enclosing function as Python's funcName would name it (`Class.method` for methods, `<module>` at top). */
function functionName(node) {
  let anonymous = false;
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n)) {
      const owner = ts.isClassLike(n.parent) ? className(n.parent) : undefined;
      const name = propertyName(n.name) || '<method>';
      return owner ? `${owner}.${name}` : name;
    }
    if (ts.isConstructorDeclaration(n)) return `${className(n.parent)}.constructor`;
    if (ts.isFunctionDeclaration(n)) return n.name ? n.name.text : '<anonymous>';
    if (ts.isFunctionExpression(n) && n.name) return n.name.text;
    if (ts.isFunctionExpression(n) || ts.isArrowFunction(n)) {
      const p = n.parent;
      if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
      if (p && ts.isPropertyAssignment(p)) return propertyName(p.name) || '<anonymous>';
      if (p && ts.isPropertyDeclaration(p) && ts.isClassLike(p.parent)) {
        return `${className(p.parent)}.${propertyName(p.name) || '<anonymous>'}`;
      }
      // An anonymous callback: keep walking, it is named after the function that holds it.
      anonymous = true;
    }
  }
  return anonymous ? '<anonymous>' : '<module>';
}

function siteLiteral(factory, file, line, fn) {
  return factory.createObjectLiteralExpression(
    [
      factory.createPropertyAssignment('file', factory.createStringLiteral(file)),
      factory.createPropertyAssignment('line', factory.createNumericLiteral(line)),
      factory.createPropertyAssignment('function', factory.createStringLiteral(fn)),
    ],
    false,
  );
}

function freeze(factory, expr) {
  return factory.createCallExpression(
    factory.createPropertyAccessExpression(factory.createIdentifier('Object'), 'freeze'),
    undefined,
    [expr],
  );
}

function transformerFactory() {
  return (context) => (sourceFile) => {
    if (sourceFile.isDeclarationFile || !/\bgetLogger\b|\bStructuredLogger\b/.test(sourceFile.text)) return sourceFile;
    const names = collectLoggerNames(sourceFile);
    if (names.vars.size === 0 && names.props.size === 0) return sourceFile;
    const file = path.basename(sourceFile.fileName);
    const { factory } = context;
    // Each site is a frozen module-level constant: a log call allocates nothing for its `source`.
    const hoisted = [];
    const visit = (node) => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        METHODS.has(node.expression.name.text) &&
        node.arguments.length >= 1 &&
        node.arguments.length <= 2 &&
        !node.arguments.some(ts.isSpreadElement) &&
        isLoggerReceiver(node.expression.expression, names)
      ) {
        const line = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1;
        const args = node.arguments.map((a) => ts.visitNode(a, visit));
        if (args.length === 1) args.push(factory.createIdentifier('undefined'));
        const id = factory.createUniqueName('__logSite');
        hoisted.push(
          factory.createVariableStatement(
            undefined,
            factory.createVariableDeclarationList(
              [
                factory.createVariableDeclaration(
                  id,
                  undefined,
                  undefined,
                  freeze(factory, siteLiteral(factory, file, line, functionName(node))),
                ),
              ],
              ts.NodeFlags.Const,
            ),
          ),
        );
        args.push(id);
        return factory.updateCallExpression(node, ts.visitNode(node.expression, visit), node.typeArguments, args);
      }
      return ts.visitEachChild(node, visit, context);
    };
    const out = ts.visitNode(sourceFile, visit);
    if (hoisted.length === 0) return out;
    return factory.updateSourceFile(out, [...hoisted, ...out.statements]);
  };
}

// Nest CLI plugin: `before(options, program)`.
exports.before = (_options, _program) => transformerFactory();
// ts-jest AST transformer.
exports.name = 'simpletuner-log-callsite';
exports.version = '2';
exports.factory = (_tsCompiler, _opts) => transformerFactory();
// Direct use (ts-node hook, tests).
exports.transformerFactory = transformerFactory;
