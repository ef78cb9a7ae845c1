/** One prediction, in the original tagifai response shape. */
export interface Prediction {
  input_text: string;
  predicted_tag: string;
  predicted_probabilities: Record<string, number>;
}

/** Thread and precision settings for the ONNX encoder (exposed through config). */
export interface EncoderRuntimeOptions {
  /** onnxruntime intra-op threads (per inference). */
  intraOpThreads: number;
  /** onnxruntime inter-op threads. */
  interOpThreads: number;
}

/** Embedding block of the head's feature vector. */
export interface EmbeddingFeatureConfig {
  /** 'mean' = masked mean of last_hidden_state; 'sentence' = the model's sentence_embedding. */
  pooling: 'sentence' | 'mean';
  /** Scale applied to the (L2-normalised) embedding before concatenation with tf-idf. */
  weight: number;
  dim: number;
}
