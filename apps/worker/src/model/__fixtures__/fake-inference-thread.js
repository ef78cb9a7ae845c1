// A stand-in for inference-thread.ts that speaks the same protocol, for model-thread.spec.ts.
// workerData.artifactDir picks the behaviour: 'ok', 'load-error', 'crash-on-load', 'crash-on-predict'.
const { parentPort, workerData } = require('node:worker_threads');

const mode = workerData.artifactDir;
if (mode === 'load-error') {
  parentPort.postMessage({ type: 'loadError', error: 'encoder weights not found' });
  parentPort.close();
} else if (mode === 'crash-on-load') {
  throw new Error('boom while loading');
} else {
  parentPort.on('message', ({ id, texts }) => {
    if (mode === 'crash-on-predict') process.exit(3);
    if (texts.includes('fail')) return parentPort.postMessage({ type: 'predictError', id, error: 'cannot predict fail' });
    setTimeout(
      () =>
        parentPort.postMessage({
          type: 'predictions',
          id,
          predictions: texts.map((t) => ({ input_text: t, predicted_tag: 'mlops', predicted_probabilities: { mlops: 1 } })),
        }),
      5,
    );
  });
  parentPort.postMessage({ type: 'ready', info: { labels: ['mlops'], args: { a: 1 }, performance: { f1: 1 } } });
}
