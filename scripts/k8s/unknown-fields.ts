/**
 * Fields the schemas do not define. The schema validators of `kubernetes-models` accept unknown
 * properties (a misspelt `livenesProbe` passes, and the API server would drop it with at most a
 * warning), so each object is walked along the TypeScript declarations the same packages ship,
 * read with the compiler API: every key must be a property of the declared type.
 */
import * as ts from 'typescript';
import { join } from 'node:path';
import type { K8sObject } from './kustomize-render';
import { objectId } from './kustomize-render';
import { modulePath } from './schema-validate';

const ROOT = join(__dirname, '..', '..');

/**
 * Builds the type checker once for every kind in `sample` (about 3 s: several renders share it)
 * and returns the check for objects of those kinds.
 */
export function unknownFieldCheck(sample: K8sObject[]): (objects: K8sObject[]) => string[] {
  const kinds = [...new Map(sample.map((o) => [`${o.apiVersion} ${o.kind}`, o])).values()];
  // One virtual file declaring a value of each kind's interface (I<Kind>) for the checker to read.
  const source = kinds
    .map((o, i) => `import type { I${o.kind} as T${i} } from '${modulePath(o.apiVersion, o.kind)}';\nexport declare const v${i}: T${i};`)
    .join('\n');
  const file = join(ROOT, '__k8s_types__.ts');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || exists(name);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang));
  const program = ts.createProgram([file], options, host);
  const checker = program.getTypeChecker();
  const unresolved = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
  if (unresolved.length) return () => unresolved.map((m) => `type declarations: ${m}`);

  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
  return (objects) => {
    const problems: string[] = [];
    for (const o of objects) {
      const i = kinds.findIndex((k) => k.apiVersion === o.apiVersion && k.kind === o.kind);
      const symbol = exported.find((s) => s.name === `v${i}`);
      if (!symbol) problems.push(`${objectId(o)}: ${o.apiVersion} ${o.kind} was not in the sample the checker was built for`);
      else walk(checker, o, checker.getTypeOfSymbol(symbol), '', (path) => problems.push(`${objectId(o)}: ${path} is not a field of ${o.kind}`));
    }
    return problems;
  };
}

function walk(checker: ts.TypeChecker, value: unknown, declared: ts.Type, path: string, report: (path: string) => void): void {
  const type = checker.getNonNullableType(declared);
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
    if (element) value.forEach((v, i) => walk(checker, v, element, `${path}[${i}]`, report));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  // IntOrString and the like are unions: a key is known if one object member declares it.
  const members = (type.isUnion() ? type.types : [type]).filter((t) => t.flags & ts.TypeFlags.Object);
  if (members.length === 0) return; // any, unknown: nothing declared to check against
  for (const [key, child] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key;
    const prop = members.map((m) => m.getProperty(key)).find(Boolean);
    if (prop) walk(checker, child, checker.getTypeOfSymbol(prop), here, report);
    else {
      const index = members.map((m) => checker.getIndexTypeOfType(m, ts.IndexKind.String)).find(Boolean);
      if (index) walk(checker, child, index, here, report);
      else report(here);
    }
  }
}
