import type { QueueConnection } from './queue-connection.service';
import { ReplicaAcks } from './replica-acks';

/** A connection whose WAITs are answered by hand, in order. */
function fakeConnection() {
  const waits: Array<{ resolve: (acks: number) => void; reject: (err: Error) => void }> = [];
  const client = { wait: jest.fn(() => new Promise<number>((resolve, reject) => waits.push({ resolve, reject }))) };
  const connection = { generation: 0, client: jest.fn(async () => client) };
  return { connection, client, waits };
}

function replicaAcks(connection: ReturnType<typeof fakeConnection>['connection']): ReplicaAcks {
  const config = { get: (key: string) => ({ QUEUE_ADD_REPLICA_ACKS: 1, QUEUE_ADD_REPLICA_ACK_MS: 250 })[key] };
  return new ReplicaAcks(connection as unknown as QueueConnection, config as never);
}

const flush = () => new Promise((r) => setImmediate(r));

describe('ReplicaAcks', () => {
  it('confirms when the replicas acknowledge, with WAIT <wanted> <timeout>', async () => {
    const { connection, client, waits } = fakeConnection();
    const confirmed = replicaAcks(connection).confirm(0);
    await flush();
    waits[0].resolve(1);
    expect(await confirmed).toBe(true);
    expect(client.wait).toHaveBeenCalledWith(1, 250);
  });

  it('runs one WAIT at a time: callers arriving meanwhile share the next one (it covers their adds)', async () => {
    const { connection, client, waits } = fakeConnection();
    const acks = replicaAcks(connection);
    const first = acks.confirm(0);
    await flush();
    const second = acks.confirm(0);
    const third = acks.confirm(0);
    await flush();
    expect(client.wait).toHaveBeenCalledTimes(1);
    waits[0].resolve(1);
    expect(await first).toBe(true);
    await flush();
    expect(client.wait).toHaveBeenCalledTimes(2);
    waits[1].resolve(0); // too few: both that waited for it are unconfirmed
    expect(await Promise.all([second, third])).toEqual([false, false]);
  });

  it('is unconfirmed on an error, and when the connection was re-established since the add', async () => {
    const { connection, waits } = fakeConnection();
    const acks = replicaAcks(connection);
    const failed = acks.confirm(0);
    await flush();
    waits[0].reject(new Error('Connection is closed.'));
    expect(await failed).toBe(false);

    const reconnected = acks.confirm(0);
    await flush();
    connection.generation = 1; // the WAIT may have run on a new connection, to a new master
    waits[1].resolve(1);
    expect(await reconnected).toBe(false);
  });
});
