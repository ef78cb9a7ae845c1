import { parseReply, replyChannel } from './prediction-reply';

describe('prediction replies', () => {
  it('names one channel per gateway under the queue prefix', () => {
    expect(replyChannel('tagserve', 'abc123')).toBe('tagserve:predictions:replies:abc123');
  });

  it('parses results and failures', () => {
    const result = { predictions: [], worker: 'w', modelVersion: 'v', timings: { queueMs: 1, batchWaitMs: 0, modelMs: 1 } };
    expect(parseReply(JSON.stringify({ jobId: 'a-1', result }))).toEqual({ jobId: 'a-1', result });
    expect(parseReply(JSON.stringify({ jobId: 'a-2', failedReason: 'boom' }))).toEqual({ jobId: 'a-2', failedReason: 'boom' });
  });

  it.each(['not json', '42', 'null', '{"result":{"predictions":[]}}', '{"jobId":"a-1"}', '{"jobId":"a-1","result":{}}', '{"jobId":7,"failedReason":"x"}'])(
    'ignores a malformed message: %s',
    (message) => expect(parseReply(message)).toBeUndefined(),
  );
});
