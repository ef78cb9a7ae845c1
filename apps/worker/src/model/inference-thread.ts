import { TagClassifier } from '@tagserve/model';
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceThreadData, PredictMessage, ThreadMessage } from './inference-thread.protocol';

/**
 * The inference thread (see ModelThread): loads the classifier, warms it up, then answers one
 * predict message at a time. The model blocks whatever thread it runs on; here that is not the
 * thread BullMQ needs for taking and completing jobs.
 */
const port = parentPort;
if (!port) throw new Error('inference-thread must run as a worker thread');
const post = (message: ThreadMessage) => port.postMessage(message);

async function serve({ artifactDir, runtime }: InferenceThreadData): Promise<void> {
  let classifier: TagClassifier;
  try {
    classifier = await TagClassifier.load(artifactDir, runtime);
    await classifier.warmUp();
  } catch (err) {
    post({ type: 'loadError', error: (err as Error).message });
    port!.close();
    return;
  }
  port!.on('message', ({ id, texts }: PredictMessage) => {
    classifier.predict(texts).then(
      (predictions) => post({ type: 'predictions', id, predictions }),
      (err: Error) => post({ type: 'predictError', id, error: err.message }),
    );
  });
  post({ type: 'ready', info: { labels: classifier.labels, args: classifier.args, performance: classifier.performance } });
}

void serve(workerData as InferenceThreadData);
