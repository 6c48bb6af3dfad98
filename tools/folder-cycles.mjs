// Fails when two folders of src/ import each other, directly or round a loop: import-x/no-cycle sees files, and a
// folder cycle can exist without a file cycle. `node tools/folder-cycles.mjs -v` also prints the folder graph.
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..', 'src');
const folderOf = (file) => {
  const parts = path.relative(root, file).split(path.sep);
  return parts.length > 1 ? parts[0] : '(root)';
};

const edges = new Map();
for (const entry of fs.readdirSync(root, { recursive: true })) {
  const file = path.join(root, entry);
  if (!file.endsWith('.ts')) continue;
  const from = folderOf(file);
  for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), spec);
    const to =
      fs.existsSync(target) && fs.statSync(target).isDirectory()
        ? folderOf(path.join(target, 'index.ts'))
        : folderOf(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from).add(to);
  }
}

// Tarjan's strongly connected components: any component of more than one folder is a cycle.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
let counter = 0;
const visit = (v) => {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1) cycles.push(component.sort());
};
for (const v of edges.keys()) if (!index.has(v)) visit(v);

if (process.argv.includes('-v')) {
  for (const [from, to] of [...edges].sort()) console.log(`${from} -> ${[...to].sort().join(', ')}`);
}
for (const c of cycles) console.error(`folder cycle: ${c.join(' <-> ')}`);
process.exit(cycles.length > 0 ? 1 : 0);
