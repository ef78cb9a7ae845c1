import type { EncoderRuntimeOptions, Prediction } from '@tagserve/model/types';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClassifierInfo, InferenceThreadData, PredictMessage, ThreadMessage } from './inference-thread.protocol';

interface Pending {
  resolve: (predictions: Prediction[]) => void;
  reject: (err: Error) => void;
}

/**
 * The classifier running in a worker thread of its own. Inference blocks the thread it runs on
 * for milliseconds at a time; off the main thread, the worker keeps taking, completing and
 * renewing the locks of jobs meanwhile, so the next batch is already there when the model is
 * free. One inference at a time (the batcher's rule), one ONNX intra-op thread by default.
 */
export class ModelThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing = false;
  private failure?: Error;

  private constructor(
    private readonly thread: Worker,
    readonly info: ClassifierInfo,
    onUnexpectedExit: (err: Error) => void,
  ) {
    thread.on('message', (message: ThreadMessage) => this.onMessage(message));
    thread.on('error', (err) => this.fail(new Error(`inference thread crashed: ${err.message}`)));
    thread.on('exit', (code) => {
      if (this.closing) return;
      const err = this.fail(new Error(`inference thread exited with code ${code}`));
      onUnexpectedExit(err);
    });
  }

  /**
   * Starts the thread and resolves once the model is loaded and warmed up; rejects with the
   * load error. `onUnexpectedExit` is told if the thread dies later (the worker cannot serve then).
   */
  static start(
    artifactDir: string,
    runtime: EncoderRuntimeOptions,
    onUnexpectedExit: (err: Error) => void,
    entry = join(__dirname, 'inference-thread.js'),
  ): Promise<ModelThread> {
    const data: InferenceThreadData = { artifactDir, runtime };
    const thread = new Worker(entry, { workerData: data });
    return new Promise((resolve, reject) => {
      // Only our own listeners come off: Worker keeps internal ones (removeAllListeners would break it).
      const detach = () => {
        thread.off('error', onError);
        thread.off('exit', onExit);
        thread.off('message', onMessage);
      };
      const failed = (err: Error) => {
        detach();
        void thread.terminate();
        reject(err);
      };
      const onError = (err: Error) => failed(err);
      const onExit = (code: number) => failed(new Error(`inference thread exited with code ${code} while loading the model`));
      const onMessage = (message: ThreadMessage) => {
        if (message.type !== 'ready') return failed(new Error(message.type === 'loadError' ? message.error : `unexpected first message '${message.type}'`));
        detach();
        resolve(new ModelThread(thread, message.info, onUnexpectedExit));
      };
      thread.on('error', onError);
      thread.on('exit', onExit);
      thread.on('message', onMessage);
    });
  }

  predict(texts: string[]): Promise<Prediction[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage({ id, texts } satisfies PredictMessage);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error('inference thread closed'));
    await this.thread.terminate();
  }

  private onMessage(message: ThreadMessage): void {
    if (message.type !== 'predictions' && message.type !== 'predictError') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.type === 'predictions') pending.resolve(message.predictions);
    else pending.reject(new Error(message.error));
  }

  /** Rejects everything in flight and every later call with `err`. */
  private fail(err: Error): Error {
    this.failure ??= err;
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
    return this.failure;
  }
}
