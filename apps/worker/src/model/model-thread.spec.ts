import { join } from 'node:path';
import { ModelThread } from './model-thread';

const FAKE = join(__dirname, '__fixtures__', 'fake-inference-thread.js');
const runtime = { intraOpThreads: 1, interOpThreads: 1 };

describe('ModelThread (protocol with the inference thread)', () => {
  let thread: ModelThread | undefined;
  afterEach(async () => {
    await thread?.close();
    thread = undefined;
  });

  it('starts once the model is ready, reports its info and answers each call with its own predictions', async () => {
    const onExit = jest.fn();
    thread = await ModelThread.start('ok', runtime, onExit, FAKE);
    expect(thread.info).toEqual({ labels: ['mlops'], args: { a: 1 }, performance: { f1: 1 } });
    const [a, b] = await Promise.all([thread.predict(['x', 'y']), thread.predict(['z'])]);
    expect(a.map((p) => p.input_text)).toEqual(['x', 'y']);
    expect(b.map((p) => p.input_text)).toEqual(['z']);
    await expect(thread.predict(['fail'])).rejects.toThrow('cannot predict fail');
    expect(await thread.predict(['after'])).toHaveLength(1); // a failed inference does not break the thread
    await thread.close();
    expect(onExit).not.toHaveBeenCalled(); // closing is not a crash
  });

  it('rejects start with the load error', async () => {
    await expect(ModelThread.start('load-error', runtime, jest.fn(), FAKE)).rejects.toThrow('encoder weights not found');
    await expect(ModelThread.start('crash-on-load', runtime, jest.fn(), FAKE)).rejects.toThrow('boom while loading');
  });

  it('a thread that dies rejects what is in flight and every later call, and says so once', async () => {
    const onExit = jest.fn();
    thread = await ModelThread.start('crash-on-predict', runtime, onExit, FAKE);
    await expect(thread.predict(['x'])).rejects.toThrow('inference thread exited with code 3');
    await expect(thread.predict(['y'])).rejects.toThrow('inference thread exited with code 3');
    expect(onExit).toHaveBeenCalledTimes(1);
    expect(onExit.mock.calls[0][0].message).toContain('code 3');
  });
});
