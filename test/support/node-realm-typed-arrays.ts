/*
 * Jest setup file. onnxruntime-node hands back typed arrays from Node's main realm, but jest runs
 * each test file in a vm context with its own Float32Array & co., so onnxruntime-common's
 * `instanceof` checks fail ("A float32 tensor's data must be type of Float32Array"). Tests that run
 * the real model therefore use the main realm's constructors; this runs before any test file loads.
 */
import * as vm from 'node:vm';

for (const name of [
  'ArrayBuffer',
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
]) {
  (globalThis as Record<string, unknown>)[name] = vm.runInThisContext(name);
}
