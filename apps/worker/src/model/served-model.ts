import { Logger } from '@nestjs/common';
import type { TagserveConfig } from '@tagserve/config';
import { materialize } from '@tagserve/dvc-store';
import { TagClassifier } from '@tagserve/model';
import { resolve } from 'node:path';

/** The classifier this worker serves, with the DVC hash that identifies the artifact. */
export abstract class ServedModel {
  abstract readonly classifier: TagClassifier;
  /** The artifact's DVC tree hash (`<md5>.dir`): what is loaded, exactly. */
  abstract readonly version: string;
}

type ModelConfig = Pick<
  TagserveConfig,
  'MODEL_DVC_FILE' | 'DVC_STORE_DIR' | 'MODEL_DIR' | 'ONNX_INTRA_OP_THREADS' | 'ONNX_INTER_OP_THREADS'
>;

/**
 * Materializes the artifact from the DVC store (every checksum verified; a mismatch throws and
 * the worker refuses to start), loads it and runs one warm-up inference, so the first real
 * request does not pay for session initialisation.
 */
export async function loadServedModel(config: ModelConfig, logger: Logger): Promise<ServedModel> {
  const started = Date.now();
  const { out, files, copied } = await materialize({
    dvcFile: resolve(config.MODEL_DVC_FILE),
    storeDir: resolve(config.DVC_STORE_DIR),
    targetDir: resolve(config.MODEL_DIR),
  });
  logger.log({ msg: 'model materialized from DVC store', version: out.md5, files, copied, verified: files });

  const classifier = await TagClassifier.load(resolve(config.MODEL_DIR), {
    intraOpThreads: config.ONNX_INTRA_OP_THREADS,
    interOpThreads: config.ONNX_INTER_OP_THREADS,
  });
  await classifier.warmUp();
  logger.log({ msg: 'model loaded and warmed up', version: out.md5, labels: classifier.labels, ms: Date.now() - started });
  return { classifier, version: out.md5 };
}
