import { Logger } from '@nestjs/common';
import type { TagserveConfig } from '@tagserve/config';
import { materialize } from '@tagserve/dvc-store';
import { TagClassifier } from '@tagserve/model';
import type { Prediction } from '@tagserve/model/types';
import { resolve } from 'node:path';
import type { ClassifierInfo } from './inference-thread.protocol';
import { ModelThread } from './model-thread';
import { stopOnThreadDeath } from './thread-death';

/** The classifier this worker serves, with the DVC hash that identifies the artifact. */
export abstract class ServedModel {
  abstract readonly info: ClassifierInfo;
  /** The artifact's DVC tree hash (`<md5>.dir`): what is loaded, exactly. */
  abstract readonly version: string;
  /** When it finished loading (ISO 8601). */
  abstract readonly loadedAt: string;
  /** One padded inference, in the inference thread. */
  abstract predict(texts: string[]): Promise<Prediction[]>;
  /** The same model on the calling (main) thread, for a lone text when nothing else is waiting. */
  abstract predictHere(texts: string[]): Promise<Prediction[]>;
  abstract close(): Promise<void>;
}

type ModelConfig = Pick<TagserveConfig, 'MODEL_DVC_FILE' | 'DVC_STORE_DIR' | 'MODEL_DIR' | 'ONNX_INTRA_OP_THREADS' | 'ONNX_INTER_OP_THREADS'>;

/**
 * Materializes the artifact from the DVC store (every checksum verified; a mismatch throws and
 * the worker refuses to start), then loads it twice, in the inference thread and on the main
 * thread (for lone texts, see InferenceBatcher; about 40 MiB more), each with a warm-up
 * inference so the first real request does not pay for session initialisation.
 */
export async function loadServedModel(config: ModelConfig, logger: Logger): Promise<ServedModel> {
  const started = Date.now();
  const { out, files, copied } = await materialize({
    dvcFile: resolve(config.MODEL_DVC_FILE),
    storeDir: resolve(config.DVC_STORE_DIR),
    targetDir: resolve(config.MODEL_DIR),
  });
  logger.log({ msg: 'model materialized from DVC store', version: out.md5, files, copied, verified: files });

  const runtime = { intraOpThreads: config.ONNX_INTRA_OP_THREADS, interOpThreads: config.ONNX_INTER_OP_THREADS };
  const artifactDir = resolve(config.MODEL_DIR);
  // Both copies load at once: the thread's in its own isolate, this one here.
  const [here, thread] = await Promise.all([
    (async () => {
      const classifier = await TagClassifier.load(artifactDir, runtime);
      await classifier.warmUp();
      return classifier;
    })(),
    ModelThread.start(artifactDir, runtime, stopOnThreadDeath(logger)),
  ]);
  logger.log({ msg: 'model loaded and warmed up', version: out.md5, labels: thread.info.labels, ms: Date.now() - started });
  return {
    info: thread.info,
    version: out.md5,
    loadedAt: new Date().toISOString(),
    predict: (texts) => thread.predict(texts),
    predictHere: (texts) => here.predict(texts),
    close: async () => {
      await thread.close();
      await here.dispose();
    },
  };
}
